import { useState } from 'react';
import { Alert, Button, Card, Descriptions, Drawer, Empty, Input, Space, Tag, Timeline, Typography } from 'antd';
import { AlertOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import ProblemAlert from '../components/ProblemAlert';
import { EmergencyAccessDialog, remaining, useGrantReading, type EmergencyGrant } from './EmergencyAccess';

export interface ClientReading {
  grant: EmergencyGrant;
  client_file: {
    id: string;
    client_kind: string;
    name: string;
    contact: string;
    status: string;
    sessions?: { id: string; occurred_at: string; channel: string; duration_minutes: number; summary: string }[];
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// validFileNumber tells whether a file number (the client file's id) is well formed.
export function validFileNumber(v: string): boolean {
  return uuidPattern.test(v.trim());
}

// ClientEmergencyRequest lets a school leader open a staff or guardian client's file by
// emergency access. The leader never sees a list of these files: the file number comes
// from the counselors or the crisis team.
export function ClientEmergencyRequest({ base }: { base: string }) {
  const { t } = useTranslation();
  const [number, setNumber] = useState('');
  const [asking, setAsking] = useState<string | null>(null);
  const [grant, setGrant] = useState<EmergencyGrant | null>(null);
  const ok = validFileNumber(number);
  return (
    <Card size="small" title={t('emergency.clientAction')} style={{ marginTop: 16 }}>
      <Typography.Paragraph type="secondary">{t('emergency.clientIntro')}</Typography.Paragraph>
      <Space.Compact style={{ width: '100%', maxWidth: 560 }}>
        <Input data-testid="client-emergency-number" placeholder={t('emergency.clientFileNumber')} value={number}
          status={number && !ok ? 'error' : undefined} onChange={(e) => setNumber(e.target.value)} />
        <Button data-testid="client-emergency-open" danger icon={<AlertOutlined />} disabled={!ok} onClick={() => setAsking(number.trim().toLowerCase())}>
          {t('emergency.action')}
        </Button>
      </Space.Compact>
      <EmergencyAccessDialog base={base} files="client-files" caseFileId={asking} onClose={() => setAsking(null)}
        onGranted={(g) => { setAsking(null); setNumber(''); setGrant(g); }} />
      <ClientEmergencyDrawer base={base} grant={grant} onClose={() => setGrant(null)} />
    </Card>
  );
}

// ClientEmergencyDrawer shows, read-only, the client's file of a grant with a countdown
// to its expiry: who the client is and the sessions' summaries (the counselors' notes
// are never part of an emergency reading). Once expired it shows nothing of the file.
export function ClientEmergencyDrawer({ base, grant, onClose }: { base: string; grant: EmergencyGrant | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { now, reading, end, refused, expired, data } = useGrantReading<ClientReading>(base, grant, 'client-file', onClose);
  return (
    <Drawer open={!!grant} width={640} onClose={onClose} destroyOnHidden
      title={<Space><Tag color="red">{t('emergency.readOnly')}</Tag>{data?.client_file.name}</Space>}
      extra={grant && !expired && (
        <Space>
          <Tag data-testid="client-emergency-countdown" color="orange">{t('emergency.remaining', { time: remaining(grant.expires_at, now) })}</Tag>
          <Button size="small" danger loading={end.isPending} onClick={() => end.mutate()}>{t('emergency.end')}</Button>
        </Space>
      )}
    >
      {expired ? (
        <Alert data-testid="client-emergency-expired" type="error" showIcon message={t('emergency.expired')} description={refused ? (reading.error as Error).message : undefined} />
      ) : (
        <ProblemAlert error={reading.error} />
      )}
      {data && (
        <div data-testid="client-emergency-reading">
          <Descriptions size="small" column={2} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t('clientFile.kind')}>{t(`clientFile.kindValue.${data.client_file.client_kind}`)}</Descriptions.Item>
            <Descriptions.Item label={t('clientFile.contact')}>{data.client_file.contact || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('emergency.expiresAt')}>{dayjs(data.grant.expires_at).format('YYYY-MM-DD HH:mm:ss')}</Descriptions.Item>
          </Descriptions>
          <Typography.Paragraph type="secondary">{t('emergency.notesHidden')}</Typography.Paragraph>
          {(data.client_file.sessions ?? []).length === 0 && <Empty description={t('caseFile.empty')} />}
          <Timeline items={(data.client_file.sessions ?? []).map((s) => ({
            children: (
              <div data-testid="client-emergency-session">
                <Space><strong>{dayjs(s.occurred_at).format('YYYY-MM-DD HH:mm')}</strong><Tag>{t(`caseFile.channelValue.${s.channel}`)}</Tag><span>{s.duration_minutes}′</span></Space>
                <Typography.Paragraph style={{ margin: '4px 0' }}>{s.summary}</Typography.Paragraph>
              </div>
            ),
          }))} />
        </div>
      )}
    </Drawer>
  );
}
