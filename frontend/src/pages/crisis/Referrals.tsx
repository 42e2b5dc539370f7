import { useState } from 'react';
import { App, Button, Card, DatePicker, Descriptions, Drawer, Form, Input, Select, Space, Spin, Steps, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, query } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import { loopIndex, nextStatuses, referralLoop, type Referral } from './model';
import { LetterPreview, OneTimeLink } from './ReferralWizard';
import { RuleAlert } from './shared';

const time = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');

export function StatusTag({ r }: { r: Pick<Referral, 'status' | 'feedback_overdue'> }) {
  const { t } = useTranslation();
  const color = r.status === 'declined' ? 'red' : r.status === 'closed' ? 'default' : r.status === 'sent' ? 'blue' : 'green';
  return (
    <>
      <Tag data-testid="referral-status" color={color}>{t(`referral.status.${r.status}`)}</Tag>
      {r.feedback_overdue && <Tag color="red">{t('referral.feedbackOverdue')}</Tag>}
    </>
  );
}

// ReferralList lists the referrals of a case file (optionally those of one crisis) or of
// the whole school; a row opens the referral.
export function ReferralList({ base, caseFileId, crisisId }: { base: string; caseFileId?: string; crisisId?: string }) {
  const { t } = useTranslation();
  const [openId, setOpenId] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['referrals', base, caseFileId ?? ''],
    queryFn: () => api<{ items: Referral[] }>('GET', `${base}/referrals${query({ case_file_id: caseFileId })}`),
  });
  const items = (q.data?.items ?? []).filter((r) => !crisisId || r.crisis_id === crisisId);
  return (
    <>
      <ProblemAlert error={q.error} />
      <Table data-testid="referrals-table" size="small" rowKey="id" loading={q.isLoading} dataSource={items} pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: t('referral.none') }}
        onRow={(r) => ({ onClick: () => setOpenId(r.id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('referral.institution'), dataIndex: 'institution_name' },
          { title: t('referral.basisLabel'), dataIndex: 'basis', render: (v: string) => t(`referral.basis.${v}`) },
          { title: t('referral.sentAt'), dataIndex: 'sent_at', render: time },
          { title: t('referral.statusLabel'), key: 'status', render: (_: unknown, r: Referral) => <StatusTag r={r} /> },
        ]} />
      <Drawer open={!!openId} width={720} onClose={() => setOpenId(null)} destroyOnHidden title={t('referral.detail')}>
        {openId && <ReferralDetail base={base} id={openId} />}
      </Drawer>
    </>
  );
}

