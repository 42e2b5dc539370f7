import { useState } from 'react';
import { Alert, Button, Result, Spin, Typography } from 'antd';
import { HeartOutlined } from '@ant-design/icons';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import { missingFromProblem, missingItems, type Answers, type PublicSheet } from '../api/screening';
import Questionnaire, { setAnswer } from '../components/Questionnaire';
import LanguageSwitch from '../LanguageSwitch';

// codeState names why a code cannot be used: unknown, used, expired, limited (too many
// attempts) or error (anything else).
export function codeState(e: unknown): 'unknown' | 'used' | 'expired' | 'limited' | 'error' {
  if (!(e instanceof ApiError)) return 'error';
  switch (e.status) {
    case 404:
      return 'unknown';
    case 409:
      return 'used';
    case 410:
      return 'expired';
    case 429:
      return 'limited';
    default:
      return 'error';
  }
}

// normalizeCode accepts the code as printed (ABCD-EFGH-JK) or as in the URL.
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

function Page({ children }: { children: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <div style={{ minHeight: '100vh', background: '#f5f7fa' }}>
      <style>{'body { margin: 0; }'}</style>
      <div style={{ maxWidth: 560, margin: '0 auto', padding: '12px 16px 32px' }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12 }}>
          <Typography.Text strong style={{ color: '#1677ff' }}><HeartOutlined /> {t('app.name')}</Typography.Text>
          <LanguageSwitch />
        </div>
        {children}
      </div>
    </div>
  );
}

function HelpContacts({ text }: { text?: string }) {
  const { t } = useTranslation();
  if (!text) return null;
  return (
    <Alert
      data-testid="help-contacts"
      type="info"
      showIcon
      message={t('screening.student.help')}
      description={<div style={{ whiteSpace: 'pre-wrap' }}>{text}</div>}
      style={{ textAlign: 'left', marginTop: 16 }}
    />
  );
}

function Refused({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const state = codeState(error);
  return (
    <div data-testid="code-refused" data-state={state}>
    <Result
      status={state === 'error' ? 'error' : 'warning'}
      title={<span data-testid="code-refused-title">{t(`screening.student.refused.${state}`)}</span>}
      subTitle={t(`screening.student.refusedHint.${state}`)}
      extra={state === 'limited' || state === 'error' ? <Button onClick={onRetry}>{t('screening.student.retry')}</Button> : undefined}
    />
    </div>
  );
}

// StudentScreening is the page a student opens with a one-time code (/s/:code): no
// account, phone-sized. After submitting it shows only thanks and help contacts — never a
// score, band or label.
export default function StudentScreening() {
  const { t } = useTranslation();
  const { code = '' } = useParams();
  const path = `/api/v1/s/${encodeURIComponent(normalizeCode(code))}`;
  const sheet = useQuery({ queryKey: ['public-sheet', path], queryFn: () => api<PublicSheet>('GET', path), retry: false, staleTime: Infinity });
  const [answers, setAnswers] = useState<Answers>({});
  const [missing, setMissing] = useState<Set<string>>(new Set());
  const submit = useMutation({
    mutationFn: () => api<{ thanks: boolean; help_contacts?: string }>('POST', path, { answers }),
    onError: (e) => {
      const m = missingFromProblem(e);
      if (m.length) show(m);
    },
  });
  const show = (m: string[]) => {
    setMissing(new Set(m));
    const first = document.getElementById(`q-${m[0].replace('.', '-')}`);
    first?.scrollIntoView?.({ behavior: 'smooth', block: 'center' });
  };
  const onSubmit = () => {
    if (!sheet.data) return;
    const m = missingItems(sheet.data.instruments, answers);
    if (m.length) {
      show(m);
      return;
    }
    setMissing(new Set());
    submit.mutate();
  };

  if (submit.isSuccess) {
    return (
      <Page>
        <div data-testid="screening-thanks">
          <Result status="success" title={t('screening.student.thanks')} subTitle={t('screening.student.thanksHint')} />
        </div>
        <HelpContacts text={submit.data?.help_contacts ?? sheet.data?.help_contacts} />
      </Page>
    );
  }
  if (sheet.isPending) {
    return (
      <Page>
        <Spin data-testid="loading" style={{ display: 'block', margin: 80 }} />
      </Page>
    );
  }
  if (sheet.error) {
    return (
      <Page>
        <Refused error={sheet.error} onRetry={() => void sheet.refetch()} />
      </Page>
    );
  }
  // A code used or expired while the student was answering: say so instead of the form.
  const submitState = submit.error && !missingFromProblem(submit.error).length ? codeState(submit.error) : null;
  if (submitState && submitState !== 'error' && submitState !== 'limited') {
    return (
      <Page>
        <Refused error={submit.error} />
      </Page>
    );
  }
  const s = sheet.data;
  return (
    <Page>
      <Typography.Title level={3} data-testid="screening-title" style={{ marginTop: 0 }}>{s.title}</Typography.Title>
      {s.message && <Typography.Paragraph data-testid="screening-message" style={{ whiteSpace: 'pre-wrap' }}>{s.message}</Typography.Paragraph>}
      <Alert type="info" showIcon message={t('screening.student.privacy')} style={{ marginBottom: 16 }} />
      <Questionnaire
        instruments={s.instruments}
        answers={answers}
        missing={missing}
        disabled={submit.isPending}
        onChange={(ins, item, v) => {
          setAnswers((a) => setAnswer(a, ins, item, v));
          setMissing((m) => {
            if (!m.has(`${ins}.${item}`)) return m;
            const n = new Set(m);
            n.delete(`${ins}.${item}`);
            return n;
          });
        }}
      />
      {missing.size > 0 && (
        <Alert data-testid="missing-alert" type="error" showIcon message={t('screening.student.missing', { count: missing.size })} style={{ marginBottom: 16 }} />
      )}
      {submitState === 'limited' && <Alert data-testid="submit-limited" type="warning" showIcon message={t('screening.student.refused.limited')} style={{ marginBottom: 16 }} />}
      {submitState === 'error' && <Alert data-testid="submit-error" type="error" showIcon message={t('screening.student.submitFailed')} style={{ marginBottom: 16 }} />}
      <Button data-testid="screening-submit" type="primary" size="large" block loading={submit.isPending} onClick={onSubmit}>
        {t('screening.student.submit')}
      </Button>
    </Page>
  );
}
