import { useState } from 'react';
import { App, Button, Card, DatePicker, Drawer, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { MembershipView } from '../api/types';
import { useSession } from '../session';
import EmergencyGrants from './casefile/EmergencyGrants';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

interface ClientSession { id: string; occurred_at: string; channel: string; duration_minutes: number; summary: string; note: string }
interface ClientFile {
  id: string;
  client_kind: 'teacher' | 'guardian';
  staff_user_id: string | null;
  name: string;
  contact: string;
  status: string;
  opened_at: string;
  updated_at: string;
  sessions?: ClientSession[];
}

const channels = ['walk_in', 'scheduled', 'phone', 'online'];

// ClientFiles: the confidential files of teachers and guardians counseled by the school's
// counselors (教师、家长心理咨询). Counselors only; never shown to the school leader.
export default function ClientFiles() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current, me } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [opening, setOpening] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const [form] = Form.useForm();
  const [sessionForm] = Form.useForm();
  const list = useQuery({ queryKey: ['client-files', base], queryFn: () => api<{ items: ClientFile[] }>('GET', `${base}/client-files`) });
  const staff = useQuery({
    queryKey: ['client-files-staff', base],
    enabled: opening,
    queryFn: () => api<{ items: MembershipView[] }>('GET', `${base}/staff?limit=200`),
  });
  const file = useQuery({
    queryKey: ['client-file', openId],
    enabled: !!openId,
    queryFn: () => api<ClientFile>('GET', `${base}/client-files/${openId}`),
  });
  const open = useMutation({
    mutationFn: (v: Record<string, unknown>) => api<ClientFile>('POST', `${base}/client-files`, {
      client_kind: v.client_kind, staff_user_id: v.client_kind === 'teacher' ? v.staff_user_id ?? null : null, name: v.name, contact: v.contact ?? '',
    }),
    onSuccess: (f) => {
      void qc.invalidateQueries({ queryKey: ['client-files'] });
      setOpening(false);
      form.resetFields();
      setOpenId(f.id);
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const record = useMutation({
    mutationFn: (v: Record<string, unknown>) => api('POST', `${base}/client-files/${openId}/sessions`, {
      ...v, occurred_at: (v.occurred_at as dayjs.Dayjs).toISOString(), note: v.note ?? '',
    }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['client-file', openId] });
      void qc.invalidateQueries({ queryKey: ['client-files'] });
      sessionForm.resetFields();
      message.success(t('clientFile.saved'));
    },
    onError: (e) => sessionForm.setFields(toFields(e)),
  });
  const colleagues = (staff.data?.items ?? []).filter((m, i, all) => m.user_id !== me?.user.id && all.findIndex((x) => x.user_id === m.user_id) === i);
  return (
    <Card title={t('clientFile.title')} extra={<Button data-testid="client-open" type="primary" onClick={() => setOpening(true)}>{t('clientFile.open')}</Button>}>
      <Typography.Paragraph type="secondary">{t('clientFile.intro')}</Typography.Paragraph>
      <ProblemAlert error={list.error} />
      <Table data-testid="client-files" rowKey="id" loading={list.isLoading} dataSource={list.data?.items ?? []} pagination={false}
        onRow={(f) => ({ onClick: () => setOpenId(f.id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('clientFile.name'), dataIndex: 'name' },
          { title: t('clientFile.kind'), dataIndex: 'client_kind', render: (k: string) => <Tag>{t(`clientFile.kindValue.${k}`)}</Tag> },
          { title: t('clientFile.contact'), dataIndex: 'contact' },
          { title: t('clientFile.updatedAt'), dataIndex: 'updated_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
        ]} />
      <Modal open={opening} title={t('clientFile.open')} onCancel={() => setOpening(false)} onOk={() => form.submit()} confirmLoading={open.isPending} destroyOnHidden>
        <ProblemAlert error={open.error} />
        <Form form={form} layout="vertical" initialValues={{ client_kind: 'teacher' }} onFinish={(v) => open.mutate(v)}>
          <Form.Item name="client_kind" label={t('clientFile.kind')}>
            <Select options={['teacher', 'guardian'].map((k) => ({ value: k, label: t(`clientFile.kindValue.${k}`) }))} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.client_kind !== b.client_kind}>
            {({ getFieldValue }) => getFieldValue('client_kind') === 'teacher' && (
              <Form.Item name="staff_user_id" label={t('clientFile.staffAccount')} extra={t('clientFile.staffAccountHelp')}>
                <Select allowClear loading={staff.isLoading} options={colleagues.map((m) => ({ value: m.user_id, label: m.display_name }))} />
              </Form.Item>
            )}
          </Form.Item>
          <Form.Item name="name" label={t('clientFile.name')} rules={[{ required: true }]}><Input maxLength={50} /></Form.Item>
          <Form.Item name="contact" label={t('clientFile.contact')}><Input maxLength={100} /></Form.Item>
        </Form>
      </Modal>
      <Drawer open={!!openId} width={640} onClose={() => setOpenId(null)} destroyOnHidden title={file.data?.name ?? ''}>
        <ProblemAlert error={file.error || record.error} />
        {file.data && (
          <>
            <Space style={{ marginBottom: 12 }}>
              <Tag>{t(`clientFile.kindValue.${file.data.client_kind}`)}</Tag>
              {file.data.contact && <Typography.Text>{file.data.contact}</Typography.Text>}
            </Space>
            <Typography.Paragraph type="secondary" style={{ marginBottom: 12 }}>
              {t('clientFile.number')}：<Typography.Text data-testid="client-file-number" copyable>{file.data.id}</Typography.Text>
            </Typography.Paragraph>
            <Timeline items={(file.data.sessions ?? []).map((s) => ({
              children: (
                <div data-testid="client-session">
                  <Space><strong>{dayjs(s.occurred_at).format('YYYY-MM-DD HH:mm')}</strong><Tag>{t(`caseFile.channelValue.${s.channel}`)}</Tag><span>{s.duration_minutes}′</span></Space>
                  <Typography.Paragraph style={{ margin: '4px 0' }}>{s.summary}</Typography.Paragraph>
                  {s.note && <Typography.Paragraph type="secondary">{s.note}</Typography.Paragraph>}
                </div>
              ),
            }))} />
            <Card size="small" title={t('clientFile.newSession')}>
              <Form form={sessionForm} layout="vertical" initialValues={{ channel: 'walk_in', duration_minutes: 50, occurred_at: dayjs() }} onFinish={(v) => record.mutate(v)}>
                <Space wrap>
                  <Form.Item name="occurred_at" label={t('clientFile.when')} rules={[{ required: true }]}><DatePicker showTime format="YYYY-MM-DD HH:mm" /></Form.Item>
                  <Form.Item name="channel" label={t('clientFile.channel')}>
                    <Select style={{ width: 120 }} options={channels.map((c) => ({ value: c, label: t(`caseFile.channelValue.${c}`) }))} />
                  </Form.Item>
                  <Form.Item name="duration_minutes" label={t('clientFile.minutes')}><InputNumber min={1} max={600} /></Form.Item>
                </Space>
                <Form.Item name="summary" label={t('clientFile.summary')} rules={[{ required: true }]}><Input.TextArea rows={3} /></Form.Item>
                <Form.Item name="note" label={t('clientFile.note')}><Input.TextArea rows={2} /></Form.Item>
                <Button data-testid="client-session-save" type="primary" htmlType="submit" loading={record.isPending}>{t('clientFile.save')}</Button>
              </Form>
            </Card>
            <Typography.Title level={5} style={{ marginTop: 16 }}>{t('emergency.tab')}</Typography.Title>
            <EmergencyGrants base={base} id={file.data.id} files="client-files" />
          </>
        )}
      </Drawer>
    </Card>
  );
}