// ReferralDetail: the closed loop of one referral — status stepper, what the institution
// said, the counselor's status updates, the return-to-school plan and a fresh link.
export function ReferralDetail({ base, id }: { base: string; id: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [statusForm] = Form.useForm();
  const [planForm] = Form.useForm();
  const [next, setNext] = useState<string | undefined>();
  const [link, setLink] = useState<string | null>(null);
  const [letter, setLetter] = useState(false);
  const q = useQuery({ queryKey: ['referral', base, id], queryFn: () => api<Referral>('GET', `${base}/referrals/${id}`) });
  const done = (r: Referral) => {
    qc.setQueryData(['referral', base, id], r);
    void qc.invalidateQueries({ queryKey: ['referrals', base] });
  };
  const status = useMutation({
    mutationFn: (v: { status: string; appointment_at?: dayjs.Dayjs; feedback?: string; reason?: string }) =>
      api<Referral>('POST', `${base}/referrals/${id}/status`, { ...v, appointment_at: v.appointment_at ? v.appointment_at.toISOString() : undefined }),
    onSuccess: (r) => { message.success(t('referral.saved')); statusForm.resetFields(); setNext(undefined); done(r); },
  });
  const plan = useMutation({
    mutationFn: (v: { plan: string; return_date?: dayjs.Dayjs }) =>
      api<Referral>('PUT', `${base}/referrals/${id}/return-plan`, { plan: v.plan, return_date: v.return_date ? v.return_date.format('YYYY-MM-DD') : '' }),
    onSuccess: (r) => { message.success(t('referral.saved')); done(r); },
  });
  const reissue = useMutation({
    mutationFn: () => api<Referral>('POST', `${base}/referrals/${id}/link`),
    onSuccess: (r) => { setLink(r.link ?? null); done(r); },
  });
  if (q.error) return <ProblemAlert error={q.error} />;
  if (!q.data) return <Spin />;
  const r = q.data;
  const moves = nextStatuses(r.status);
  const ended = r.status === 'closed' || r.status === 'declined';
  return (
    <div data-testid="referral-detail" data-status={r.status}>
      <Steps size="small" current={loopIndex(r)} status={r.status === 'declined' ? 'error' : undefined} style={{ marginBottom: 16 }}
        items={referralLoop.map((s) => ({ title: t(`referral.status.${s}`) }))} />
      {r.status === 'declined' && <Typography.Paragraph type="danger" data-testid="referral-declined">{t('referral.declinedBecause', { reason: r.declined_reason ?? '' })}</Typography.Paragraph>}
      <Descriptions size="small" column={2} bordered style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('referral.institution')}>{r.institution_name}</Descriptions.Item>
        <Descriptions.Item label={t('referral.statusLabel')}><StatusTag r={r} /></Descriptions.Item>
        <Descriptions.Item label={t('referral.basisLabel')}>{t(`referral.basis.${r.basis}`)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.itemsLabel')}>{r.items.map((i) => t(`referral.item.${i}`)).join('、')}</Descriptions.Item>
        <Descriptions.Item label={t('referral.sentAt')}>{time(r.sent_at)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.acknowledgedAt')}>{time(r.acknowledged_at)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.appointmentAt')}>{time(r.appointment_at)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.seenAt')}>{time(r.seen_at)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.feedbackDueAt')}>{time(r.feedback_due_at)}</Descriptions.Item>
        <Descriptions.Item label={t('referral.linkState')}>
          {r.link_used_at ? t('referral.linkUsed', { time: time(r.link_used_at) }) : r.link_expires_at ? t('referral.linkValid', { time: time(r.link_expires_at) }) : '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('referral.feedback')} span={2}><span data-testid="referral-feedback">{r.feedback || '—'}</span></Descriptions.Item>
      </Descriptions>
      <Space style={{ marginBottom: 16 }} wrap>
        <Button data-testid="referral-letter" onClick={() => setLetter((x) => !x)}>{t(letter ? 'referral.hideLetter' : 'referral.showLetter')}</Button>
        {!ended && <Button data-testid="referral-reissue" loading={reissue.isPending} onClick={() => reissue.mutate()}>{t('referral.reissue')}</Button>}
      </Space>
      <RuleAlert error={reissue.error} />
      {link && <OneTimeLink link={link} />}
      {letter && <div style={{ marginBottom: 16 }}><LetterPreview base={base} id={r.id} /></div>}
      {moves.length > 0 && (
        <Card size="small" title={t('referral.updateStatus')} style={{ marginBottom: 16 }}>
          <RuleAlert error={status.error} formFields={['status', 'appointment_at', 'feedback', 'reason']} />
          <Form form={statusForm} layout="vertical" onFinish={(v) => status.mutate(v)}>
            <Form.Item name="status" label={t('referral.statusLabel')} rules={[{ required: true }]}>
              <Select data-testid="referral-next" style={{ width: 200 }} onChange={(v) => { setNext(v); status.reset(); }}
                options={moves.map((s) => ({ value: s, label: t(`referral.status.${s}`) }))} />
            </Form.Item>
            {next === 'appointment' && (
              <Form.Item name="appointment_at" label={t('referral.appointmentAt')} rules={[{ required: true }]}>
                <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
              </Form.Item>
            )}
            {next === 'feedback' && (
              <Form.Item name="feedback" label={t('referral.feedback')} rules={[{ required: true, whitespace: true }, { max: 2000 }]}>
                <Input.TextArea rows={3} />
              </Form.Item>
            )}
            {next === 'declined' && (
              <Form.Item name="reason" label={t('referral.declineReason')} rules={[{ required: true, whitespace: true }, { max: 500 }]}>
                <Input.TextArea rows={2} />
              </Form.Item>
            )}
            <Button data-testid="referral-status-submit" type="primary" htmlType="submit" loading={status.isPending}>{t('referral.saveStatus')}</Button>
          </Form>
        </Card>
      )}
      {r.status !== 'declined' && (
        <Card size="small" title={t('referral.returnPlan')}>
          <RuleAlert error={plan.error} formFields={['plan', 'return_date']} />
          <Form form={planForm} layout="vertical" onFinish={(v) => plan.mutate(v)}
            initialValues={{ plan: r.return_plan, return_date: r.return_date ? dayjs(r.return_date) : undefined }}>
            <Form.Item name="plan" label={t('referral.returnPlanText')} rules={[{ required: true, whitespace: true }, { max: 5000 }]}>
              <Input.TextArea data-testid="return-plan" rows={3} placeholder={t('referral.returnPlanPlaceholder')} />
            </Form.Item>
            <Form.Item name="return_date" label={t('referral.returnDate')} rules={[{ required: true }]}>
              <DatePicker />
            </Form.Item>
            <Button data-testid="return-plan-save" htmlType="submit" loading={plan.isPending}>{t('referral.savePlan')}</Button>
          </Form>
        </Card>
      )}
    </div>
  );
}
