import { useMemo, useState } from 'react';
import {
  App, Button, Card, Col, DatePicker, Empty, Form, Input, InputNumber, Modal, Row, Segmented, Select, Space, Statistic, Table, Tabs, Tag, Typography,
} from 'antd';
import { LeftOutlined, RightOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api, search } from '../api/client';
import type { Student } from '../api/types';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { addDays, chinaInstant, chinaParts, weekStart, type RoomClosure, type RoomWindow } from './room/time';

export interface Appointment {
  id: string;
  counselor_id: string | null;
  counselor_name: string;
  client_kind: 'student' | 'guardian' | 'teacher';
  student_id: string | null;
  student_name: string;
  client_name: string;
  contact: string;
  starts_at: string;
  ends_at: string;
  status: 'requested' | 'booked' | 'checked_in' | 'cancelled' | 'no_show' | 'declined';
  source: 'counselor' | 'public_request';
  created_at: string;
  answered_at: string | null;
  cancel_reason: string | null;
  case_file_id: string | null;
  session_id: string | null;
}

interface Schedule {
  opening_hours: RoomWindow[];
  slots: (RoomWindow & { counselor_id: string; counselor_name: string })[];
  closures: RoomClosure[];
}

interface Stats {
  counselors: { counselor_id: string; counselor_name: string; booked: number; checked_in: number; cancelled: number; no_show: number }[];
  requests: number;
  requests_open: number;
  answered_within_2_school_days: number;
}

export const statusColor: Record<string, string> = {
  requested: 'gold', booked: 'blue', checked_in: 'green', cancelled: 'default', no_show: 'red', declined: 'default',
};
const weekdayKeys = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const times = Array.from({ length: 13 * 4 + 1 }, (_, i) => {
  const m = 7 * 60 + i * 15;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
});

function clientLabel(a: Appointment, t: (k: string) => string): string {
  const who = a.client_kind === 'student' ? a.student_name : a.client_name || t(`room.kind.${a.client_kind}`);
  const about = a.client_kind !== 'student' && a.student_name ? ` (${a.student_name})` : '';
  return `${t(`room.kind.${a.client_kind}`)} · ${who}${about}`;
}

