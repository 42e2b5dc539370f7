import { lazy, Suspense, useState } from 'react';
import { App, Button, Card, Checkbox, DatePicker, Drawer, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tabs, Tag, Timeline, Typography } from 'antd';
import { LockOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, isStatus, search } from '../api/client';
import type { Student } from '../api/types';
import { useSession } from '../session';
import { useSearchList } from '../components/useCursorList';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { tierColor } from './WarningList';
import Handoff from './casefile/Handoff';
import ConsentTab from './casefile/Consent';
import { useConcernCategories } from './casefile/categories';
import SupportPlans from './casefile/SupportPlans';
import Documents from './casefile/Documents';
import EmergencyGrants from './casefile/EmergencyGrants';
import CrisisTab from './casefile/CrisisTab';

interface Entry {
  case_file_id: string;
  student_number: string;
  student_name: string;
  grade_name: string;
  homeroom_name: string;
  status: string;
  risk_tier: string;
  last_contact_at: string | null;
}

export interface Session {
  id: string;
  occurred_at: string;
  channel: string;
  participants: string[];
  initiated_by: string;
  categories: string[];
  duration_minutes: number;
  summary: string;
  next_steps: string;
  note: string;
  note_signed_at: string | null;
  private_note?: string;
  addenda: { id: string; body: string; created_at: string }[];
}

export interface CaseFileEvent {
  kind: string;
  id: string;
  at: string;
  actor_name: string;
  code: string | null;
}

// mergeTimeline puts the sessions (in full) and every other entry in time order.
export function mergeTimeline(sessions: Session[], events: CaseFileEvent[]): (Session | CaseFileEvent)[] {
  const others = events.filter((e) => e.kind !== 'session');
  const at = (x: Session | CaseFileEvent) => ('kind' in x ? x.at : x.occurred_at);
  return [...sessions, ...others].sort((a, b) => dayjs(at(a)).valueOf() - dayjs(at(b)).valueOf());
}

// The screening tab loads its code when opened.
const AssessmentHistory = lazy(() => import('./casefile/Assessments'));

const channels = ['walk_in', 'scheduled', 'phone', 'online', 'letter', 'mailbox'];
const participants = ['student', 'guardian', 'teacher'];
const initiators = ['self', 'teacher', 'guardian', 'screening', 'counselor'];
const tiers = ['none', 'watch', 'elevated', 'high', 'crisis'];

