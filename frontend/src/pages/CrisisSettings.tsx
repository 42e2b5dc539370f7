import { useEffect } from 'react';
import { App, Button, Card, Form, InputNumber, Space, Spin, Table, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { levels, type CrisisSettings as Settings } from './crisis/model';

// CrisisSettings (危机设置): per risk level, the acknowledgement and guardian-notification
// deadlines; when an overdue crisis goes on from the school leader to the district; how far
// back a step may be dated; when referral feedback is due. District administrator edits,
// supervisors read.
export default function CrisisSettings() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const url = `/api/v1/districts/${current?.district_id}/crisis-settings`;
  const canEdit = current?.role === 'district_admin';
  const q = useQuery({ queryKey: ['crisis-settings', url], enabled: !!current, queryFn: () => api<Settings>('GET', url) });
  useEffect(() => {
    if (q.data) form.setFieldsValue(q.data);
  }, [q.data, form]);
  const save = useMutation({
    mutationFn: (v: Settings) => api<Settings>('PUT', url, v),
    onSuccess: (s) => {
      message.success(t('crisisSettings.saved'));
      qc.setQueryData(['crisis-settings', url], s);
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  if (q.error) return <ProblemAlert error={q.error} />;
  if (!q.data) return <Spin />;
  const minutes = (name: (string | number)[], min: number, max: number) => (
    <Form.Item name={name} noStyle rules={[{ required: true }, { type: 'number', min, max }]}>
      <InputNumber min={min} max={max} disabled={!canEdit} addonAfter={t('crisisSettings.minutes')} style={{ width: 170 }} />
    </Form.Item>
  );
  return (
    <Card title={t('menu.crisisSettings')}>
      <Typography.Paragraph type="secondary">{t('crisisSettings.hint')}</Typography.Paragraph>
      <ProblemAlert error={save.error} formFields={[]} />
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} initialValues={q.data}>
        <Table size="small" rowKey="l" pagination={false} style={{ marginBottom: 16 }} dataSource={levels.map((l) => ({ l }))}
          columns={[
            { title: t('crisis.field.level'), dataIndex: 'l', render: (l: string) => t(`crisis.level.${l}`) },
            { title: t('crisisSettings.ack'), key: 'a', render: (_: unknown, r: { l: string }) => minutes(['deadlines', r.l, 'ack_minutes'], 5, 10080) },
            { title: t('crisisSettings.guardian'), key: 'g', render: (_: unknown, r: { l: string }) => minutes(['deadlines', r.l, 'guardian_minutes'], 5, 20160) },
          ]} />
        <Space wrap size="large">
          <Form.Item name="leader_escalation_minutes" label={t('crisisSettings.leaderEscalation')} rules={[{ required: true }]}>
            <InputNumber min={5} max={1440} disabled={!canEdit} addonAfter={t('crisisSettings.minutes')} />
          </Form.Item>
          <Form.Item name="backdate_minutes" label={t('crisisSettings.backdate')} rules={[{ required: true }]}>
            <InputNumber min={0} max={1440} disabled={!canEdit} addonAfter={t('crisisSettings.minutes')} />
          </Form.Item>
          <Form.Item name="feedback_days" label={t('crisisSettings.feedbackDays')} rules={[{ required: true }]}>
            <InputNumber min={1} max={90} disabled={!canEdit} addonAfter={t('crisisSettings.days')} />
          </Form.Item>
        </Space>
        {canEdit && <div><Button data-testid="crisis-settings-save" type="primary" htmlType="submit" loading={save.isPending}>{t('crisisSettings.save')}</Button></div>}
      </Form>
    </Card>
  );
}
