import { useState } from 'react';
import { Button, Card, Descriptions, Drawer, Space, Table, Tag, Typography } from 'antd';
import { ArrowLeftOutlined, DownloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { countByStatus, formatCell, statusColor, type Cell, type Matrix, type Row, type SchoolPlanDetail } from './programs/data';

// CellTag shows one compliance cell: status colour, value against target.
export function CellTag({ cell }: { cell: Cell | undefined }) {
  const { t } = useTranslation();
  if (!cell) return null;
  return (
    <Tag data-testid="compliance-cell" data-status={cell.status} data-code={cell.code} color={statusColor[cell.status]}>
      {t(`programs.statusValue.${cell.status}`)} · {formatCell(cell, t('programs.yes'), t('programs.no'))}
    </Tag>
  );
}

// Compliance is the district's matrix of a plan (达标情况): schools × indicators with the
// status computed from the data; a row opens the school's evidence (drill-down).
export default function Compliance() {
  const { t } = useTranslation();
  const { current } = useSession();
  const navigate = useNavigate();
  const { planId } = useParams();
  const [school, setSchool] = useState<Row | null>(null);
  const matrix = useQuery({
    queryKey: ['compliance', planId],
    queryFn: () => api<Matrix>('GET', `/api/v1/districts/${current?.district_id}/plans/${planId}/compliance`),
  });
  const detail = useQuery({
    queryKey: ['school-plan', school?.school_id, planId],
    enabled: !!school,
    queryFn: () => api<SchoolPlanDetail>('GET', `/api/v1/schools/${school?.school_id}/plans/${planId}`),
  });
  const plan = matrix.data?.plan;
  const counts = countByStatus(matrix.data?.rows ?? []);
  return (
    <Card
      title={<Space><Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate('/district-plans')} />{plan?.title ?? t('programs.compliance')}</Space>}
      extra={matrix.data && <Typography.Text type="secondary">{t('programs.asOf', { date: matrix.data.today })}</Typography.Text>}
    >
      <ProblemAlert error={matrix.error} />
      <Space style={{ marginBottom: 16 }} wrap>
        {(['met', 'on_track', 'at_risk', 'missed'] as const).map((s) => (
          <Tag key={s} color={statusColor[s]}>{t(`programs.statusValue.${s}`)}：{counts[s]}</Tag>
        ))}
      </Space>
      <Table<Row>
        data-testid="compliance-matrix"
        rowKey="school_id"
        loading={matrix.isLoading}
        dataSource={matrix.data?.rows ?? []}
        pagination={false}
        scroll={{ x: true }}
        onRow={(r) => ({ 'data-testid': 'compliance-row', 'data-school': r.school_name, onClick: () => setSchool(r), style: { cursor: 'pointer' } }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('programs.school'), dataIndex: 'school_name', fixed: 'left' },
          ...(plan?.indicators ?? []).map((ind) => ({
            title: ind.name,
            key: ind.code,
            render: (_: unknown, r: Row) => <CellTag cell={r.cells.find((c) => c.code === ind.code)} />,
          })),
        ]}
      />
      <Drawer open={!!school} width={720} title={school?.school_name} onClose={() => setSchool(null)}>
        <ProblemAlert error={detail.error} />
        {detail.data && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Descriptions size="small" column={1} bordered>
              {detail.data.plan.indicators.map((ind) => (
                <Descriptions.Item key={ind.code} label={ind.name}>
                  <CellTag cell={detail.data.cells.find((c) => c.code === ind.code)} />
                  {detail.data.evidence.filter((e) => e.indicator_code === ind.code).map((e) => (
                    <a key={e.id} href={`/api/v1/schools/${school?.school_id}/evidence/${e.id}/content`} download={e.filename}><DownloadOutlined /> {e.title}</a>
                  ))}
                </Descriptions.Item>
              ))}
            </Descriptions>
            <Table
              data-testid="drill-activities"
              rowKey="id"
              size="small"
              pagination={false}
              dataSource={detail.data.activities}
              columns={[
                { title: t('programs.heldOn'), dataIndex: 'held_on' },
                { title: t('programs.activityType'), dataIndex: 'type', render: (v: string) => t(`programs.typeValue.${v}`) },
                { title: t('programs.activityTitle'), dataIndex: 'title' },
                { title: t('programs.attendance'), key: 'att', render: (_: unknown, a) => `${a.attendance} / ${a.audience_size}` },
                {
                  title: t('programs.evidence'), key: 'ev',
                  render: (_: unknown, a) => (
                    <Space direction="vertical" size={0}>
                      {a.evidence.map((e) => (
                        <a key={e.id} href={`/api/v1/schools/${school?.school_id}/evidence/${e.id}/content`} download={e.filename}><DownloadOutlined /> {e.title}</a>
                      ))}
                    </Space>
                  ),
                },
              ]}
            />
          </Space>
        )}
      </Drawer>
    </Card>
  );
}