// StudentSelect searches the school's students by name or number.
function StudentSelect({ base, value, onChange, testId }: { base: string; value?: string; onChange?: (v: string) => void; testId?: string }) {
  const [q, setQ] = useState('');
  const list = useQuery({
    queryKey: ['room-students', base, q],
    queryFn: () => search<Student>(`${base}/students`, { q }, 20),
  });
  return (
    <Select data-testid={testId} showSearch filterOption={false} onSearch={setQ} value={value} onChange={onChange} allowClear
      loading={list.isLoading} options={(list.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.student_number}, ${s.homeroom_name})` }))} />
  );
}

// DateTime is a China date and a quarter-hour time.
function DateTimeFields({ prefix, required = true }: { prefix: string; required?: boolean }) {
  const { t } = useTranslation();
  return (
    <Space.Compact block>
      <Form.Item name={`${prefix}_date`} noStyle rules={[{ required }]}>
        <DatePicker data-testid={`${prefix}-date`} style={{ width: '60%' }} placeholder={t('room.date')} />
      </Form.Item>
      <Form.Item name={`${prefix}_time`} noStyle rules={[{ required }]}>
        <Select data-testid={`${prefix}-time`} style={{ width: '40%' }} placeholder={t('room.time')} options={times.map((x) => ({ value: x, label: x }))} />
      </Form.Item>
    </Space.Compact>
  );
}

function instantOf(v: Record<string, unknown>, prefix: string): string | undefined {
  const d = v[`${prefix}_date`] as Dayjs | undefined;
  const tm = v[`${prefix}_time`] as string | undefined;
  return d && tm ? chinaInstant(d.format('YYYY-MM-DD'), tm) : undefined;
}

type Mode = 'day' | 'week' | 'upcoming';

// Calendar shows the counselor's (or the room's) day, week or next two weeks, and acts
// on appointments: check in, no-show, cancel, move.
function Calendar({ base, me }: { base: string; me: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const toFields = useFieldErrors();
  const today = chinaParts(Date.now()).date;
  const [mode, setMode] = useState<Mode>('week');
  const [day, setDay] = useState(today);
  const [whose, setWhose] = useState<'mine' | 'room'>('mine');
  const [acting, setActing] = useState<{ kind: 'book' | 'move' | 'cancel' | 'check-in'; a?: Appointment } | null>(null);
  const [form] = Form.useForm();
  const range = useMemo(() => {
    if (mode === 'day') return { from: day, to: addDays(day, 1) };
    if (mode === 'week') return { from: weekStart(day), to: addDays(weekStart(day), 7) };
    return { from: today, to: addDays(today, 14) };
  }, [mode, day, today]);
  const list = useQuery({
    queryKey: ['appointments', base, range, whose],
    queryFn: () => api<{ items: Appointment[] }>('GET', `${base}/appointments?from=${encodeURIComponent(chinaInstant(range.from, '00:00'))}` +
      `&to=${encodeURIComponent(chinaInstant(range.to, '00:00'))}${whose === 'mine' ? `&counselor_id=${me}` : ''}`),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['appointments'] });
    void qc.invalidateQueries({ queryKey: ['appointment-stats'] });
  };
  const act = useMutation({
    mutationFn: ({ path, body }: { path: string; body?: unknown }) => api<Appointment>('POST', path, body),
    onSuccess: () => {
      refresh();
      setActing(null);
      form.resetFields();
      message.success(t('room.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const submit = (v: Record<string, unknown>) => {
    if (!acting) return;
    const a = acting.a;
    if (acting.kind === 'book') {
      act.mutate({ path: `${base}/appointments`, body: {
        client_kind: v.client_kind, student_id: v.student_id || null, client_name: v.client_name ?? '', contact: v.contact ?? '',
        starts_at: instantOf(v, 'starts'), duration_minutes: v.duration_minutes,
      } });
    } else if (acting.kind === 'move') {
      act.mutate({ path: `${base}/appointments/${a!.id}/move`, body: { starts_at: instantOf(v, 'starts') } });
    } else if (acting.kind === 'cancel') {
      act.mutate({ path: `${base}/appointments/${a!.id}/cancel`, body: { reason: v.reason } });
    } else {
      act.mutate({ path: `${base}/appointments/${a!.id}/check-in`, body: { student_id: v.student_id || null, summary: v.summary ?? '' } });
    }
  };
  const actions = (a: Appointment) => (
    <Space size={4} wrap>
      {a.status === 'booked' && (
        <>
          <Button data-testid="appointment-checkin" size="small" type="primary" onClick={() => setActing({ kind: 'check-in', a })}>{t('room.checkIn')}</Button>
          <a onClick={() => setActing({ kind: 'move', a })}>{t('room.move')}</a>
          <a onClick={() => setActing({ kind: 'cancel', a })}>{t('room.cancel')}</a>
          {Date.parse(a.starts_at) <= Date.now() && (
            <a onClick={() => act.mutate({ path: `${base}/appointments/${a.id}/no-show` })}>{t('room.noShow')}</a>
          )}
        </>
      )}
      {a.case_file_id && <a data-testid="appointment-case-file" onClick={() => navigate(`/case-files?open=${a.case_file_id}`)}>{t('inbox.openCaseFile')}</a>}
    </Space>
  );
  const items = list.data?.items ?? [];
  const columns = [
    { title: t('room.when'), key: 'when', render: (_: unknown, a: Appointment) => `${chinaParts(a.starts_at).date} ${chinaParts(a.starts_at).time}–${chinaParts(a.ends_at).time}` },
    { title: t('room.client'), key: 'client', render: (_: unknown, a: Appointment) => clientLabel(a, t) },
    { title: t('room.contact'), dataIndex: 'contact' },
    { title: t('room.counselor'), dataIndex: 'counselor_name' },
    { title: t('room.status'), dataIndex: 'status', render: (v: string) => <Tag color={statusColor[v]}>{t(`room.statusValue.${v}`)}</Tag> },
    { title: '', key: 'actions', render: (_: unknown, a: Appointment) => actions(a) },
  ];
  const weekDays = Array.from({ length: 7 }, (_, i) => addDays(weekStart(day), i));
  const step = mode === 'week' ? 7 : 1;
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Segmented data-testid="calendar-mode" value={mode} onChange={(v) => setMode(v as Mode)}
          options={(['day', 'week', 'upcoming'] as Mode[]).map((m) => ({ value: m, label: t(`room.mode.${m}`) }))} />
        {mode !== 'upcoming' && (
          <Space.Compact>
            <Button icon={<LeftOutlined />} onClick={() => setDay(addDays(day, -step))} />
            <Button onClick={() => setDay(today)}>{t('room.today')}</Button>
            <Button icon={<RightOutlined />} onClick={() => setDay(addDays(day, step))} />
          </Space.Compact>
        )}
        <Typography.Text strong>{mode === 'upcoming' ? `${range.from} – ${addDays(range.to, -1)}` : mode === 'day' ? day : `${range.from} – ${addDays(range.to, -1)}`}</Typography.Text>
        <Segmented value={whose} onChange={(v) => setWhose(v as 'mine' | 'room')}
          options={[{ value: 'mine', label: t('room.mine') }, { value: 'room', label: t('room.wholeRoom') }]} />
        <Button data-testid="appointment-book" type="primary" onClick={() => setActing({ kind: 'book' })}>{t('room.book')}</Button>
      </Space>
      <ProblemAlert error={list.error || (acting ? null : act.error)} />
      {mode === 'week' ? (
        <div data-testid="room-calendar" style={{ display: 'grid', gridTemplateColumns: 'repeat(7, minmax(120px, 1fr))', gap: 8, overflowX: 'auto' }}>
          {weekDays.map((d, i) => (
            <div key={d} style={{ background: d === today ? '#e6f4ff' : '#fafafa', borderRadius: 6, padding: 8, minHeight: 160 }}>
              <Typography.Text strong>{t(`room.weekday.${weekdayKeys[i + 1]}`)} {d.slice(5)}</Typography.Text>
              {items.filter((a) => chinaParts(a.starts_at).date === d).map((a) => (
                <Card key={a.id} size="small" style={{ marginTop: 6 }} data-testid="appointment-card">
                  <div>{chinaParts(a.starts_at).time}–{chinaParts(a.ends_at).time} <Tag color={statusColor[a.status]}>{t(`room.statusValue.${a.status}`)}</Tag></div>
                  <div>{clientLabel(a, t)}</div>
                  {whose === 'room' && <Typography.Text type="secondary">{a.counselor_name}</Typography.Text>}
                  <div>{actions(a)}</div>
                </Card>
              ))}
            </div>
          ))}
        </div>
      ) : (
        <Table data-testid="room-calendar" rowKey="id" loading={list.isLoading} dataSource={items} pagination={false} columns={columns}
          locale={{ emptyText: <Empty description={t('room.none')} /> }} />
      )}
      <Modal open={!!acting} title={acting ? t(`room.action.${acting.kind}`) : ''} onCancel={() => { setActing(null); act.reset(); }}
        onOk={() => form.submit()} confirmLoading={act.isPending} destroyOnHidden>
        <ProblemAlert error={act.error} />
        <Form form={form} layout="vertical" onFinish={submit} initialValues={{ client_kind: 'student', duration_minutes: 45 }}>
          {acting?.kind === 'book' && (
            <>
              <Form.Item name="client_kind" label={t('room.clientKind')} rules={[{ required: true }]}>
                <Select options={['student', 'guardian', 'teacher'].map((k) => ({ value: k, label: t(`room.kind.${k}`) }))} />
              </Form.Item>
              <Form.Item name="student_id" label={t('room.student')} extra={t('room.studentHelp')}><StudentSelect base={base} testId="book-student" /></Form.Item>
              <Form.Item name="client_name" label={t('room.clientName')}><Input maxLength={50} /></Form.Item>
              <Form.Item name="contact" label={t('room.contact')}><Input maxLength={100} /></Form.Item>
              <Form.Item label={t('room.startsAt')} required><DateTimeFields prefix="starts" /></Form.Item>
              <Form.Item name="duration_minutes" label={t('room.duration')} rules={[{ required: true }]}><InputNumber min={15} max={240} step={15} /></Form.Item>
            </>
          )}
          {acting?.kind === 'move' && <Form.Item label={t('room.startsAt')} required><DateTimeFields prefix="starts" /></Form.Item>}
          {acting?.kind === 'cancel' && (
            <Form.Item name="reason" label={t('room.cancelReason')} rules={[{ required: true }]}>
              <Select options={['client_cancelled', 'counselor_unavailable', 'school_event', 'other'].map((k) => ({ value: k, label: t(`room.reason.${k}`) }))} />
            </Form.Item>
          )}
          {acting?.kind === 'check-in' && (
            <>
              <Typography.Paragraph type="secondary">{t('room.checkInHelp')}</Typography.Paragraph>
              {!acting.a?.student_id && (
                <Form.Item name="student_id" label={t('room.student')} rules={[{ required: true }]}><StudentSelect base={base} testId="checkin-student" /></Form.Item>
              )}
              <Form.Item name="summary" label={t('room.summary')}><Input placeholder={t('room.summaryDefault')} maxLength={200} /></Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </>
  );
}

// Requests lists open public requests; the counselor accepts (optionally at another
// time, naming the student) or declines.
function Requests({ base }: { base: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [accepting, setAccepting] = useState<Appointment | null>(null);
  const [form] = Form.useForm();
  const list = useQuery({
    queryKey: ['appointments', base, 'requested'],
    queryFn: () => api<{ items: Appointment[] }>('GET', `${base}/appointments?status=requested`),
  });
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['appointments'] });
    void qc.invalidateQueries({ queryKey: ['inbox'] });
    setAccepting(null);
    form.resetFields();
  };
  const accept = useMutation({
    mutationFn: (v: Record<string, unknown>) => api('POST', `${base}/appointments/${accepting?.id}/accept`,
      { student_id: v.student_id || null, starts_at: instantOf(v, 'starts') ?? null }),
    onSuccess: done,
    onError: (e) => form.setFields(toFields(e)),
  });
  const decline = useMutation({ mutationFn: (id: string) => api('POST', `${base}/appointments/${id}/decline`), onSuccess: done });
  return (
    <>
      <ProblemAlert error={list.error || decline.error} />
      <Table data-testid="room-requests" rowKey="id" loading={list.isLoading} dataSource={list.data?.items ?? []} pagination={false}
        locale={{ emptyText: <Empty description={t('room.noRequests')} /> }}
        columns={[
          { title: t('room.requestedAt'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
          { title: t('room.wanted'), key: 'when', render: (_: unknown, a: Appointment) => `${chinaParts(a.starts_at).date} ${chinaParts(a.starts_at).time}` },
          { title: t('room.client'), key: 'client', render: (_: unknown, a: Appointment) => `${t(`room.kind.${a.client_kind}`)} · ${a.client_name || t('room.anonymous')}` },
          { title: t('room.contact'), dataIndex: 'contact' },
          { title: '', key: 'actions', render: (_: unknown, a: Appointment) => (
            <Space>
              <Button data-testid="request-accept" size="small" type="primary" onClick={() => setAccepting(a)}>{t('room.accept')}</Button>
              <a data-testid="request-decline" onClick={() => decline.mutate(a.id)}>{t('room.decline')}</a>
            </Space>
          ) },
        ]}
      />
      <Modal open={!!accepting} title={t('room.accept')} onCancel={() => { setAccepting(null); accept.reset(); }} onOk={() => form.submit()}
        confirmLoading={accept.isPending} destroyOnHidden>
        <ProblemAlert error={accept.error} />
        <Typography.Paragraph type="secondary">{t('room.acceptHelp')}</Typography.Paragraph>
        <Form form={form} layout="vertical" onFinish={(v) => accept.mutate(v)}>
          <Form.Item name="student_id" label={t('room.student')} extra={t('room.studentHelp')}><StudentSelect base={base} testId="accept-student" /></Form.Item>
          <Form.Item label={t('room.moveTo')}><DateTimeFields prefix="starts" required={false} /></Form.Item>
        </Form>
      </Modal>
    </>
  );
}

// WindowsEditor edits weekly windows (opening hours or one's slots).
function WindowsEditor({ value, onSave, saving, testId }: { value: RoomWindow[]; onSave: (w: RoomWindow[]) => void; saving: boolean; testId: string }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  return (
    <Form form={form} data-testid={testId} initialValues={{ windows: value }} onFinish={(v) => onSave(v.windows ?? [])}>
      <Form.List name="windows">
        {(fields, { add, remove }) => (
          <>
            {fields.map((f) => (
              <Space key={f.key} align="baseline">
                <Form.Item name={[f.name, 'weekday']} rules={[{ required: true }]}>
                  <Select style={{ width: 100 }} options={[1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: t(`room.weekday.${weekdayKeys[d]}`) }))} />
                </Form.Item>
                <Form.Item name={[f.name, 'start']} rules={[{ required: true, pattern: /^\d\d:\d\d$/ }]}><Input style={{ width: 90 }} placeholder="08:00" /></Form.Item>
                <Form.Item name={[f.name, 'end']} rules={[{ required: true, pattern: /^\d\d:\d\d$/ }]}><Input style={{ width: 90 }} placeholder="12:00" /></Form.Item>
                <a onClick={() => remove(f.name)}>{t('room.remove')}</a>
              </Space>
            ))}
            <Space>
              <Button onClick={() => add({ weekday: 1, start: '08:00', end: '12:00' })}>{t('room.addWindow')}</Button>
              <Button type="primary" htmlType="submit" loading={saving}>{t('room.save')}</Button>
            </Space>
          </>
        )}
      </Form.List>
    </Form>
  );
}

// ScheduleTab: opening hours, one's slots, closures and the public request link.
function ScheduleTab({ base, schoolId, counselor, me }: { base: string; schoolId: string; counselor: boolean; me: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const sched = useQuery({ queryKey: ['room-schedule', base], queryFn: () => api<Schedule>('GET', `${base}/room/schedule`) });
  const ok = () => {
    void qc.invalidateQueries({ queryKey: ['room-schedule'] });
    message.success(t('room.saved'));
  };
  const hours = useMutation({ mutationFn: (w: RoomWindow[]) => api('PUT', `${base}/room/opening-hours`, { opening_hours: w }), onSuccess: ok });
  const slots = useMutation({ mutationFn: (w: RoomWindow[]) => api('PUT', `${base}/room/slots`, { slots: w }), onSuccess: ok });
  const addClosure = useMutation({
    mutationFn: (v: { range: [Dayjs, Dayjs]; label: string; mine?: boolean }) => api('POST', `${base}/room/closures`, {
      starts_on: v.range[0].format('YYYY-MM-DD'), ends_on: v.range[1].format('YYYY-MM-DD'), label: v.label, counselor_id: v.mine ? me : null,
    }),
    onSuccess: () => { form.resetFields(); ok(); },
  });
  const delClosure = useMutation({ mutationFn: (id: string) => api('DELETE', `${base}/room/closures/${id}`), onSuccess: ok });
  if (!sched.data) return <ProblemAlert error={sched.error} />;
  const link = `${window.location.origin}/request/${schoolId}`;
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card size="small" title={t('room.publicLink')}>
        <Typography.Paragraph copyable={{ text: link }} style={{ margin: 0 }}>
          <a data-testid="room-public-link" href={link} target="_blank" rel="noreferrer">{link}</a>
        </Typography.Paragraph>
        <Typography.Text type="secondary">{t('room.publicLinkHelp')}</Typography.Text>
      </Card>
      <Card size="small" title={t('room.openingHours')}>
        <ProblemAlert error={hours.error} />
        <WindowsEditor testId="opening-hours" value={sched.data.opening_hours} onSave={(w) => hours.mutate(w)} saving={hours.isPending} />
      </Card>
      {counselor && (
        <Card size="small" title={t('room.mySlots')} extra={<Typography.Text type="secondary">{t('room.mySlotsHelp')}</Typography.Text>}>
          <ProblemAlert error={slots.error} />
          <WindowsEditor testId="my-slots" value={sched.data.slots.filter((s) => s.counselor_id === me)} onSave={(w) => slots.mutate(w)} saving={slots.isPending} />
        </Card>
      )}
      <Card size="small" title={t('room.slots')}>
        <Table<Schedule['slots'][number]> size="small" rowKey={(s) => `${s.counselor_id}-${s.weekday}-${s.start}`} dataSource={sched.data.slots} pagination={false}
          columns={[
            { title: t('room.counselor'), dataIndex: 'counselor_name' },
            { title: t('room.weekdayLabel'), dataIndex: 'weekday', render: (d: number) => t(`room.weekday.${weekdayKeys[d]}`) },
            { title: t('room.time'), key: 't', render: (_: unknown, s: RoomWindow) => `${s.start}–${s.end}` },
          ]} />
      </Card>
      <Card size="small" title={t('room.closures')}>
        <ProblemAlert error={addClosure.error || delClosure.error} />
        <Form form={form} layout="inline" onFinish={(v) => addClosure.mutate(v)} style={{ marginBottom: 12 }}>
          <Form.Item name="range" rules={[{ required: true }]}><DatePicker.RangePicker /></Form.Item>
          <Form.Item name="label" rules={[{ required: true }]}><Input placeholder={t('room.closureLabel')} maxLength={100} /></Form.Item>
          {counselor && (
            <Form.Item name="mine" initialValue={false}>
              <Select style={{ width: 140 }} options={[{ value: false, label: t('room.wholeRoom') }, { value: true, label: t('room.onlyMe') }]} />
            </Form.Item>
          )}
          <Button htmlType="submit" loading={addClosure.isPending}>{t('room.addClosure')}</Button>
        </Form>
        <Table size="small" rowKey="id" dataSource={sched.data.closures} pagination={false}
          columns={[
            { title: t('room.closureLabel'), dataIndex: 'label' },
            { title: t('room.dates'), key: 'd', render: (_: unknown, c: RoomClosure) => `${c.starts_on} – ${c.ends_on}` },
            { title: t('room.who'), key: 'w', render: (_: unknown, c: RoomClosure) => (c.counselor_id ? t('room.oneCounselor') : t('room.wholeRoom')) },
            { title: '', key: 'x', render: (_: unknown, c: RoomClosure) => <a onClick={() => delClosure.mutate(c.id)}>{t('room.remove')}</a> },
          ]} />
      </Card>
    </Space>
  );
}

function StatsTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const [month, setMonth] = useState<Dayjs>(dayjs());
  const from = chinaInstant(month.startOf('month').format('YYYY-MM-DD'), '00:00');
  const to = chinaInstant(month.add(1, 'month').startOf('month').format('YYYY-MM-DD'), '00:00');
  const stats = useQuery({
    queryKey: ['appointment-stats', base, from],
    queryFn: () => api<Stats>('GET', `${base}/appointments/stats?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
  });
  const s = stats.data;
  const answered = s && s.requests > 0 ? Math.round((s.answered_within_2_school_days / s.requests) * 100) : null;
  return (
    <>
      <DatePicker picker="month" value={month} onChange={(v) => v && setMonth(v)} allowClear={false} style={{ marginBottom: 12 }} />
      <ProblemAlert error={stats.error} />
      <Row gutter={16} style={{ marginBottom: 12 }}>
        <Col><Statistic title={t('room.requests')} value={s?.requests ?? 0} /></Col>
        <Col><Statistic title={t('room.requestsOpen')} value={s?.requests_open ?? 0} /></Col>
        <Col><Statistic title={t('room.answeredWithin2')} value={answered ?? '—'} suffix={answered === null ? '' : '%'} /></Col>
      </Row>
      <Table data-testid="room-stats" size="small" rowKey="counselor_id" dataSource={s?.counselors ?? []} pagination={false}
        columns={[
          { title: t('room.counselor'), dataIndex: 'counselor_name' },
          { title: t('room.statusValue.booked'), dataIndex: 'booked' },
          { title: t('room.statusValue.checked_in'), dataIndex: 'checked_in' },
          { title: t('room.statusValue.cancelled'), dataIndex: 'cancelled' },
          { title: t('room.statusValue.no_show'), dataIndex: 'no_show' },
        ]} />
    </>
  );
}

// Room is the counseling room (心理辅导室): the calendar, public requests, opening hours,
// slots and closures, and the counts. Leaders see the opening hours and closures only.
export default function Room() {
  const { t } = useTranslation();
  const { me, current } = useSession();
  const schoolId = current?.school_id ?? '';
  const base = `/api/v1/schools/${schoolId}`;
  const counselor = current?.role === 'counselor';
  const userId = me?.user.id ?? '';
  const tabs = [
    ...(counselor ? [
      { key: 'calendar', label: t('room.calendar'), children: <Calendar base={base} me={userId} /> },
      { key: 'requests', label: <span data-testid="tab-requests">{t('room.requestsTab')}</span>, children: <Requests base={base} /> },
    ] : []),
    { key: 'schedule', label: <span data-testid="tab-schedule">{t('room.schedule')}</span>, children: <ScheduleTab base={base} schoolId={schoolId} counselor={counselor} me={userId} /> },
    ...(counselor ? [{ key: 'stats', label: t('room.stats'), children: <StatsTab base={base} /> }] : []),
  ];
  return (
    <Card title={t('room.title')}>
      <Tabs data-testid="room-tabs" items={tabs} destroyInactiveTabPane />
    </Card>
  );
}
