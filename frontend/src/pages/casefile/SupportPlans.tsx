import { useState } from 'react';
import { App, Button, Card, DatePicker, Empty, Form, Input, Modal, Radio, Select, Space, Tag, Timeline, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { MembershipView, Page } from '../../api/types';
import ProblemAlert, { useFieldErrors } from '../../components/ProblemAlert';

interface Item {
  id: string;
  text: string;
}

interface Review {
  id: string;
  reviewed_on: string;
  due_date: string;
  outcome: string;
  next_review_date: string | null;
  status_after: string;
  created_at: string;
}

export interface SupportPlan {
  id: string;
  status: 'active' | 'completed' | 'discontinued';
  goals: Item[];
  actions: Item[];
  responsible_user_id: string | null;
  responsible_name: string;
  responsible_role: string;
  review_date: string;
  overdue: boolean;
  reviews: Review[];
  created_at: string;
}

const day = (d: dayjs.Dayjs) => d.format('YYYY-MM-DD');
const lines = (s?: string) => (s ?? '').split('\n').map((l) => l.trim()).filter(Boolean);

// SupportPlans is the case-file tab of support plans (一生一策): goals, actions, who is
// responsible, reviews; an overdue review shows in red.
export default function SupportPlans({ base, id }: { base: string; id: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const plans = useQuery({ queryKey: ['support-plans', id], queryFn: () => api<{ items: SupportPlan[] }>('GET', `${base}/case-files/${id}/support-plans`) });
  const staff = useQuery({ queryKey: ['plan-staff', base], queryFn: () => api<Page<MembershipView>>('GET', `${base}/staff?limit=200`) });
  const [creating, setCreating] = useState(false);
  const [reviewing, setReviewing] = useState<SupportPlan | null>(null);
  const [form] = Form.useForm();
  const [reviewForm] = Form.useForm();
  const refresh = () => void qc.invalidateQueries({ queryKey: ['support-plans', id] });
  const create = useMutation({
    mutationFn: (v: { goals: string; actions?: string; responsible: string; responsible_user_id?: string; responsible_role?: string; review_date: dayjs.Dayjs }) =>
      api('POST', `${base}/case-files/${id}/support-plans`, {
        goals: lines(v.goals), actions: lines(v.actions), review_date: day(v.review_date),
        ...(v.responsible === 'staff' ? { responsible_user_id: v.responsible_user_id } : { responsible_role: v.responsible_role }),
      }),
    onSuccess: () => {
      refresh();
      setCreating(false);
      form.resetFields();
      message.success(t('plan.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const review = useMutation({
    mutationFn: (v: { outcome: string; status: string; next_review_date?: dayjs.Dayjs }) =>
      api('POST', `${base}/support-plans/${reviewing!.id}/reviews`, {
        outcome: v.outcome, status: v.status, ...(v.status === 'active' && v.next_review_date ? { next_review_date: day(v.next_review_date) } : {}),
      }),
    onSuccess: () => {
      refresh();
      void qc.invalidateQueries({ queryKey: ['inbox'] });
      setReviewing(null);
      reviewForm.resetFields();
      message.success(t('plan.reviewSaved'));
    },
    onError: (e) => reviewForm.setFields(toFields(e)),
  });
  const responsible = Form.useWatch('responsible', form);
  const reviewStatus = Form.useWatch('status', reviewForm);
  const staffOptions = (staff.data?.items ?? []).map((m) => ({ value: m.user_id, label: `${m.display_name} · ${t(`role.${m.role}`)}` }));
  const list = plans.data?.items ?? [];
  return (
    <>
      <ProblemAlert error={plans.error} />
      <Button data-testid="plan-new" type="primary" icon={<PlusOutlined />} style={{ marginBottom: 16 }}
        onClick={() => { form.setFieldsValue({ responsible: 'role', review_date: dayjs().add(14, 'day') }); setCreating(true); }}>
        {t('plan.new')}
      </Button>
      {plans.data && list.length === 0 && <Empty description={t('plan.empty')} />}
      {list.map((p) => (
        <Card key={p.id} size="small" data-testid="plan-card" style={{ marginBottom: 12 }}
          title={
            <Space wrap>
              <Tag color={p.status === 'active' ? 'blue' : 'default'}>{t(`plan.statusValue.${p.status}`)}</Tag>
              <span data-testid="plan-review-date" style={p.overdue ? { color: '#cf1322', fontWeight: 600 } : undefined}>
                {t('plan.reviewDate')}：{p.review_date}
              </span>
              {p.overdue && <Tag color="red" data-testid="plan-overdue">{t('plan.overdue')}</Tag>}
            </Space>
          }
          extra={p.status === 'active' && (
            <Button size="small" data-testid="plan-review" onClick={() => { reviewForm.setFieldsValue({ status: 'active', next_review_date: dayjs().add(30, 'day') }); setReviewing(p); }}>
              {t('plan.recordReview')}
            </Button>
          )}
        >
          <Typography.Text strong>{t('plan.goals')}</Typography.Text>
          <ul style={{ marginTop: 4 }}>{p.goals.map((g) => <li key={g.id}>{g.text}</li>)}</ul>
          {p.actions.length > 0 && (
            <>
              <Typography.Text strong>{t('plan.actions')}</Typography.Text>
              <ul style={{ marginTop: 4 }}>{p.actions.map((a) => <li key={a.id}>{a.text}</li>)}</ul>
            </>
          )}
          <Typography.Paragraph type="secondary">
            {t('plan.responsible')}：{p.responsible_name || p.responsible_role}
          </Typography.Paragraph>
          {p.reviews.length > 0 && (
            <Timeline
              items={p.reviews.map((r) => ({
                color: r.status_after === 'active' ? 'blue' : 'green',
                children: (
                  <div data-testid="plan-review-item">
                    <strong>{r.reviewed_on}</strong> {r.outcome}
                    {r.next_review_date && <Typography.Text type="secondary">（{t('plan.nextReview')}：{r.next_review_date}）</Typography.Text>}
                    {r.status_after !== 'active' && <Tag style={{ marginLeft: 8 }}>{t(`plan.statusValue.${r.status_after}`)}</Tag>}
                  </div>
                ),
              }))}
            />
          )}
        </Card>
      ))}
      <Modal open={creating} width={620} title={t('plan.new')} onCancel={() => setCreating(false)} onOk={() => form.submit()}
        confirmLoading={create.isPending} destroyOnHidden okButtonProps={{ 'data-testid': 'plan-save' } as never}>
        <ProblemAlert error={create.error} />
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="goals" label={t('plan.goals')} extra={t('plan.onePerLine')} rules={[{ required: true }]}>
            <Input.TextArea data-testid="plan-goals" rows={3} />
          </Form.Item>
          <Form.Item name="actions" label={t('plan.actions')} extra={t('plan.onePerLine')}>
            <Input.TextArea data-testid="plan-actions" rows={3} />
          </Form.Item>
          <Form.Item name="responsible" label={t('plan.responsible')}>
            <Radio.Group options={[{ value: 'role', label: t('plan.byRole') }, { value: 'staff', label: t('plan.byStaff') }]} />
          </Form.Item>
          {responsible === 'staff' ? (
            <Form.Item name="responsible_user_id" rules={[{ required: true }]}>
              <Select showSearch optionFilterProp="label" options={staffOptions} loading={staff.isLoading} />
            </Form.Item>
          ) : (
            <Form.Item name="responsible_role" rules={[{ required: true }]}>
              <Input data-testid="plan-responsible-role" maxLength={40} placeholder={t('plan.rolePlaceholder')} />
            </Form.Item>
          )}
          <Form.Item name="review_date" label={t('plan.reviewDate')} rules={[{ required: true }]}>
            <DatePicker data-testid="plan-review-date-input" disabledDate={(d) => d.isBefore(dayjs(), 'day')} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={!!reviewing} title={t('plan.recordReview')} onCancel={() => setReviewing(null)} onOk={() => reviewForm.submit()}
        confirmLoading={review.isPending} destroyOnHidden okButtonProps={{ 'data-testid': 'plan-review-save' } as never}>
        <ProblemAlert error={review.error} />
        <Form form={reviewForm} layout="vertical" onFinish={(v) => review.mutate(v)}>
          <Form.Item name="outcome" label={t('plan.outcome')} rules={[{ required: true }]}>
            <Input.TextArea data-testid="plan-outcome" rows={3} maxLength={20000} />
          </Form.Item>
          <Form.Item name="status" label={t('plan.afterReview')}>
            <Radio.Group options={['active', 'completed', 'discontinued'].map((s) => ({ value: s, label: t(`plan.statusValue.${s}`) }))} />
          </Form.Item>
          {reviewStatus === 'active' && (
            <Form.Item name="next_review_date" label={t('plan.nextReview')} rules={[{ required: true }]}>
              <DatePicker disabledDate={(d) => !d.isAfter(dayjs(), 'day')} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </>
  );
}
