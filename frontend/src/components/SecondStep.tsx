import { useState } from 'react';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { SafetyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { api, isStatus } from '../api/client';

// secondStepMessage picks the message of a refused second step.
export function secondStepMessage(e: unknown, hadChallenge: boolean): string {
  if (isStatus(e, 429)) return 'login.locked';
  if (isStatus(e, 401) && !hadChallenge) return 'login.mfaExpired';
  if (isStatus(e, 400, 401, 422)) return 'login.mfaFailed';
  return 'login.unavailable';
}

// SecondStep asks for a TOTP code or a recovery code. An empty challenge means the
// server's HttpOnly challenge cookie carries it (single sign-on).
export default function SecondStep({ challenge, onDone, onRestart }: { challenge: string; onDone: () => Promise<void>; onRestart: () => void }) {
  const { t } = useTranslation();
  const [recovery, setRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm();
  const submit = async (v: { code?: string; recovery_code?: string }) => {
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = recovery ? { recovery_code: (v.recovery_code ?? '').trim() } : { code: (v.code ?? '').replace(/\s/g, '') };
      if (challenge) body.challenge = challenge;
      await api('POST', '/api/v1/auth/login/mfa', body);
      await onDone();
    } catch (e) {
      setError(t(secondStepMessage(e, true)));
      form.resetFields();
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="mfa-step">
      <Typography.Title level={5}><SafetyOutlined /> {t('login.mfaTitle')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('login.mfaHint')}</Typography.Paragraph>
      {error && <Alert data-testid="mfa-error" type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        {recovery ? (
          <Form.Item name="recovery_code" label={t('login.recoveryCode')} rules={[{ required: true, whitespace: true, message: t('login.recoveryRequired') }]}>
            <Input data-testid="mfa-recovery" autoComplete="off" maxLength={32} placeholder="xxxxx-xxxxx" />
          </Form.Item>
        ) : (
          <Form.Item name="code" label={t('login.code')} rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('login.codeRequired') }]}>
            <Input data-testid="mfa-code" autoComplete="one-time-code" inputMode="numeric" maxLength={8} autoFocus />
          </Form.Item>
        )}
        <Button data-testid="mfa-submit" type="primary" htmlType="submit" block loading={busy}>{t('login.verify')}</Button>
      </Form>
      <div style={{ display: 'flex', justifyContent: 'space-between', marginTop: 12 }}>
        <Button type="link" size="small" style={{ padding: 0 }} data-testid="mfa-toggle" onClick={() => { setRecovery(!recovery); setError(null); }}>
          {recovery ? t('login.useCode') : t('login.useRecovery')}
        </Button>
        <Button type="link" size="small" style={{ padding: 0 }} onClick={onRestart}>{t('login.back')}</Button>
      </div>
    </div>
  );
}