// CaseFiles is the counselor's archive catalogue (档案目录清单) with each file's sessions.
export default function CaseFiles() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const school = current?.school_id ?? null;
  const base = school ? `/api/v1/schools/${school}` : null;
  const [q, setQ] = useState('');
  const [tier, setTier] = useState<string | undefined>();
  const [mine, setMine] = useState(false);
  const list = useSearchList<Entry>(['case-files', school], base && `${base}/case-files`, { q: q || undefined, risk_tier: tier, mine: mine || undefined });
  const [params] = useSearchParams();
  const [openId, setOpenId] = useState<string | null>(params.get('open'));
  const [opening, setOpening] = useState(false);
  const [studentQ, setStudentQ] = useState('');
  const students = useQuery({
    queryKey: ['open-case-students', school, studentQ],
    enabled: opening && !!school,
    queryFn: () => search<Student>(`${base}/students`, { q: studentQ }, 20),
  });
  // Opening a file for a student who already has one opens the existing file instead.
  const open = useMutation({
    mutationFn: async (s: Student) => {
      try {
        return { ...(await api<{ id: string }>('POST', `${base}/case-files`, { student_id: s.id })), existed: false };
      } catch (e) {
        if (!isStatus(e, 409)) throw e;
        const found = await search<Entry>(`${base}/case-files`, { q: s.student_number }, 5);
        const hit = found.items.find((x) => x.student_number === s.student_number);
        if (!hit) throw e;
        return { id: hit.case_file_id, existed: true };
      }
    },
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ['case-files', school] });
      setOpening(false);
      setOpenId(c.id);
      message.success(t(c.existed ? 'caseFile.existing' : 'caseFile.opened'));
    },
  });
  return (
    <Card
      title={t('menu.caseFiles')}
      extra={<Button data-testid="case-open" type="primary" icon={<PlusOutlined />} onClick={() => setOpening(true)}>{t('caseFile.open')}</Button>}
    >
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search placeholder={t('caseFile.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
        <Select allowClear placeholder={t('caseFile.tier')} style={{ width: 140 }} value={tier} onChange={setTier}
          options={tiers.map((v) => ({ value: v, label: t(`caseFile.tierValue.${v}`) }))} />
        <Space>
          <Switch checked={mine} onChange={setMine} />
          {t('caseFile.mine')}
        </Space>
      </Space>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="case-files-table"
        rowKey="case_file_id"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        onRow={(e) => ({ onClick: () => setOpenId(e.case_file_id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'student_name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('caseFile.tier'), dataIndex: 'risk_tier', render: (v: string) => <Tag color={tierColor[v]}>{t(`caseFile.tierValue.${v}`)}</Tag> },
          { title: t('caseFile.status'), dataIndex: 'status', render: (v: string) => t(`caseFile.statusValue.${v}`) },
          { title: t('caseFile.lastContact'), dataIndex: 'last_contact_at', render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD') : t('caseFile.never')) },
        ]}
      />
      {list.hasNextPage && <Button onClick={() => list.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
      <Modal open={opening} title={t('caseFile.open')} footer={null} onCancel={() => setOpening(false)} destroyOnHidden>
        <ProblemAlert error={open.error} />
        <Input.Search placeholder={t('student.search')} onSearch={setStudentQ} style={{ marginBottom: 12 }} />
        <Table
          size="small"
          rowKey="id"
          loading={students.isLoading}
          dataSource={students.data?.items ?? []}
          pagination={false}
          columns={[
            { title: t('student.number'), dataIndex: 'student_number' },
            { title: t('student.name'), dataIndex: 'name' },
            { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
            { title: '', key: 'a', render: (_, s) => <a onClick={() => open.mutate(s)}>{t('caseFile.open')}</a> },
          ]}
        />
      </Modal>
      <Drawer open={!!openId} width={760} onClose={() => setOpenId(null)} destroyOnHidden title={t('caseFile.timeline')}>
        {openId && base && school && <CaseFileDetail base={base} school={school} id={openId} />}
      </Drawer>
    </Card>
  );
}

function CaseFileDetail({ base, school, id }: { base: string; school: string; id: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const file = useQuery({ queryKey: ['case-file', id], queryFn: () => api<Entry & { student_id: string; counselors: string[]; archive_reason: string | null }>('GET', `${base}/case-files/${id}`) });
  const timeline = useQuery({ queryKey: ['timeline', id], queryFn: () => api<{ items: Session[] }>('GET', `${base}/case-files/${id}/timeline`) });
  const categories = useConcernCategories(base);
  // Every other kind of entry (tier changes, documents, consents, plans ...) joins the
  // sessions in time order; the sessions themselves are shown in full.
  const events = useQuery({ queryKey: ['timeline', id, 'events'], queryFn: () => api<{ items: CaseFileEvent[] }>('GET', `${base}/case-files/${id}/events`) });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['timeline', id] });
    void qc.invalidateQueries({ queryKey: ['case-file', id] });
    void qc.invalidateQueries({ queryKey: ['case-files'] });
  };
  const [form] = Form.useForm();
  const [tierForm] = Form.useForm();
  const [recording, setRecording] = useState(false);
  const record = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api('POST', `${base}/case-files/${id}/sessions`, { ...v, occurred_at: (v.occurred_at as dayjs.Dayjs).toISOString() }),
    onSuccess: () => {
      refresh();
      setRecording(false);
      form.resetFields();
      message.success(t('caseFile.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const sign = useMutation({ mutationFn: (sid: string) => api('POST', `${base}/sessions/${sid}/sign`), onSuccess: refresh });
  const addendum = useMutation({
    mutationFn: (v: { sid: string; body: string }) => api('POST', `${base}/sessions/${v.sid}/addenda`, { body: v.body }),
    onSuccess: refresh,
  });
  const setTier = useMutation({
    mutationFn: (v: { tier: string; reason: string }) => api('PUT', `${base}/case-files/${id}/risk-tier`, v),
    onSuccess: () => {
      refresh();
      tierForm.resetFields();
      message.success(t('caseFile.saved'));
    },
    onError: (e) => tierForm.setFields(toFields(e)),
  });
  const setStatus = useMutation({
    mutationFn: (status: string) => api('PATCH', `${base}/case-files/${id}`, { status }),
    onSuccess: () => {
      refresh();
      message.success(t('caseFile.saved'));
    },
  });
  const eventItem = (s: CaseFileEvent) => ({
          color: 'gray',
          children: (
            <div data-testid="event-item" data-kind={s.kind}>
              <Space wrap>
                <strong>{dayjs(s.at).format('YYYY-MM-DD HH:mm')}</strong>
                <Tag>{t(`events.kind.${s.kind}`)}</Tag>
                {s.code && <span>{s.kind === 'risk_tier'
                  ? s.code.split('>').map((v) => t(`caseFile.tierValue.${v}`)).join(' → ')
                  : t(`events.code.${s.code}`, { defaultValue: s.code })}</span>}
                {s.actor_name && <Typography.Text type="secondary">{s.actor_name}</Typography.Text>}
              </Space>
            </div>
          ),
  });
  const sessionItem = (s: Session) => ({
          color: s.note_signed_at ? 'green' : 'blue',
          children: (
            <div data-testid="session-item">
              <Space wrap>
                <strong>{dayjs(s.occurred_at).format('YYYY-MM-DD HH:mm')}</strong>
                <Tag>{t(`caseFile.channelValue.${s.channel}`)}</Tag>
                {s.categories.map((c) => <Tag key={c}>{categories.name(c)}</Tag>)}
                <span>{s.duration_minutes}′</span>
                {s.note_signed_at ? <Tag icon={<LockOutlined />} color="green">{t('caseFile.signed')}</Tag> : <Tag>{t('caseFile.unsigned')}</Tag>}
              </Space>
              <Typography.Paragraph style={{ marginTop: 8, marginBottom: 4 }}>{s.summary}</Typography.Paragraph>
              {s.next_steps && <Typography.Paragraph type="secondary">{t('caseFile.nextSteps')}：{s.next_steps}</Typography.Paragraph>}
              {s.note && <Typography.Paragraph>{t('caseFile.note')}：{s.note}</Typography.Paragraph>}
              {s.private_note && <Typography.Paragraph type="warning">{t('caseFile.privateNote')}：{s.private_note}</Typography.Paragraph>}
              {s.addenda.map((a) => (
                <Typography.Paragraph key={a.id} type="secondary">
                  {t('caseFile.addendum')}（{dayjs(a.created_at).format('YYYY-MM-DD HH:mm')}）：{a.body}
                </Typography.Paragraph>
              ))}
              {!s.note_signed_at ? (
                <Button size="small" onClick={() => sign.mutate(s.id)}>{t('caseFile.sign')}</Button>
              ) : (
                <Input.Search size="small" placeholder={t('caseFile.addAddendum')} enterButton={t('caseFile.saveShort')}
                  onSearch={(body) => body.trim() && addendum.mutate({ sid: s.id, body })} style={{ maxWidth: 420 }} />
              )}
            </div>
          ),
  });
  const timelinePanel = (
    <>
      <Card size="small" title={t('caseFile.changeTier')} style={{ marginBottom: 16 }}>
        <Form form={tierForm} layout="inline" onFinish={(v) => setTier.mutate(v)}>
          <Form.Item name="tier" rules={[{ required: true }]}>
            <Select style={{ width: 120 }} options={tiers.map((v) => ({ value: v, label: t(`caseFile.tierValue.${v}`) }))} />
          </Form.Item>
          <Form.Item name="reason" rules={[{ required: true }]}>
            <Input placeholder={t('caseFile.reason')} style={{ width: 280 }} />
          </Form.Item>
          <Button htmlType="submit" loading={setTier.isPending}>{t('caseFile.saveShort')}</Button>
        </Form>
      </Card>
      <Button data-testid="session-new" type="primary" icon={<PlusOutlined />} onClick={() => setRecording(true)} style={{ marginBottom: 16 }}>
        {t('caseFile.newSession')}
      </Button>
      {timeline.data && timeline.data.items.length === 0 && <Typography.Paragraph type="secondary">{t('caseFile.empty')}</Typography.Paragraph>}
      <Timeline
        items={mergeTimeline(timeline.data?.items ?? [], events.data?.items ?? []).map((x) => ('kind' in x ? eventItem(x) : sessionItem(x)))}
      />
    </>
  );
  return (
    <>
      <ProblemAlert error={file.error || timeline.error || sign.error || addendum.error || setTier.error || setStatus.error || categories.error} />
      {file.data && (
        <Space style={{ marginBottom: 16 }} wrap>
          <Typography.Title level={4} style={{ margin: 0 }}>{file.data.student_name}</Typography.Title>
          <Tag color={tierColor[file.data.risk_tier]}>{t(`caseFile.tierValue.${file.data.risk_tier}`)}</Tag>
          {file.data.status === 'archived' ? <Tag>{t(`caseFile.statusValue.${file.data.status}`)}</Tag> : (
            <Select data-testid="case-status" size="small" style={{ width: 110 }} value={file.data.status} loading={setStatus.isPending}
              onChange={(status: string) => setStatus.mutate(status)}
              options={['open', 'monitoring', 'closed'].map((v) => ({ value: v, label: t(`caseFile.statusValue.${v}`) }))} />
          )}
          {file.data.archive_reason && <Tag data-testid="archive-reason">{t(`handoff.archiveReason.${file.data.archive_reason}`)}</Tag>}
          <Handoff base={base} id={id} counselors={file.data.counselors} disabled={file.data.status === 'archived'} />
        </Space>
      )}
      <Tabs
        data-testid="case-file-tabs"
        items={[
          { key: 'timeline', label: t('caseFile.tabTimeline'), children: timelinePanel },
          { key: 'plans', label: <span data-testid="tab-plans">{t('plan.tab')}</span>, children: <SupportPlans base={base} id={id} /> },
          // Feature tabs live in ./casefile/, one component per file, each given base and id.
          { key: 'consent', label: <span data-testid="tab-consent">{t('consent.tab')}</span>, children: <ConsentTab base={base} id={id} /> },
          { key: 'documents', label: t('documents.tab'), children: <Documents base={base} id={id} /> },
          { key: 'emergency', label: t('emergency.tab'), children: <EmergencyGrants base={base} id={id} /> },
          {
            key: 'assessments',
            label: <span data-testid="tab-assessments">{t('screening.assessment.tab')}</span>,
            children: file.data?.student_id ? <Suspense fallback={null}><AssessmentHistory school={school} studentId={file.data.student_id} /></Suspense> : null,
          },
          { key: 'crisis', label: <span data-testid="tab-crisis">{t('crisis.tab')}</span>, children: <CrisisTab base={base} id={id} studentId={file.data?.student_id} studentName={file.data?.student_name} /> },
        ]}
      />
      <Modal open={recording} width={640} title={t('caseFile.newSession')} onCancel={() => setRecording(false)} onOk={() => form.submit()}
        confirmLoading={record.isPending} destroyOnHidden>
        <ProblemAlert error={record.error} />
        <Form form={form} layout="vertical" onFinish={(v) => record.mutate(v)}
          initialValues={{ occurred_at: dayjs(), channel: 'walk_in', participants: ['student'], initiated_by: 'self', duration_minutes: 40 }}>
          <Space wrap>
            <Form.Item name="occurred_at" label={t('caseFile.occurredAt')} rules={[{ required: true }]}><DatePicker showTime /></Form.Item>
            <Form.Item name="channel" label={t('caseFile.channel')}>
              <Select style={{ width: 120 }} options={channels.map((v) => ({ value: v, label: t(`caseFile.channelValue.${v}`) }))} />
            </Form.Item>
            <Form.Item name="initiated_by" label={t('caseFile.initiatedBy')}>
              <Select style={{ width: 140 }} options={initiators.map((v) => ({ value: v, label: t(`caseFile.initiatorValue.${v}`) }))} />
            </Form.Item>
            <Form.Item name="duration_minutes" label={t('caseFile.duration')}><InputNumber min={1} max={600} /></Form.Item>
          </Space>
          <Form.Item name="participants" label={t('caseFile.participants')} rules={[{ required: true }]}>
            <Checkbox.Group options={participants.map((v) => ({ value: v, label: t(`caseFile.participantValue.${v}`) }))} />
          </Form.Item>
          <Form.Item name="categories" label={t('caseFile.categories')}>
            <Select data-testid="session-categories" mode="multiple" options={categories.active} />
          </Form.Item>
          <Form.Item name="summary" label={t('caseFile.summary')} rules={[{ required: true }]}><Input.TextArea rows={2} maxLength={20000} /></Form.Item>
          <Form.Item name="next_steps" label={t('caseFile.nextSteps')}><Input.TextArea rows={2} /></Form.Item>
          <Form.Item name="note" label={t('caseFile.note')}><Input.TextArea rows={3} /></Form.Item>
          <Form.Item name="private_note" label={t('caseFile.privateNote')}><Input.TextArea rows={2} /></Form.Item>
        </Form>
      </Modal>
    </>
  );
}
