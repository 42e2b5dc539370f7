import { useState } from 'react';
import { App, Button, Card, Form, Input, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api } from '../api/client';
import type { MFAStatus, SessionInfo } from '../api/types';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import MFAEnrol, { RecoveryCodesView } from '../components/MFAEnrol';

// SessionsTable lists sessions; revoke is offered when given.
export function SessionsTable({ items, loading, revoke }: { items: SessionInfo[]; loading: boolean; revoke?: (id: string) => void }) {
  const { t } = useTranslation();
  return (
    <Table<SessionInfo>
      data-testid="sessions-table"
      rowKey="id"
      size="small"
      pagination={false}
      loading={loading}
      dataSource={items}
      locale={{ emptyText: t('security.noSessions') }}
      columns={[
        { title: t('security.device'), dataIndex: 'user_agent', ellipsis: true, render: (v: string, s) => <>{v || '—'} {s.current && <Tag color="blue">{t('security.current')}</Tag>}</> },
        { title: t('security.ip'), dataIndex: 'client_ip' },
        { title: t('security.method'), dataIndex: 'method', render: (m: string) => (m === 'oidc' ? t('security.methodOidc') : t('security.methodPassword')) },
        { title: t('security.signedIn'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
        { title: t('security.lastSeen'), dataIndex: 'last_seen_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
        ...(revoke
          ? [{
              title: t('common.actions'),
              key: 'a',
              render: (_: unknown, s: SessionInfo) => !s.current && (
                <Button type="link" size="small" danger data-testid="session-revoke" onClick={() => revoke(s.id)}>{t('security.revoke')}</Button>
              ),
            }]
          : []),
      ]}
    />
  );
}

export default function Security() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const mfa = useQuery({ queryKey: ['my-mfa'], queryFn: () => api<MFAStatus>('GET', '/api/v1/me/mfa') });
  const sessions = useQuery({ queryKey: ['my-sessions'], queryFn: () => api<{ items: SessionInfo[] }>('GET', '/api/v1/me/sessions') });
  const [enrolling, setEnrolling] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [regenForm] = Form.useForm();
  const [pwForm] = Form.useForm();
  const [offForm] = Form.useForm();
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `/api/v1/me/sessions/${id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['my-sessions'] });
      message.success(t('security.revoked'));
    },
  });
  const regenerate = useMutation({
    mutationFn: (v: { code: string }) => api<{ recovery_codes: string[] }>('POST', '/api/v1/me/mfa/recovery-codes', { code: v.code.replace(/\s/g, '') }),
    onSuccess: (r) => {
      regenForm.resetFields();
      setCodes(r.recovery_codes);
    },
    onError: (e) => regenForm.setFields(toFields(e)),
  });
  const disable = useMutation({
    mutationFn: (v: { password: string; code: string }) => api('POST', '/api/v1/me/mfa/disable', { password: v.password, code: v.code.replace(/\s/g, '') }),
    onSuccess: () => {
      offForm.resetFields();
      void qc.invalidateQueries({ queryKey: ['my-mfa'] });
      void qc.invalidateQueries({ queryKey: ['my-sessions'] });
      message.success(t('security.disabled'));
    },
    onError: (e) => offForm.setFields(toFields(e)),
  });
  const password = useMutation({
    mutationFn: (v: { current_password: string; new_password: string }) => api('POST', '/api/v1/me/password', v),
    onSuccess: () => {
      pwForm.resetFields();
      void qc.invalidateQueries({ queryKey: ['my-sessions'] });
      message.success(t('security.passwordChanged'));
    },
    onError: (e) => pwForm.setFields(toFields(e)),
  });
  const done = () => {
    setEnrolling(false);
    setCodes(null);
    void qc.invalidateQueries({ queryKey: ['my-mfa'] });
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card title={t('security.mfa')} data-testid="security-mfa">
        <ProblemAlert error={mfa.error} />
        {mfa.data && (
          <Typography.Paragraph>
            {mfa.data.enrolled ? <Tag color="green" data-testid="mfa-on">{t('security.enrolled')}</Tag> : <Tag data-testid="mfa-off">{t('security.notEnrolled')}</Tag>}
            {mfa.data.required ? t('security.required') : t('security.optional')}
            {mfa.data.enrolled && <> · {t('security.codesLeft', { n: mfa.data.recovery_codes_left })}</>}
          </Typography.Paragraph>
        )}
        {codes && <RecoveryCodesView codes={codes} onSaved={done} />}
        {!codes && mfa.data && !mfa.data.enrolled && (enrolling ? <MFAEnrol onDone={done} /> : (
          <Button type="primary" data-testid="security-enrol" onClick={() => setEnrolling(true)}>{t('security.enrol')}</Button>
        ))}
        {!codes && mfa.data?.enrolled && (
          <>
            <Typography.Paragraph type="secondary">{t('security.regenerateHint')}</Typography.Paragraph>
            <ProblemAlert error={regenerate.error} formFields={['code']} />
            <Form form={regenForm} layout="inline" onFinish={(v) => regenerate.mutate(v)}>
              <Form.Item name="code" rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('login.codeRequired') }]}>
                <Input autoComplete="one-time-code" inputMode="numeric" maxLength={8} style={{ width: 160 }} placeholder={t('login.code')} />
              </Form.Item>
              <Button htmlType="submit" loading={regenerate.isPending}>{t('security.regenerate')}</Button>
            </Form>
          </>
        )}
        {!codes && mfa.data?.enrolled && !mfa.data.required && (
          <div data-testid="mfa-disable" style={{ marginTop: 16 }}>
            <Typography.Paragraph type="secondary">{t('security.disableHint')}</Typography.Paragraph>
            <ProblemAlert error={disable.error} formFields={['password', 'code']} />
            <Form form={offForm} layout="inline" onFinish={(v) => disable.mutate(v)}>
              <Form.Item name="password" rules={[{ required: true, message: t('emergency.passwordRequired') }]}>
                <Input.Password data-testid="mfa-disable-password" autoComplete="current-password" maxLength={256} placeholder={t('security.currentPassword')} />
              </Form.Item>
              <Form.Item name="code" rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('login.codeRequired') }]}>
                <Input data-testid="mfa-disable-code" autoComplete="one-time-code" inputMode="numeric" maxLength={8} style={{ width: 160 }} placeholder={t('login.code')} />
              </Form.Item>
              <Popconfirm title={t('security.disableConfirm')} onConfirm={() => offForm.submit()}>
                <Button danger data-testid="mfa-disable-submit" loading={disable.isPending}>{t('security.disable')}</Button>
              </Popconfirm>
            </Form>
          </div>
        )}
      </Card>
      <Card title={t('security.sessions')}>
        <ProblemAlert error={sessions.error || revoke.error} />
        <SessionsTable items={sessions.data?.items ?? []} loading={sessions.isLoading} revoke={(id) => revoke.mutate(id)} />
      </Card>
      <Card title={t('security.password')}>
        <ProblemAlert error={password.error} formFields={['current_password', 'new_password']} />
        <Form form={pwForm} layout="vertical" onFinish={(v) => password.mutate(v)} style={{ maxWidth: 400 }}>
          <Form.Item name="current_password" label={t('security.currentPassword')} rules={[{ required: true }]}>
            <Input.Password data-testid="pw-current" autoComplete="current-password" maxLength={256} />
          </Form.Item>
          <Form.Item name="new_password" label={t('security.newPassword')} extra={t('security.newPasswordHint')} rules={[{ required: true }, { min: 12, message: t('user.passwordHint') }]}>
            <Input.Password data-testid="pw-new" autoComplete="new-password" maxLength={256} />
          </Form.Item>
          <Popconfirm title={t('security.newPasswordHint')} onConfirm={() => pwForm.submit()}>
            <Button type="primary" data-testid="pw-submit" loading={password.isPending}>{t('security.password')}</Button>
          </Popconfirm>
        </Form>
      </Card>
    </Space>
  );
}
