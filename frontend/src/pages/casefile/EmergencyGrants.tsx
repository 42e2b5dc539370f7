import { Table, Tag } from 'antd';
import dayjs from 'dayjs';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import type { EmergencyGrant } from '../EmergencyAccess';

// EmergencyGrants shows the counselor who opened this case file by emergency access,
// when and until when, and whether the district has reviewed it.
export default function EmergencyGrants({ base, id, files = 'case-files' }: { base: string; id: string; files?: 'case-files' | 'client-files' }) {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: ['emergency-grants', id],
    queryFn: () => api<{ items: EmergencyGrant[] }>('GET', `${base}/${files}/${id}/emergency-access`),
  });
  const time = (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');
  return (
    <>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="emergency-grants"
        size="small"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        locale={{ emptyText: t('emergency.none') }}
        columns={[
          { title: t('emergency.grantee'), dataIndex: 'grantee_name' },
          { title: t('emergency.role'), dataIndex: 'grantee_role', render: (r: string) => t(`role.${r}`) },
          { title: t('emergency.grantedAt'), dataIndex: 'granted_at', render: time },
          { title: t('emergency.expiresAt'), dataIndex: 'expires_at', render: time },
          { title: t('emergency.reads'), dataIndex: 'read_count' },
          {
            title: t('emergency.review'),
            dataIndex: 'verdict',
            render: (v: string | null) => (v ? <Tag color={v === 'justified' ? 'green' : 'red'}>{t(`emergency.verdictValue.${v}`)}</Tag> : <Tag>{t('emergency.pending')}</Tag>),
          },
        ]}
      />
    </>
  );
}
