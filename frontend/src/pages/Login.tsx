import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { api, isStatus } from '../api/client';
import { fetchMe, useSession } from '../session';
import LanguageSwitch from '../LanguageSwitch';
import type { LoginResult } from '../api/types';
import SecondStep from '../components/SecondStep';

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
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(params.get('sso') === 'failed' ? t('login.ssoFailed') : null);
  const [busy, setBusy] = useState(false);
  // The second step: after a password (challenge in hand) or after single sign-on
  // (?step=mfa, the challenge is in an HttpOnly cookie).
  const [challenge, setChallenge] = useState<string | null>(params.get('step') === 'mfa' ? '' : null);
  const [ssoCode, setSsoCode] = useState('');
  if (me && !busy) return <Navigate to="/" replace />;
  const finish = async () => {
    try {
      localStorage.removeItem('xq_scope');
    } catch {
      /* storage unavailable */
    }
    await qc.fetchQuery({ queryKey: ['me'], queryFn: fetchMe, staleTime: 0 });
    navigate('/', { replace: true });
  };
  const submit = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api<LoginResult>('POST', '/api/v1/auth/login', { username: v.username.trim(), password: v.password });
      if (res.mfa_required) {
        setChallenge(res.challenge ?? '');
        return;
      }
      await finish();
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
        {challenge !== null ? (
          <SecondStep challenge={challenge} onDone={finish} onRestart={() => setChallenge(null)} />
        ) : (
        <>
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
        <details style={{ marginTop: 16 }} data-testid="sso">
          <summary style={{ cursor: 'pointer', color: '#1677ff' }}>{t('login.sso')}</summary>
          <Input.Search
            data-testid="sso-district"
            style={{ marginTop: 8 }}
            placeholder={t('login.ssoDistrict')}
            value={ssoCode}
            maxLength={32}
            onChange={(e) => setSsoCode(e.target.value)}
            enterButton={t('login.ssoGo')}
            onSearch={(v) => {
              const code = v.trim().toLowerCase();
              if (/^[a-z0-9-]{2,32}$/.test(code)) window.location.assign(`/api/v1/auth/oidc/${code}/start`);
            }}
          />
        </details>
        </>
        )}
      </Card>
    </div>
  );
}
