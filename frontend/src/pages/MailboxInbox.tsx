import { useState } from 'react';
import { App, Button, Card, Form, Input, List, Modal, Segmented, Select, Space, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import type { Page, Student } from '../api/types';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

interface Message {
  id: string;
  created_at: string;
  anonymous: boolean;
  sender_name: string;
  homeroom: string;
  body: string;
  status: 'new' | 'answered';
  answer: string;
  case_file_id: string | null;
}

// MailboxInbox is the counselors' view of the school's mailbox (心理辅导信箱): read,
// answer, and link a named message to the student's case file.
export default function MailboxInbox() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [view, setView] = useState<'new' | 'answered'>('new');
  const [answering, setAnswering] = useState<Message | null>(null);
  const [linking, setLinking] = useState<Message | null>(null);
  const [form] = Form.useForm();
  const [linkForm] = Form.useForm();
  const list = useQuery({ queryKey: ['mailbox', current?.school_id, view], queryFn: () => api<{ items: Message[] }>('GET', `${base}/mailbox?status=${view}`) });
  const students = useQuery({ queryKey: ['mailbox-students', current?.school_id], enabled: !!linking, queryFn: () => api<Page<Student>>('GET', `${base}/students?limit=200`) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['mailbox'] });
  const answer = useMutation({
    mutationFn: (v: { answer: string }) => api<Message>('POST', `${base}/mailbox/${answering?.id}/answer`, v),
    onSuccess: () => { refresh(); setAnswering(null); message.success(t('mailbox.answered')); },
    onError: (e) => form.setFields(toFields(e) as never),
  });
  const link = useMutation({
    mutationFn: (v: { student_id: string }) => api<Message>('POST', `${base}/mailbox/${linking?.id}/link`, v),
    onSuccess: () => { refresh(); setLinking(null); message.success(t('mailbox.linked')); },
    onError: (e) => linkForm.setFields(toFields(e) as never),
  });
  const publicLink = `${window.location.origin}/mailbox/${current?.school_id}`;
  return (
    <Card title={t('mailbox.inbox')} extra={<Segmented value={view} onChange={(v) => setView(v as 'new' | 'answered')}
      options={[{ value: 'new', label: t('mailbox.new') }, { value: 'answered', label: t('mailbox.answeredTab') }]} />}>
      <Typography.Paragraph type="secondary">{t('mailbox.publicLink')} <Typography.Text copyable>{publicLink}</Typography.Text></Typography.Paragraph>
      <ProblemAlert error={list.error} />
      <List
        data-testid="mailbox-list"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        locale={{ emptyText: t('mailbox.empty') }}
        renderItem={(m) => (
          <List.Item data-testid="mailbox-message"
            actions={[
              <Button key="a" size="small" data-testid="mailbox-answer" onClick={() => { setAnswering(m); form.setFieldsValue({ answer: m.answer }); }}>{t('mailbox.answer')}</Button>,
              !m.anonymous && !m.case_file_id && <Button key="l" size="small" onClick={() => setLinking(m)}>{t('mailbox.link')}</Button>,
              m.case_file_id && <a key="o" onClick={() => navigate(`/case-files?open=${m.case_file_id}`)}>{t('inbox.openCaseFile')}</a>,
            ].filter(Boolean)}>
            <List.Item.Meta
              title={<Space wrap>{dayjs(m.created_at).format('YYYY-MM-DD HH:mm')}{m.anonymous ? <Tag>{t('mailbox.anonymousTag')}</Tag> : <Tag color="blue">{m.sender_name} {m.homeroom}</Tag>}</Space>}
              description={<><div style={{ whiteSpace: 'pre-wrap' }}>{m.body}</div>{m.answer && <Typography.Text type="success">{t('mailbox.yourAnswer')}{m.answer}</Typography.Text>}</>}
            />
          </List.Item>
        )}
      />
      <Modal open={!!answering} title={t('mailbox.answer')} onCancel={() => setAnswering(null)} onOk={() => form.submit()} confirmLoading={answer.isPending} destroyOnHidden>
        <ProblemAlert error={answer.error} formFields={['answer']} />
        <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{answering?.body}</Typography.Paragraph>
        <Form form={form} layout="vertical" onFinish={(v) => answer.mutate(v)}>
          <Form.Item name="answer" label={t('mailbox.answer')} rules={[{ required: true, whitespace: true, max: 3000 }]} extra={t('mailbox.answerHelp')}>
            <Input.TextArea data-testid="mailbox-answer-text" rows={5} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={!!linking} title={t('mailbox.link')} onCancel={() => setLinking(null)} onOk={() => linkForm.submit()} confirmLoading={link.isPending} destroyOnHidden>
        <ProblemAlert error={link.error} formFields={['student_id']} />
        <Form form={linkForm} layout="vertical" onFinish={(v) => link.mutate(v)}>
          <Form.Item name="student_id" label={t('student.name')} rules={[{ required: true }]} extra={t('mailbox.linkHelp', { name: linking?.sender_name, homeroom: linking?.homeroom })}>
            <Select showSearch optionFilterProp="label" loading={students.isLoading}
              options={(students.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name}（${s.student_number}）` }))} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
