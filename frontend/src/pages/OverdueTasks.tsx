import { Card, Empty, List, Space, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { countByKind, groupBySchool, type OverdueKind, type OverdueTask } from './programs/termplan';

const kindColor: Record<OverdueKind, string> = { term_plan_missing: 'orange', indicator_overdue: 'gold', indicator_missed: 'red', term_summary_missing: 'purple' };

// OverdueTasks is the district's list of overdue tasks per school (逾期任务): term plans
// not submitted by their deadline, indicators past their planned dates or missed, term
// summaries not submitted.
export default function OverdueTasks() {
  const { t } = useTranslation();
  const { current } = useSession();
  const q = useQuery({
    queryKey: ['overdue-tasks', current?.district_id],
    queryFn: () => api<{ today: string; items: OverdueTask[] }>('GET', `/api/v1/districts/${current?.district_id}/overdue-tasks`),
  });
  const items = q.data?.items ?? [];
  const counts = countByKind(items);
  return (
    <Card title={t('overdue.title')} extra={q.data && <Typography.Text type="secondary">{t('programs.asOf', { date: q.data.today })}</Typography.Text>}>
      <ProblemAlert error={q.error} />
      <Space style={{ marginBottom: 16 }} wrap>
        {(Object.keys(counts) as OverdueKind[]).map((k) => <Tag key={k} color={kindColor[k]}>{t(`overdue.kind.${k}`)}：{counts[k]}</Tag>)}
      </Space>
      {!q.isLoading && items.length === 0 && <Empty description={t('overdue.none')} />}
      <List
        data-testid="overdue-schools"
        loading={q.isLoading}
        dataSource={groupBySchool(items)}
        renderItem={(g) => (
          <List.Item data-testid="overdue-school" data-school={g.school_name}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text strong>{g.school_name}（{g.tasks.length}）</Typography.Text>
              <Table<OverdueTask>
                size="small"
                pagination={false}
                rowKey={(x) => `${x.kind}/${x.plan_id ?? ''}/${x.term_id}/${x.indicator_code}`}
                dataSource={g.tasks}
                onRow={(x) => ({ 'data-testid': 'overdue-task', 'data-kind': x.kind }) as React.HTMLAttributes<HTMLElement>}
                columns={[
                  { title: t('overdue.what'), key: 'kind', render: (_, x) => <Tag color={kindColor[x.kind]}>{t(`overdue.kind.${x.kind}`)}</Tag> },
                  { title: t('overdue.subject'), key: 'subject', render: (_, x) => [x.plan_title || x.term_name, x.indicator_name].filter(Boolean).join(' · ') },
                  { title: t('overdue.dueOn'), dataIndex: 'due_on' },
                  { title: t('overdue.days'), dataIndex: 'days_overdue', render: (n: number) => t('overdue.nDays', { n }) },
                ]}
              />
            </Space>
          </List.Item>
        )}
      />
    </Card>
  );
}
