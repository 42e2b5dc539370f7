import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Navigate, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { api, isStatus } from '../api/client';
import { fetchMe, useSession } from '../session';
import LanguageSwitch from '../LanguageSwitch';

// loginMessage picks the i18n key shown for a failed login. It is deliberately generic: the
// server never says whether the username or the password was wrong, and neither do we.
export function loginMessage(e: unknown): string {
  if (isStatus(e, 429)) return 'login.locked';
  if (isStatus(e, 400, 401, 403, 422)) return 'login.failed';
  return 'login.unavailable';
}

export default function Login() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { me } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (me && !busy) return <Navigate to="/" replace />;
  const submit = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/auth/login', { username: v.username.trim(), password: v.password });
      try {
        localStorage.removeItem('xq_scope');
      } catch {
        /* storage unavailable */
      }
      await qc.fetchQuery({ queryKey: ['me'], queryFn: fetchMe, staleTime: 0 });
      navigate('/', { replace: true });
    } catch (e) {
      setError(t(loginMessage(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: 'linear-gradient(160deg, #e6f4ff 0%, #f0f5ff 60%, #fff 100%)' }}>
      <Card style={{ width: 400, boxShadow: '0 8px 24px rgba(22,119,255,0.08)' }} data-testid="login-card">
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0 }}>{t('app.name')}</Typography.Title>
          <LanguageSwitch />
        </div>
        <Typography.Paragraph type="secondary" style={{ marginTop: 4 }}>{t('app.subtitle')}</Typography.Paragraph>
        {error && <Alert data-testid="login-error" type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="username" label={t('login.username')} rules={[{ required: true, whitespace: true, message: t('login.usernameRequired') }]}>
            <Input data-testid="username" prefix={<UserOutlined />} autoComplete="username" maxLength={64} />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
            <Input.Password data-testid="password" prefix={<LockOutlined />} autoComplete="current-password" maxLength={256} />
          </Form.Item>
          <Button data-testid="login-submit" type="primary" htmlType="submit" block loading={busy}>
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
