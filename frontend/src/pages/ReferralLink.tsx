import { useState } from 'react';
import { Alert, Button, Card, Checkbox, DatePicker, Descriptions, Form, Input, Radio, Result, Spin, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import LanguageSwitch from '../LanguageSwitch';
import ProblemAlert from '../components/ProblemAlert';
import type { LinkView } from './crisis/model';

// linkProblem names what went wrong with an institution's link: unknown (404), already
// used (409), expired (410), too many tries (429); undefined for anything else.
export function linkProblem(e: unknown): 'unknown' | 'used' | 'expired' | 'tooMany' | undefined {
  if (!(e instanceof ApiError)) return undefined;
  return ({ 404: 'unknown', 409: 'used', 410: 'expired', 429: 'tooMany' } as const)[e.status as 404 | 409 | 410 | 429];
}

function LinkError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const kind = linkProblem(error);
  if (!kind) return <ProblemAlert error={error} />;
  return (
    <div data-testid="link-error" data-kind={kind}>
      <Result status={kind === 'tooMany' ? 'warning' : 'info'} title={t(`referral.link.${kind}`)} subTitle={t(`referral.link.${kind}Hint`)} />
    </div>
  );
}

// ReferralLink is the partner institution's page behind its one-time link (/r/<token>):
// no account, no student data; it confirms receipt, an appointment, the visit and a short
// feedback — or declines with a reason. Works once.
export default function ReferralLink() {
  const { t } = useTranslation();
  const { token = '' } = useParams();
  const [form] = Form.useForm();
  const [answer, setAnswer] = useState<'received' | 'decline'>('received');
  const view = useQuery({ queryKey: ['referral-link', token], queryFn: () => api<LinkView>('GET', `/api/v1/r/${encodeURIComponent(token)}`) });
  const send = useMutation({
    mutationFn: (v: { appointment_at?: dayjs.Dayjs; seen?: boolean; feedback?: string; decline_reason?: string }) =>
      api<LinkView>('POST', `/api/v1/r/${encodeURIComponent(token)}`, answer === 'decline'
        ? { received: false, decline_reason: v.decline_reason }
        : { received: true, appointment_at: v.appointment_at ? v.appointment_at.toISOString() : null, seen: !!v.seen, feedback: v.feedback ?? '' }),
  });
  const v = send.data ?? view.data;
  return (
    <div style={{ maxWidth: 560, margin: '0 auto', padding: 16 }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('referral.link.title')}</Typography.Title>
        <LanguageSwitch />
      </div>
      {view.isLoading && <Spin style={{ display: 'block', margin: 40 }} />}
      {view.error && <LinkError error={view.error} />}
      {v && (
        <Card size="small">
          <Descriptions size="small" column={1} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t('referral.link.reference')}><span data-testid="link-reference">{v.reference}</span></Descriptions.Item>
            <Descriptions.Item label={t('referral.link.school')}>{v.school}</Descriptions.Item>
            <Descriptions.Item label={t('referral.institution')}>{v.institution}</Descriptions.Item>
            <Descriptions.Item label={t('referral.sentAt')}>{dayjs(v.sent_at).format('YYYY-MM-DD HH:mm')}</Descriptions.Item>
          </Descriptions>
          {send.isSuccess ? (
            <div data-testid="link-thanks">
              <Result status="success" title={t('referral.link.thanks')}
                subTitle={t('referral.link.recorded', { status: t(`referral.status.${send.data.status}`) })} />
            </div>
          ) : (
            <>
              <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('referral.link.noStudentData')} />
              {send.error && (linkProblem(send.error) ? <LinkError error={send.error} /> : <ProblemAlert error={send.error} formFields={['appointment_at', 'feedback', 'decline_reason']} />)}
              <Form form={form} layout="vertical" onFinish={(x) => send.mutate(x)}>
                <Form.Item label={t('referral.link.answer')}>
                  <Radio.Group data-testid="link-answer" value={answer} onChange={(e) => setAnswer(e.target.value)}>
                    <Radio value="received" data-testid="link-received">{t('referral.link.received')}</Radio>
                    <Radio value="decline" data-testid="link-decline">{t('referral.link.decline')}</Radio>
                  </Radio.Group>
                </Form.Item>
                {answer === 'received' ? (
                  <>
                    <Form.Item name="appointment_at" label={t('referral.appointmentAt')}>
                      <DatePicker data-testid="link-appointment" showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} inputReadOnly />
                    </Form.Item>
                    <Form.Item name="seen" valuePropName="checked">
                      <Checkbox data-testid="link-seen">{t('referral.link.seen')}</Checkbox>
                    </Form.Item>
                    <Form.Item name="feedback" label={t('referral.link.feedback')} extra={t('referral.link.feedbackHint')} rules={[{ max: 1000 }]}>
                      <Input.TextArea data-testid="link-feedback" rows={3} maxLength={1000} showCount />
                    </Form.Item>
                  </>
                ) : (
                  <Form.Item name="decline_reason" label={t('referral.declineReason')} rules={[{ required: true, whitespace: true }, { max: 500 }]}>
                    <Input.TextArea data-testid="link-decline-reason" rows={3} maxLength={500} />
                  </Form.Item>
                )}
                <Button data-testid="link-submit" type="primary" htmlType="submit" block size="large" loading={send.isPending}>{t('referral.link.submit')}</Button>
              </Form>
            </>
          )}
        </Card>
      )}
    </div>
  );
}
