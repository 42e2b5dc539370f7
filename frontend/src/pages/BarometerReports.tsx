import { Card, Table, Tag } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { moodColor, type BarometerReport } from './Barometer';

// BarometerReports is the school's barometer for counselors and leaders: each homeroom's
// weekly mood and concerns, without names (a named student is in the intake queue).
export default function BarometerReports() {
  const { t } = useTranslation();
  const { current } = useSession();
  const list = useQuery({
    queryKey: ['barometer', current?.school_id],
    queryFn: () => api<{ items: BarometerReport[] }>('GET', `/api/v1/schools/${current?.school_id}/barometer?weeks=8`),
  });
  return (
    <Card title={t('barometer.reports')}>
      <ProblemAlert error={list.error} />
      <Table<BarometerReport>
        data-testid="barometer-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        columns={[
          { title: t('barometer.weekOf'), dataIndex: 'week_start' },
          { title: t('barometer.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('barometer.mood'), dataIndex: 'mood', render: (m: number) => <Tag color={moodColor[m]}>{t(`barometer.moodValue.${m}`)}</Tag> },
          { title: t('barometer.concerns'), dataIndex: 'concerns', render: (cs: string[]) => cs.map((c) => <Tag key={c}>{t(`barometer.concernValue.${c}`)}</Tag>) },
          { title: t('barometer.named'), dataIndex: 'named', render: (n: boolean) => (n ? <Tag color="purple">{t('barometer.namedToIntake')}</Tag> : '') },
        ]}
      />
    </Card>
  );
}
