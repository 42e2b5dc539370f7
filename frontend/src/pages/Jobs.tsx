import { Card, Progress, Space, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { jobCounts, jobStatusColor, type JobRun } from './rollups/data';

// Jobs is the admins' job status page (后台任务): queued, running, done and failed runs of
// the district's background jobs (and the system's), with progress and the failure reason.
export default function Jobs() {
  const { t } = useTranslation();
  const { current } = useSession();
  const runs = useQuery({
    queryKey: ['jobs', current?.district_id],
    queryFn: () => api<{ items: JobRun[] }>('GET', `/api/v1/districts/${current?.district_id}/jobs`),
    refetchInterval: 5000,
  });
  const items = runs.data?.items ?? [];
  const counts = jobCounts(items);
  return (
    <Card title={t('rollups.jobs.title')}>
      <ProblemAlert error={runs.error} />
      <Space style={{ marginBottom: 16 }} wrap>
        {(['queued', 'running', 'done', 'failed'] as const).map((s) => (
          <Tag key={s} color={jobStatusColor[s]}>{t(`rollups.jobs.status.${s}`)}：{counts[s]}</Tag>
        ))}
      </Space>
      <Table<JobRun>
        data-testid="job-table"
        rowKey="id"
        size="small"
        loading={runs.isLoading}
        dataSource={items}
        pagination={{ pageSize: 50 }}
        onRow={(r) => ({ 'data-testid': 'job-row', 'data-status': r.status }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('rollups.jobs.type'), dataIndex: 'task_type', render: (v: string) => t(`rollups.jobs.types.${v.replace(':', '_')}`, { defaultValue: v }) },
          { title: t('rollups.jobs.statusCol'), dataIndex: 'status', render: (v: JobRun['status']) => <Tag color={jobStatusColor[v]}>{t(`rollups.jobs.status.${v}`)}</Tag> },
          {
            title: t('rollups.jobs.progress'), dataIndex: 'progress', width: 180,
            render: (v: number, r) => <Progress percent={r.status === 'queued' ? 0 : v} size="small" status={r.status === 'failed' ? 'exception' : r.status === 'running' ? 'active' : undefined} />,
          },
          { title: t('rollups.jobs.attempts'), dataIndex: 'attempts' },
          { title: t('rollups.jobs.started'), dataIndex: 'started_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
          { title: t('rollups.jobs.finished'), dataIndex: 'finished_at', render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm:ss') : '') },
          { title: t('rollups.jobs.reason'), dataIndex: 'error', render: (v: string) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : '') },
        ]}
      />
    </Card>
  );
}
