import { useState } from 'react';
import { App, Button, Card, Form, Input, Modal, Segmented, Select, Space, Table, Tag } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { statusColor, urgencyColor, type RaisedConcern } from './Concerns';

interface Concern extends RaisedConcern {
  student_number: string;
  homeroom_name: string;
  raised_by_name: string;
  case_file_id: string | null;
  outcome: string | null;
  outcome_note: string;
}

const outcomes = ['case_opened', 'monitoring', 'no_action_needed', 'referred_elsewhere'];

// Intake is the counselors' intake queue (受理队列): concerns raised by homeroom teachers,
// urgent first. Taking one in opens (or links) the student's case file.
export default function Intake() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [view, setView] = useState<'open' | 'closed'>('open');
  const [closing, setClosing] = useState<Concern | null>(null);
  const [form] = Form.useForm();
  const queue = useQuery({
    queryKey: ['intake', current?.school_id, view],
    enabled: !!current?.school_id,
    queryFn: () => api<{ items: Concern[] }>('GET', `${base}/intake${view === 'closed' ? '?status=closed' : ''}`),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['intake'] });
    void qc.invalidateQueries({ queryKey: ['inbox'] });
    void qc.invalidateQueries({ queryKey: ['case-files'] });
  };
  const accept = useMutation({
    mutationFn: (id: string) => api<Concern>('POST', `${base}/intake/${id}/accept`),
    onSuccess: () => {
      refresh();
      message.success(t('intake.accepted'));
    },
  });
  const close = useMutation({
    mutationFn: (v: { outcome: string; note?: string }) => api('POST', `${base}/intake/${closing?.id}/close`, v),
    onSuccess: () => {
      refresh();
      setClosing(null);
      form.resetFields();
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Card
      title={t('intake.title')}
      extra={<Segmented value={view} onChange={(v) => setView(v as 'open' | 'closed')}
        options={[{ value: 'open', label: t('intake.open') }, { value: 'closed', label: t('intake.closed') }]} />}
    >
      <ProblemAlert error={queue.error || accept.error} />
      <Table
        data-testid="intake-table"
        rowKey="id"
        loading={queue.isLoading}
        dataSource={queue.data?.items ?? []}
        pagination={false}
        expandable={{ expandedRowRender: (c) => <p style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{c.observation}</p> }}
        columns={[
          { title: t('concern.raisedAt'), dataIndex: 'raised_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
          { title: t('concern.urgency'), dataIndex: 'urgency', render: (v: string) => <Tag color={urgencyColor[v]}>{t(`concern.urgencyValue.${v}`)}</Tag> },
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'student_name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('intake.raisedBy'), dataIndex: 'raised_by_name' },
          { title: t('concern.observation'), dataIndex: 'observation', ellipsis: true },
          { title: t('concern.status'), dataIndex: 'status', render: (v: string, c) => (
            <Space>
              <Tag color={statusColor[v]}>{t(`concern.statusValue.${v}`)}</Tag>
              {c.outcome && <Tag>{t(`intake.outcomeValue.${c.outcome}`)}</Tag>}
            </Space>
          ) },
          {
            title: '', key: 'actions', render: (_, c) => (
              <Space>
                {c.status === 'received' && (
                  <Button data-testid="intake-accept" size="small" type="primary" loading={accept.isPending} onClick={() => accept.mutate(c.id)}>{t('intake.accept')}</Button>
                )}
                {c.case_file_id && <a onClick={() => navigate(`/case-files?open=${c.case_file_id}`)}>{t('inbox.openCaseFile')}</a>}
                {c.status !== 'closed' && <a onClick={() => setClosing(c)}>{t('intake.close')}</a>}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={!!closing} title={t('intake.close')} onCancel={() => setClosing(null)} onOk={() => form.submit()} confirmLoading={close.isPending} destroyOnHidden>
        <ProblemAlert error={close.error} />
        <Form form={form} layout="vertical" onFinish={(v) => close.mutate(v)}>
          <Form.Item name="outcome" label={t('intake.outcome')} rules={[{ required: true }]}>
            <Select options={outcomes.map((v) => ({ value: v, label: t(`intake.outcomeValue.${v}`), disabled: v === 'case_opened' && !closing?.case_file_id }))} />
          </Form.Item>
          <Form.Item name="note" label={t('intake.note')} extra={t('intake.noteHelp')}>
            <Input.TextArea rows={3} maxLength={5000} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
