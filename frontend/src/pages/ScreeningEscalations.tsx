import { Card, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Escalation } from '../api/screening';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';

// ScreeningEscalations is the district supervisor's list of screening alerts no school
// acknowledged in time (逾期预警): school, reason and times only — never the student.
export default function ScreeningEscalations() {
  const { t } = useTranslation();
  const { current } = useSession();
  const district = current?.district_id;
  const list = useQuery({
    queryKey: ['screening-escalations', district],
    enabled: !!district,
    refetchInterval: 60_000,
    queryFn: async () => (await api<{ items: Escalation[] }>('GET', `/api/v1/districts/${district}/screening-escalations`)).items,
  });
  const time = (v?: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');
  return (
    <Card title={t('menu.screeningEscalations')}>
      <Typography.Paragraph type="secondary">{t('screening.escalation.hint')}</Typography.Paragraph>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="escalations-table"
        rowKey="alert_id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: t('screening.escalation.none') }}
        columns={[
          { title: t('screening.campaign.school'), dataIndex: 'school_name' },
          { title: t('screening.alert.reason'), dataIndex: 'reason', render: (v: string) => <Tag color={v === 'critical_item' ? 'red' : 'orange'}>{t(`screening.alert.reasonValue.${v}`)}</Tag> },
          { title: t('screening.alert.raisedAt'), dataIndex: 'created_at', render: time },
          { title: t('screening.alert.due'), dataIndex: 'due_at', render: time },
          { title: t('screening.escalation.escalatedAt'), dataIndex: 'escalated_at', render: time },
          {
            title: t('screening.alert.status'),
            dataIndex: 'acknowledged_at',
            render: (v?: string | null) => (v ? <Tag color="green">{t('screening.escalation.acknowledgedAt', { time: time(v) })}</Tag> : <Tag color="red">{t('screening.alert.pending')}</Tag>),
          },
        ]}
      />
    </Card>
  );
}
