import { useEffect, useState } from 'react';
import { App, Button, Card, Form, Input, Modal, Popconfirm, Radio, Space, Switch, Tag } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { SecuritySettings, SessionInfo, User } from '../api/types';
import ProblemAlert, { useFieldErrors } from './ProblemAlert';
import { SessionsTable } from '../pages/Security';

// UserSecurity is the district administrator's view of one user's identity: MFA (reset),
// single sign-on identity and open sessions (revoke all).
export function UserSecurity({ base, user }: { base: string; user: User }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const path = `${base}/users/${user.id}`;
  const [enrolled, setEnrolled] = useState(!!user.mfa_enrolled);
  const sessions = useQuery({ queryKey: ['user-sessions', user.id], queryFn: () => api<{ items: SessionInfo[] }>('GET', `${path}/sessions`) });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['user-sessions', user.id] });
    void qc.invalidateQueries({ queryKey: ['users'] });
  };
  const reset = useMutation({
    mutationFn: () => api('DELETE', `${path}/mfa`),
    onSuccess: () => {
      setEnrolled(false);
      refresh();
      message.success(t('security.mfaReset'));
    },
  });
  const revokeAll = useMutation({
    mutationFn: () => api('DELETE', `${path}/sessions`),
    onSuccess: () => {
      refresh();
      message.success(t('security.allRevoked'));
    },
  });
  const sso = useMutation({
    mutationFn: (v: { sso_id?: string }) => api('PUT', `${path}/sso-id`, { sso_id: v.sso_id?.trim() || null }),
    onSuccess: () => {
      refresh();
      message.success(t('security.ssoIdSaved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Card size="small" title={t('security.userMfa')} style={{ marginTop: 16 }} data-testid="user-security">
      <ProblemAlert error={reset.error || revokeAll.error || sessions.error} />
      <Space style={{ marginBottom: 12 }}>
        {enrolled ? <Tag color="green">{t('security.enrolled')}</Tag> : <Tag>{t('security.notEnrolled')}</Tag>}
        <Popconfirm title={t('security.resetMfaConfirm')} okButtonProps={{ danger: true }} onConfirm={() => reset.mutate()}>
          <Button danger size="small" data-testid="mfa-reset" loading={reset.isPending}>{t('security.resetMfa')}</Button>
        </Popconfirm>
      </Space>
      <ProblemAlert error={sso.error} formFields={['sso_id']} />
      <Form form={form} layout="inline" initialValues={{ sso_id: user.sso_id ?? '' }} onFinish={(v) => sso.mutate(v)} style={{ marginBottom: 12 }}>
        <Form.Item name="sso_id" label={t('security.ssoId')} tooltip={t('security.ssoIdHint')}>
          <Input data-testid="sso-id" maxLength={254} style={{ width: 240 }} />
        </Form.Item>
        <Button htmlType="submit" loading={sso.isPending}>{t('security.save')}</Button>
      </Form>
      <Space style={{ marginBottom: 8 }}>
        <strong>{t('security.userSessions')}</strong>
        <Popconfirm title={t('security.revokeAllConfirm')} okButtonProps={{ danger: true }} onConfirm={() => revokeAll.mutate()}>
          <Button size="small" danger data-testid="sessions-revoke-all" loading={revokeAll.isPending}>{t('security.revokeAll')}</Button>
        </Popconfirm>
      </Space>
      <SessionsTable items={sessions.data?.items ?? []} loading={sessions.isLoading} />
    </Card>
  );
}

// SecuritySettingsModal edits the district's MFA requirement and single sign-on.
export function SecuritySettingsModal({ base, open, onClose }: { base: string; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const [oidc, setOidc] = useState(false);
  const settings = useQuery({ queryKey: ['security-settings', base], queryFn: () => api<SecuritySettings>('GET', `${base}/security-settings`), enabled: open });
  useEffect(() => {
    if (settings.data) {
      form.setFieldsValue(settings.data);
      setOidc(settings.data.oidc_enabled);
    }
  }, [settings.data, form]);
  const save = useMutation({
    mutationFn: (v: SecuritySettings) => api<SecuritySettings>('PUT', `${base}/security-settings`, {
      mfa_required: !!v.mfa_required, oidc_enabled: !!v.oidc_enabled, oidc_issuer: v.oidc_issuer ?? '', oidc_client_id: v.oidc_client_id ?? '',
      oidc_client_secret_env: v.oidc_client_secret_env ?? '', oidc_claim: v.oidc_claim ?? 'email', oidc_mfa_delegated: !!v.oidc_mfa_delegated,
    }),
    onSuccess: (r) => {
      qc.setQueryData(['security-settings', base], r);
      message.success(t('security.settingsSaved'));
      onClose();
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Modal open={open} title={t('security.settings')} onCancel={onClose} onOk={() => form.submit()} confirmLoading={save.isPending}
      okButtonProps={{ 'data-testid': 'security-settings-ok' }} forceRender width={560}>
      <ProblemAlert error={settings.error || save.error} formFields={['mfa_required', 'oidc_enabled', 'oidc_issuer', 'oidc_client_id', 'oidc_client_secret_env', 'oidc_claim']} />
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} onValuesChange={(_, all) => setOidc(!!all.oidc_enabled)}>
        <Form.Item name="mfa_required" label={t('security.mfaRequired')} extra={t('security.mfaRequiredHint')} valuePropName="checked">
          <Switch data-testid="mfa-required" />
        </Form.Item>
        <Form.Item name="oidc_enabled" label={t('security.oidcEnabled')} valuePropName="checked">
          <Switch data-testid="oidc-enabled" />
        </Form.Item>
        {oidc && (
          <>
            <Form.Item name="oidc_issuer" label={t('security.oidcIssuer')} rules={[{ required: true }]}>
              <Input placeholder="https://idp.example.edu.cn" maxLength={300} />
            </Form.Item>
            <Form.Item name="oidc_client_id" label={t('security.oidcClientId')} rules={[{ required: true }]}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name="oidc_client_secret_env" label={t('security.oidcClientSecretEnv')} extra={t('security.oidcClientSecretEnvHint')}
              rules={[{ required: true }, { pattern: /^[A-Z][A-Z0-9_]{0,63}$/ }]}>
              <Input placeholder="XINQIAO_OIDC_SECRET_DEMO" maxLength={64} />
            </Form.Item>
            <Form.Item name="oidc_claim" label={t('security.oidcClaim')}>
              <Radio.Group options={[{ value: 'email', label: t('security.oidcClaimEmail') }, { value: 'sub', label: t('security.oidcClaimSub') }]} />
            </Form.Item>
            <Form.Item name="oidc_mfa_delegated" label={t('security.oidcMfaDelegated')} valuePropName="checked">
              <Switch />
            </Form.Item>
          </>
        )}
      </Form>
    </Modal>
  );
}
