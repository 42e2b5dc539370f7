import { useState } from 'react';
import { Alert, App, Button, Form, Input, Space, Typography } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { MFAEnrolment } from '../api/types';
import ProblemAlert, { useFieldErrors } from './ProblemAlert';

// RecoveryCodesView shows one-time recovery codes once, with a copy button.
export function RecoveryCodesView({ codes, onSaved }: { codes: string[]; onSaved: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  return (
    <div data-testid="recovery-codes">
      <Alert type="warning" showIcon message={t('security.recoveryTitle')} description={t('security.recoveryHint')} style={{ marginBottom: 12 }} />
      <pre style={{ background: '#fafafa', padding: 12, fontSize: 16, columns: 2 }}>{codes.join('\n')}</pre>
      <Space>
        <Button onClick={() => navigator.clipboard?.writeText(codes.join('\n')).then(() => message.success(t('security.copied')))}>{t('security.copy')}</Button>
        <Button type="primary" data-testid="recovery-saved" onClick={onSaved}>{t('security.saved')}</Button>
      </Space>
    </div>
  );
}

// MFAEnrol walks through enrolment: a new secret (QR code rendered by the server), a first
// code, then the recovery codes, shown once.
export default function MFAEnrol({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const [codes, setCodes] = useState<string[] | null>(null);
  const start = useMutation({ mutationFn: () => api<MFAEnrolment>('POST', '/api/v1/me/mfa/enrolment') });
  const confirm = useMutation({
    mutationFn: (v: { code: string }) => api<{ recovery_codes: string[] }>('POST', '/api/v1/me/mfa/enrolment/confirm', { code: v.code.replace(/\s/g, '') }),
    onSuccess: (r) => setCodes(r.recovery_codes),
    onError: (e) => form.setFields(toFields(e)),
  });
  if (codes) return <RecoveryCodesView codes={codes} onSaved={onDone} />;
  if (!start.data) {
    return (
      <>
        <ProblemAlert error={start.error} />
        <Button type="primary" data-testid="mfa-enrol-start" loading={start.isPending} onClick={() => start.mutate()}>{t('security.enrol')}</Button>
      </>
    );
  }
  return (
    <div data-testid="mfa-enrol">
      <Typography.Paragraph strong>{t('security.step1')}</Typography.Paragraph>
      <img src={start.data.qr_code_png} alt="QR" width={200} height={200} data-testid="mfa-qr" />
      <Typography.Paragraph>
        {t('security.secret')}: <Typography.Text code copyable data-testid="mfa-secret">{start.data.secret}</Typography.Text>
      </Typography.Paragraph>
      <Typography.Paragraph strong>{t('security.step2')}</Typography.Paragraph>
      <ProblemAlert error={confirm.error} formFields={['code']} />
      <Form form={form} layout="inline" onFinish={(v) => confirm.mutate(v)}>
        <Form.Item name="code" rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('login.codeRequired') }]}>
          <Input data-testid="mfa-enrol-code" autoComplete="one-time-code" inputMode="numeric" maxLength={8} style={{ width: 160 }} />
        </Form.Item>
        <Button type="primary" htmlType="submit" data-testid="mfa-enrol-confirm" loading={confirm.isPending}>{t('security.confirm')}</Button>
      </Form>
    </div>
  );
}
