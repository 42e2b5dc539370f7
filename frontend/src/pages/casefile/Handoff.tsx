import { useState } from 'react';
import { App, Button, Form, Input, Modal, Select } from 'antd';
import { SwapOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { MembershipView, Page } from '../../api/types';
import ProblemAlert, { useFieldErrors } from '../../components/ProblemAlert';

// Handoff hands a case file to other counselors of the school (交接), with a reason.
export default function Handoff({ base, id, counselors, disabled }: { base: string; id: string; counselors: string[]; disabled?: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const staff = useQuery({
    queryKey: ['staff-counselors', base],
    enabled: open,
    queryFn: () => api<Page<MembershipView>>('GET', `${base}/staff?limit=200`),
  });
  const handoff = useMutation({
    mutationFn: (v: { counselors: string[]; reason: string }) => api('POST', `${base}/case-files/${id}/handoff`, v),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['case-file', id] });
      void qc.invalidateQueries({ queryKey: ['case-files'] });
      setOpen(false);
      message.success(t('handoff.done'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const options = (staff.data?.items ?? [])
    .filter((m) => m.role === 'counselor')
    .map((m) => ({ value: m.user_id, label: m.display_name }));
  return (
    <>
      <Button data-testid="handoff" size="small" icon={<SwapOutlined />} disabled={disabled} onClick={() => setOpen(true)}>{t('handoff.action')}</Button>
      <Modal open={open} title={t('handoff.title')} onCancel={() => setOpen(false)} onOk={() => form.submit()} confirmLoading={handoff.isPending} destroyOnHidden>
        <ProblemAlert error={handoff.error} />
        <Form form={form} layout="vertical" initialValues={{ counselors }} onFinish={(v) => handoff.mutate(v)}>
          <Form.Item name="counselors" label={t('handoff.counselors')} rules={[{ required: true }]} extra={t('handoff.help')}>
            <Select mode="multiple" maxCount={3} loading={staff.isLoading} options={options} />
          </Form.Item>
          <Form.Item name="reason" label={t('handoff.reason')} rules={[{ required: true }]}>
            <Input.TextArea rows={2} maxLength={2000} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
