import { useState } from 'react';
import { App, Button, Card, DatePicker, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import type { LiaisonEvent, Roster, RosterHomeroom } from './programs/termplan';

interface EventForm { kind: 'training' | 'meeting'; held_on: Dayjs; topic: string; hours: number; attendee_ids: string[]; notes?: string }

// Liaisons is the school's peer-liaison network (心理委员网络): the roster of liaisons per
// homeroom (homerooms without one stand out) and the liaisons' trainings and meetings,
// recorded by counselors (notes about the meeting, never about students).
export default function Liaisons() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const canRecord = current?.role === 'counselor';
  const [recording, setRecording] = useState(false);
  const [form] = Form.useForm<EventForm>();
  const roster = useQuery({ queryKey: ['liaison-roster', current?.school_id], queryFn: () => api<Roster>('GET', `${base}/liaison-roster`) });
  const events = useQuery({ queryKey: ['liaison-events', current?.school_id], queryFn: () => api<{ items: LiaisonEvent[] }>('GET', `${base}/liaison-events`) });
  const liaisons = (roster.data?.homerooms ?? []).flatMap((h) => h.liaisons.map((l) => ({ value: l.user_id, label: `${l.name}（${h.name}）` })));
  const record = useMutation({
    mutationFn: (v: EventForm) => api<LiaisonEvent>('POST', `${base}/liaison-events`, {
      kind: v.kind, held_on: v.held_on.format('YYYY-MM-DD'), topic: v.topic, hours: v.hours, attendee_ids: v.attendee_ids, notes: v.notes ?? '',
    }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['liaison-events'] });
      setRecording(false);
      form.resetFields();
      message.success(t('liaison.recorded'));
    },
    onError: (e) => form.setFields(toFields(e) as never),
  });
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card title={t('liaison.roster')} extra={roster.data && (
        <Space>
          <Tag color="green">{t('liaison.covered', { n: roster.data.covered })}</Tag>
          <Tag data-testid="liaison-missing" color={roster.data.missing > 0 ? 'red' : 'green'}>{t('liaison.missing', { n: roster.data.missing })}</Tag>
        </Space>
      )}>
        <ProblemAlert error={roster.error} />
        <Table<RosterHomeroom>
          data-testid="liaison-roster"
          rowKey="id"
          size="small"
          loading={roster.isLoading}
          dataSource={roster.data?.homerooms ?? []}
          pagination={false}
          onRow={(h) => ({ 'data-testid': 'roster-homeroom', 'data-missing': String(!h.has_liaison) }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: t('liaison.grade'), dataIndex: 'parent' },
            { title: t('liaison.homeroom'), dataIndex: 'name' },
            {
              title: t('liaison.liaisons'), key: 'l',
              render: (_, h) => (h.has_liaison ? h.liaisons.map((l) => <Tag key={l.user_id}>{l.name}</Tag>) : <Tag color="red">{t('liaison.none')}</Tag>),
            },
          ]}
        />
      </Card>
      <Card title={t('liaison.events')} extra={canRecord && (
        <Button data-testid="liaison-event-record" type="primary" icon={<PlusOutlined />} onClick={() => setRecording(true)}>{t('liaison.record')}</Button>
      )}>
        <ProblemAlert error={events.error} />
        <Table<LiaisonEvent>
          data-testid="liaison-events"
          rowKey="id"
          loading={events.isLoading}
          dataSource={events.data?.items ?? []}
          pagination={false}
          onRow={() => ({ 'data-testid': 'liaison-event' }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: t('programs.heldOn'), dataIndex: 'held_on' },
            { title: t('common.kind'), dataIndex: 'kind', render: (k: string) => t(`liaison.kind.${k}`) },
            { title: t('liaison.topic'), dataIndex: 'topic' },
            { title: t('programs.hours'), dataIndex: 'hours' },
            { title: t('liaison.attendees'), key: 'a', render: (_, e) => e.attendees.map((a) => a.name).join('、') },
            { title: t('liaison.notes'), dataIndex: 'notes', render: (v: string) => <Typography.Text ellipsis={{ tooltip: v }} style={{ maxWidth: 240 }}>{v}</Typography.Text> },
          ]}
        />
      </Card>
      <Modal open={recording} width={600} title={t('liaison.record')} onCancel={() => setRecording(false)} onOk={() => form.submit()}
        okButtonProps={{ 'data-testid': 'liaison-event-save' } as never} confirmLoading={record.isPending} destroyOnHidden>
        <ProblemAlert error={record.error} formFields={['kind', 'held_on', 'topic', 'hours', 'attendee_ids', 'notes']} />
        <Form form={form} layout="vertical" initialValues={{ kind: 'training', held_on: dayjs(), hours: 1 }} onFinish={(v) => record.mutate(v)}>
          <Space wrap>
            <Form.Item name="kind" label={t('common.kind')} rules={[{ required: true }]}>
              <Select style={{ width: 140 }} options={['training', 'meeting'].map((k) => ({ value: k, label: t(`liaison.kind.${k}`) }))} />
            </Form.Item>
            <Form.Item name="held_on" label={t('programs.heldOn')} rules={[{ required: true }]}>
              <DatePicker disabledDate={(d) => d.isAfter(dayjs(), 'day')} />
            </Form.Item>
            <Form.Item name="hours" label={t('programs.hours')} rules={[{ required: true }]}>
              <InputNumber data-testid="liaison-event-hours" min={0.5} max={24} step={0.5} />
            </Form.Item>
          </Space>
          <Form.Item name="topic" label={t('liaison.topic')} rules={[{ required: true, max: 120 }]}>
            <Input data-testid="liaison-event-topic" />
          </Form.Item>
          <Form.Item name="attendee_ids" label={t('liaison.attendees')} rules={[{ required: true }]}>
            <Select data-testid="liaison-event-attendees" mode="multiple" optionFilterProp="label" options={liaisons} />
          </Form.Item>
          <Form.Item name="notes" label={t('liaison.notes')} extra={t('liaison.notesHelp')} rules={[{ max: 1000 }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
