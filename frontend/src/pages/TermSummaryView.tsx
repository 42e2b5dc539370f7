import { Descriptions, Space, Table, Tag, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { exportPath, summaryStatusColor, type TermSummary } from './programs/summary';

// TermSummaryFigures shows the figures of a summary and its export links.
export default function TermSummaryFigures({ summary }: { summary: TermSummary }) {
  const { t } = useTranslation();
  const f = summary.figures;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Descriptions size="small" bordered column={1}>
        <Descriptions.Item label={t('summary.status')}>
          <Tag data-testid="summary-status" data-status={summary.status} color={summaryStatusColor[summary.status]}>{t(`summary.statusValue.${summary.status}`)}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('programs.term')}>{`${f.term_name}（${f.starts_on} – ${f.ends_on}）`}</Descriptions.Item>
        <Descriptions.Item label={t('summary.barometer')}>{t('summary.barometerValue', { n: f.barometer_reports, named: f.barometer_named })}</Descriptions.Item>
        {summary.review_comment && <Descriptions.Item label={t('summary.reviewComment')}>{summary.review_comment}</Descriptions.Item>}
        {summary.stored && (
          <Descriptions.Item label={t('summary.export')}>
            <Space>
              <a data-testid="summary-pdf" href={exportPath(summary.school_id, summary.term_id, 'pdf')}><DownloadOutlined /> PDF</a>
              <a data-testid="summary-xlsx" href={exportPath(summary.school_id, summary.term_id, 'xlsx')}><DownloadOutlined /> XLSX</a>
            </Space>
          </Descriptions.Item>
        )}
      </Descriptions>
      <Table rowKey="type" size="small" pagination={false} dataSource={f.activities} title={() => t('summary.activities')}
        columns={[
          { title: t('programs.activityType'), dataIndex: 'type', render: (v: string) => t(`programs.typeValue.${v}`) },
          { title: t('summary.count'), dataIndex: 'count' },
          { title: t('programs.attendance'), dataIndex: 'attendance' },
          { title: t('programs.hours'), dataIndex: 'hours' },
        ]} />
      <Table rowKey="category" size="small" pagination={false} dataSource={f.sessions} title={() => t('summary.sessions')}
        columns={[{ title: t('summary.category'), dataIndex: 'category' }, { title: t('summary.count'), dataIndex: 'sessions' }]} />
      <Typography.Text type="secondary">{t('summary.countsOnly')}</Typography.Text>
    </Space>
  );
}
