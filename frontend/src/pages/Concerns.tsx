import { useState } from 'react';
import { App, Button, Card, Form, Input, Modal, Select, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Page, Student } from '../api/types';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

export interface RaisedConcern {
  id: string;
  student_id: string;
  student_name: string;
  urgency: string;
  observation: string;
  status: string;
  raised_at: string;
  status_changed_at: string;
}

export const urgencies = ['routine', 'soon', 'urgent'];
export const urgencyColor: Record<string, string> = { routine: 'default', soon: 'orange', urgent: 'red' };
export const statusColor: Record<string, string> = { received: 'blue', in_progress: 'orange', closed: 'green' };

// Concerns is the homeroom teacher's screen: raise a concern about a student of their
// homeroom (关注上报) and follow its status. Nothing of the case file is ever shown here.
export default function Concerns() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [raising, setRaising] = useState(false);
  const [form] = Form.useForm();
  const list = useQuery({
    queryKey: ['concerns', current?.school_id],
    enabled: !!current?.school_id,
    queryFn: () => api<{ items: RaisedConcern[] }>('GET', `${base}/concerns`),
  });
  const students = useQuery({
    queryKey: ['concern-students', current?.school_id],
    enabled: raising,
    queryFn: () => api<Page<Student>>('GET', `${base}/students?limit=200`),
  });
  const raise = useMutation({
    mutationFn: (v: Record<string, unknown>) => api('POST', `${base}/concerns`, v),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['concerns'] });
      setRaising(false);
      form.resetFields();
      message.success(t('concern.raised'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Card
      title={t('concern.title')}
      extra={<Button data-testid="concern-raise" type="primary" icon={<PlusOutlined />} onClick={() => setRaising(true)}>{t('concern.raise')}</Button>}
    >
      <ProblemAlert error={list.error} />
      <Table
        data-testid="concerns-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        columns={[
          { title: t('concern.raisedAt'), dataIndex: 'raised_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
          { title: t('student.name'), dataIndex: 'student_name' },
          { title: t('concern.urgency'), dataIndex: 'urgency', render: (v: string) => <Tag color={urgencyColor[v]}>{t(`concern.urgencyValue.${v}`)}</Tag> },
          { title: t('concern.observation'), dataIndex: 'observation', ellipsis: true },
          { title: t('concern.status'), dataIndex: 'status', render: (v: string) => <Tag data-testid="concern-status" color={statusColor[v]}>{t(`concern.statusValue.${v}`)}</Tag> },
        ]}
      />
      <Modal open={raising} title={t('concern.raise')} onCancel={() => setRaising(false)} onOk={() => form.submit()} confirmLoading={raise.isPending} destroyOnHidden>
        <ProblemAlert error={raise.error} />
        <Form form={form} layout="vertical" initialValues={{ urgency: 'routine' }} onFinish={(v) => raise.mutate(v)}>
          <Form.Item name="student_id" label={t('student.name')} rules={[{ required: true }]}>
            <Select
              data-testid="concern-student"
              showSearch
              optionFilterProp="label"
              loading={students.isLoading}
              options={(students.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name}（${s.student_number}）` }))}
            />
          </Form.Item>
          <Form.Item name="urgency" label={t('concern.urgency')}>
            <Select options={urgencies.map((v) => ({ value: v, label: t(`concern.urgencyValue.${v}`) }))} />
          </Form.Item>
          <Form.Item name="observation" label={t('concern.observation')} rules={[{ required: true }]} extra={t('concern.observationHelp')}>
            <Input.TextArea rows={4} maxLength={5000} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
