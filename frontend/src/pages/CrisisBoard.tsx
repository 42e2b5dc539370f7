import { useState } from 'react';
import { Alert, App, Button, Card, DatePicker, Descriptions, Drawer, Form, Input, Radio, Spin, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { isOverdue, type BoardEntry } from './crisis/model';
import { LevelTag, Timers, useNow } from './crisis/shared';

const time = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');

function boardTimers(b: BoardEntry) {
  return { ack_due_at: b.ack_due_at, guardian_due_at: b.guardian_due_at, assessed_at: b.assessed_at, guardian_notified_at: b.guardian_notified_at, status: b.status === 'open' ? 'open' as const : 'closed' as const };
}

function BoardDetail({ base, id, canWrite }: { base: string; id: string; canWrite: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const [kind, setKind] = useState<'comment' | 'follow_up'>('comment');
  const q = useQuery({ queryKey: ['crisis-board', base, id], queryFn: () => api<BoardEntry>('GET', `${base}/${id}`) });
  const add = useMutation({
    mutationFn: (v: { body: string; due_on?: dayjs.Dayjs }) =>
      api<BoardEntry>('POST', `${base}/${id}/notes`, { kind, body: v.body, due_on: kind === 'follow_up' && v.due_on ? v.due_on.format('YYYY-MM-DD') : '' }),
    onSuccess: (b) => {
      message.success(t('board.noteSaved'));
      form.resetFields();
      qc.setQueryData(['crisis-board', base, id], b);
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  if (q.error) return <ProblemAlert error={q.error} />;
  if (!q.data) return <Spin />;
  const b = q.data;
  return (
    <div data-testid="board-detail">
      <Descriptions size="small" column={2} bordered style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('board.school')}>{b.school_name}</Descriptions.Item>
        <Descriptions.Item label={t('board.grade')}>{b.grade || '—'}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.field.level')}><LevelTag level={b.level} /></Descriptions.Item>
        <Descriptions.Item label={t('crisis.statusLabel')}>{t(`crisis.status.${b.status}`)}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.openedAt')}>{time(b.opened_at)}</Descriptions.Item>
        <Descriptions.Item label={t('board.escalatedAt')}>{time(b.escalated_at)}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.timers')} span={2}><Timers c={boardTimers(b)} /></Descriptions.Item>
        <Descriptions.Item label={t('board.steps')} span={2}>
          {(b.steps ?? []).map((s, i) => <Tag key={i}>{t(`crisis.kind.${s}`)}</Tag>)}
        </Descriptions.Item>
      </Descriptions>
      <Card size="small" title={t('board.notes')} style={{ marginBottom: 16 }}>
        {(b.notes ?? []).length === 0 && <Typography.Text type="secondary">{t('board.noNotes')}</Typography.Text>}
        {(b.notes ?? []).map((n) => (
          <div key={n.id} data-testid="board-note" style={{ marginBottom: 8 }}>
            <Tag color={n.kind === 'follow_up' ? 'purple' : 'default'}>{t(`board.noteKind.${n.kind}`)}</Tag>
            {n.body} <Typography.Text type="secondary">{time(n.created_at)}</Typography.Text>
            {n.kind === 'follow_up' && (
              <Typography.Text type={n.done_at ? 'success' : 'warning'}>
                {' '}· {t('crisis.field.dueOn')} {n.due_on} · {n.done_at ? t('board.done') : t('board.pending')}
              </Typography.Text>
            )}
          </div>
        ))}
      </Card>
      {canWrite && (
        <Card size="small" title={t('board.addNote')}>
          <Alert data-testid="board-no-names" type="warning" showIcon style={{ marginBottom: 12 }} message={t('board.noNames')} />
          <ProblemAlert error={add.error} formFields={['body', 'due_on']} />
          <Form form={form} layout="vertical" onFinish={(v) => add.mutate(v)}>
            <Form.Item>
              <Radio.Group data-testid="board-note-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
                <Radio value="comment">{t('board.noteKind.comment')}</Radio>
                <Radio value="follow_up">{t('board.noteKind.follow_up')}</Radio>
              </Radio.Group>
            </Form.Item>
            <Form.Item name="body" label={t('board.body')} rules={[{ required: true, whitespace: true }, { max: 1000 }]}>
              <Input.TextArea data-testid="board-note-body" rows={3} maxLength={1000} showCount />
            </Form.Item>
            {kind === 'follow_up' && (
              <Form.Item name="due_on" label={t('crisis.field.dueOn')} rules={[{ required: true }]}>
                <DatePicker disabledDate={(d) => d.isBefore(dayjs(), 'day')} />
              </Form.Item>
            )}
            <Button data-testid="board-note-submit" type="primary" htmlType="submit" loading={add.isPending}>{t('board.submit')}</Button>
          </Form>
        </Card>
      )}
    </div>
  );
}

// CrisisBoard (危机督导): the crises escalated to the district, without names — school,
// grade, level, timers and the kinds of steps taken. Every view is audited. Supervisors
// comment and request follow-ups; district administrators read.
export default function CrisisBoard() {
  const { t } = useTranslation();
  const { current } = useSession();
  const base = `/api/v1/districts/${current?.district_id}/crisis-board`;
  const [openId, setOpenId] = useState<string | null>(null);
  const now = useNow(10_000);
  const list = useQuery({ queryKey: ['crisis-board', base], enabled: !!current, queryFn: () => api<{ items: BoardEntry[] }>('GET', base), refetchInterval: 60_000 });
  return (
    <Card title={t('menu.crisisBoard')}>
      <Typography.Paragraph type="secondary">{t('board.hint')}</Typography.Paragraph>
      <ProblemAlert error={list.error} />
      <Table data-testid="board-table" rowKey="crisis_id" loading={list.isLoading} dataSource={list.data?.items ?? []} pagination={{ pageSize: 30, hideOnSinglePage: true }}
        locale={{ emptyText: t('board.none') }}
        onRow={(b) => ({ onClick: () => setOpenId(b.crisis_id), style: { cursor: 'pointer', background: isOverdue(boardTimers(b), now) ? '#fff1f0' : undefined } })}
        columns={[
          { title: t('board.school'), dataIndex: 'school_name' },
          { title: t('board.grade'), dataIndex: 'grade' },
          { title: t('crisis.field.level'), dataIndex: 'level', render: (v: string) => <LevelTag level={v} /> },
          { title: t('crisis.statusLabel'), dataIndex: 'status', render: (v: string) => <Tag>{t(`crisis.status.${v}`)}</Tag> },
          { title: t('board.escalatedAt'), dataIndex: 'escalated_at', render: time },
          { title: t('crisis.timers'), key: 'tm', render: (_: unknown, b: BoardEntry) => <Timers c={boardTimers(b)} compact /> },
          { title: t('board.steps'), dataIndex: 'steps', render: (v: string[] | null) => (v ?? []).map((s, i) => <Tag key={i}>{t(`crisis.kind.${s}`)}</Tag>) },
        ]} />
      <Drawer open={!!openId} width={720} onClose={() => setOpenId(null)} destroyOnHidden title={t('board.detail')}>
        {openId && <BoardDetail base={base} id={openId} canWrite={current?.role === 'district_supervisor'} />}
      </Drawer>
    </Card>
  );
}
