import { useState } from 'react';
import { Button, Card, Table, Tag } from 'antd';
import { AlertOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { EmergencyAccessDialog, EmergencyDrawer, type EmergencyGrant } from './EmergencyAccess';
import { ClientEmergencyRequest } from './ClientFileEmergency';

export interface Warning {
  case_file_id: string;
  student_number: string;
  student_name: string;
  homeroom_name: string;
  risk_tier: string;
  status: string;
  last_contact_at: string | null;
  days_since_contact: number | null;
}

export const tierColor: Record<string, string> = { none: 'default', watch: 'blue', elevated: 'gold', high: 'orange', crisis: 'red' };

// WarningList: students at tier watch or above, highest first, then longest without
// contact. Counselors and school leaders; no notes, no reasons. A leader may open one
// file by emergency access (紧急查阅): audited, notified and reviewed.
export default function WarningList() {
  const { t } = useTranslation();
  const { current } = useSession();
  const school = current?.school_id;
  const base = `/api/v1/schools/${school}`;
  const leader = current?.role === 'school_leader';
  const [asking, setAsking] = useState<Warning | null>(null);
  const [grant, setGrant] = useState<EmergencyGrant | null>(null);
  const list = useQuery({
    queryKey: ['warning-list', school],
    enabled: !!school,
    queryFn: () => api<{ items: Warning[] }>('GET', `/api/v1/schools/${school}/warning-list`),
  });
  return (
    <Card title={t('menu.warningList')}>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="warning-table"
        rowKey="case_file_id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: t('caseFile.tier'), dataIndex: 'risk_tier', render: (v: string) => <Tag color={tierColor[v]}>{t(`caseFile.tierValue.${v}`)}</Tag> },
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'student_name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('caseFile.status'), dataIndex: 'status', render: (v: string) => t(`caseFile.statusValue.${v}`) },
          {
            title: t('caseFile.lastContact'),
            dataIndex: 'days_since_contact',
            render: (d: number | null) => (d === null ? t('caseFile.never') : t('caseFile.days', { count: d })),
          },
          ...(leader
            ? [{
                title: t('common.actions'),
                key: 'emergency',
                render: (_: unknown, w: Warning) => (
                  <Button data-testid="emergency-open" size="small" danger icon={<AlertOutlined />} onClick={() => setAsking(w)}>
                    {t('emergency.action')}
                  </Button>
                ),
              }]
            : []),
        ]}
      />
      {leader && (
        <>
          <EmergencyAccessDialog base={base} caseFileId={asking?.case_file_id ?? null} student={asking?.student_name}
            onClose={() => setAsking(null)} onGranted={(g) => { setAsking(null); setGrant(g); }} />
          <EmergencyDrawer base={base} grant={grant} onClose={() => setGrant(null)} />
          <ClientEmergencyRequest base={base} />
        </>
      )}
    </Card>
  );
}
