import { useEffect, useState } from 'react';
import { Alert, Button, type ButtonProps, Descriptions, Drawer, Empty, Form, Input, Modal, Space, Tag, Timeline, Typography } from 'antd';
import { WarningOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { MFAStatus } from '../api/types';
import { useTranslation } from 'react-i18next';
import { api, isStatus } from '../api/client';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { tierColor } from './WarningList';
import { useConcernCategories } from './casefile/categories';

export interface EmergencyGrant {
  id: string;
  school_id: string;
  case_file_id: string | null;
  client_file_id?: string | null;
  grantee_id: string;
  grantee_name: string;
  grantee_role: string;
  granted_at: string;
  expires_at: string;
  ended_at: string | null;
  active: boolean;
  read_count: number;
  last_read_at: string | null;
  verdict: string | null;
  reviewed_at: string | null;
}

interface Reading {
  grant: EmergencyGrant;
  case_file: { id: string; student_name: string; student_number: string; homeroom_name: string; status: string; risk_tier: string };
  sessions: {
    id: string;
    occurred_at: string;
    channel: string;
    categories: string[];
    duration_minutes: number;
    summary: string;
    next_steps: string;
    note: string;
    addenda: { id: string; body: string; created_at: string }[];
  }[];
  risk_tiers: { id: string; from_tier: string; to_tier: string; reason: string; changed_at: string }[];
}

// remaining formats the time left until an instant as m:ss (0:00 once past).
export function remaining(until: string, now: number): string {
  const s = Math.max(0, Math.floor((dayjs(until).valueOf() - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// EmergencyAccessDialog asks for a reason and the user's password, warning that the use
// is audited, notified to the counselors and reviewed by the district.
export function EmergencyAccessDialog({ base, caseFileId, student, onClose, onGranted, files = 'case-files' }: {
  base: string;
  caseFileId: string | null;
  student?: string;
  onClose: () => void;
  onGranted: (g: EmergencyGrant) => void;
  files?: 'case-files' | 'client-files'; // a student's case file, or a staff or guardian client's file
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  const toFields = useFieldErrors();
  // A user with MFA confirms with a current code of the authenticator app as well.
  const mfa = useQuery({ queryKey: ['my-mfa'], queryFn: () => api<MFAStatus>('GET', '/api/v1/me/mfa'), enabled: !!caseFileId });
  const request = useMutation({
    mutationFn: (v: { reason: string; password: string; code?: string }) =>
      api<EmergencyGrant>('POST', `${base}/${files}/${caseFileId}/emergency-access`, { ...v, code: v.code?.replace(/\s/g, '') || undefined }),
    onSuccess: (g) => {
      form.resetFields();
      onGranted(g);
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Modal
      open={!!caseFileId}
      title={files === 'client-files' ? t('emergency.clientRequestTitle') : t('emergency.requestTitle', { name: student ?? '' })}
      okText={t('emergency.confirm')}
      okButtonProps={{ danger: true, 'data-testid': 'emergency-submit' } as ButtonProps}
      confirmLoading={request.isPending}
      onOk={() => form.submit()}
      onCancel={() => {
        request.reset();
        form.resetFields();
        onClose();
      }}
      destroyOnHidden
    >
      <Alert data-testid="emergency-warning" type="warning" showIcon icon={<WarningOutlined />} message={t(files === 'client-files' ? 'emergency.clientWarning' : 'emergency.warning')} style={{ marginBottom: 16 }} />
      <ProblemAlert error={request.error} formFields={['reason', 'password', 'code']} />
      <Form form={form} layout="vertical" onFinish={(v) => request.mutate(v)}>
        <Form.Item name="reason" label={t('emergency.reason')} rules={[{ required: true, whitespace: true, message: t('emergency.reasonRequired') }, { max: 1000 }]}>
          <Input.TextArea data-testid="emergency-reason" rows={3} maxLength={1000} showCount />
        </Form.Item>
        <Form.Item name="password" label={t('emergency.password')} rules={[{ required: true, message: t('emergency.passwordRequired') }]}>
          <Input.Password data-testid="emergency-password" autoComplete="current-password" />
        </Form.Item>
        {mfa.data?.enrolled && (
          <Form.Item name="code" label={t('emergency.code')} rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('emergency.codeRequired') }]}>
            <Input data-testid="emergency-code" autoComplete="one-time-code" inputMode="numeric" maxLength={8} style={{ width: 160 }} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

// useGrantReading reads the file of a grant while it lasts ("case-file" or
// "client-file"), with a clock for the countdown and the grantee's early end. Once the
// grant has expired, or the server refuses, it gives no data.
export function useGrantReading<T>(base: string, grant: EmergencyGrant | null, file: 'case-file' | 'client-file', onEnded: () => void) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!grant) return;
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, [grant]);
  const timedOut = !!grant && dayjs(grant.expires_at).valueOf() <= now;
  const reading = useQuery({
    queryKey: ['emergency-reading', file, grant?.id],
    enabled: !!grant && !timedOut,
    queryFn: () => api<T>('GET', `${base}/emergency-access/${grant!.id}/${file}`),
    gcTime: 0,
  });
  const end = useMutation({
    mutationFn: () => api('POST', `${base}/emergency-access/${grant!.id}/end`),
    onSuccess: onEnded,
  });
  const refused = isStatus(reading.error, 403, 404);
  const expired = timedOut || refused;
  return { now, reading, end, refused, expired, data: expired ? undefined : reading.data };
}

// EmergencyDrawer shows, read-only, the case file of a grant with a countdown to its
// expiry. Once the grant has expired (or the server refuses), it says so and shows
// nothing of the file any more.
export function EmergencyDrawer({ base, grant, onClose }: { base: string; grant: EmergencyGrant | null; onClose: () => void }) {
  const categories = useConcernCategories(base);
  const { t } = useTranslation();
  const { now, reading, end, refused, expired, data } = useGrantReading<Reading>(base, grant, 'case-file', onClose);
  return (
    <Drawer open={!!grant} width={720} onClose={onClose} destroyOnHidden
      title={<Space><Tag color="red">{t('emergency.readOnly')}</Tag>{data?.case_file.student_name}</Space>}
      extra={grant && !expired && (
        <Space>
          <Tag data-testid="emergency-countdown" color="orange">{t('emergency.remaining', { time: remaining(grant.expires_at, now) })}</Tag>
          <Button data-testid="emergency-end" size="small" danger loading={end.isPending} onClick={() => end.mutate()}>{t('emergency.end')}</Button>
        </Space>
      )}
    >
      {expired ? (
        <Alert data-testid="emergency-expired" type="error" showIcon message={t('emergency.expired')} description={refused ? (reading.error as Error).message : undefined} />
      ) : (
        <ProblemAlert error={reading.error} />
      )}
      {data && (
        <div data-testid="emergency-reading">
          <Descriptions size="small" column={2} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t('student.number')}>{data.case_file.student_number}</Descriptions.Item>
            <Descriptions.Item label={t('student.homeroom')}>{data.case_file.homeroom_name}</Descriptions.Item>
            <Descriptions.Item label={t('caseFile.tier')}>
              <Tag color={tierColor[data.case_file.risk_tier]}>{t(`caseFile.tierValue.${data.case_file.risk_tier}`)}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label={t('caseFile.status')}>{t(`caseFile.statusValue.${data.case_file.status}`)}</Descriptions.Item>
            <Descriptions.Item label={t('emergency.expiresAt')}>{dayjs(data.grant.expires_at).format('YYYY-MM-DD HH:mm:ss')}</Descriptions.Item>
          </Descriptions>
          <Typography.Title level={5}>{t('caseFile.tierHistory')}</Typography.Title>
          {data.risk_tiers.length === 0 && <Typography.Paragraph type="secondary">{t('common.empty')}</Typography.Paragraph>}
          {data.risk_tiers.map((c) => (
            <Typography.Paragraph key={c.id} data-testid="emergency-tier">
              {dayjs(c.changed_at).format('YYYY-MM-DD HH:mm')}　
              <Tag>{t(`caseFile.tierValue.${c.from_tier}`)}</Tag>→<Tag color={tierColor[c.to_tier]}>{t(`caseFile.tierValue.${c.to_tier}`)}</Tag>
              {c.reason}
            </Typography.Paragraph>
          ))}
          <Typography.Title level={5}>{t('caseFile.timeline')}</Typography.Title>
          {data.sessions.length === 0 && <Empty description={t('caseFile.empty')} />}
          <Timeline
            items={data.sessions.map((s) => ({
              children: (
                <div data-testid="emergency-session">
                  <Space wrap>
                    <strong>{dayjs(s.occurred_at).format('YYYY-MM-DD HH:mm')}</strong>
                    <Tag>{t(`caseFile.channelValue.${s.channel}`)}</Tag>
                    {s.categories.map((c) => <Tag key={c}>{categories.name(c)}</Tag>)}
                    <span>{s.duration_minutes}′</span>
                  </Space>
                  <Typography.Paragraph style={{ marginTop: 8, marginBottom: 4 }}>{s.summary}</Typography.Paragraph>
                  {s.next_steps && <Typography.Paragraph type="secondary">{t('caseFile.nextSteps')}：{s.next_steps}</Typography.Paragraph>}
                  {s.note && <Typography.Paragraph>{t('caseFile.note')}：{s.note}</Typography.Paragraph>}
                  {s.addenda.map((a) => (
                    <Typography.Paragraph key={a.id} type="secondary">
                      {t('caseFile.addendum')}（{dayjs(a.created_at).format('YYYY-MM-DD HH:mm')}）：{a.body}
                    </Typography.Paragraph>
                  ))}
                </div>
              ),
            }))}
          />
        </div>
      )}
    </Drawer>
  );
}
