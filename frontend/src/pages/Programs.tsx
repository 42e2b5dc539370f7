import { useState } from 'react';
import { App, Button, Card, DatePicker, Empty, Form, Input, InputNumber, Modal, Select, Space, Table, Upload, type UploadFile } from 'antd';
import { DownloadOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { CellTag } from './Compliance';
import TermPlanEditor from './TermPlanEditor';
import { activityTypes, audiences, hourTypes, type Activity, type Evidence, type SchoolPlan, type Term } from './programs/data';

interface ActivityForm {
  type: string;
  title: string;
  held_on: Dayjs;
  audience: string;
  audience_size: number;
  attendance: number;
  hours?: number;
  theme?: string;
  sessions?: number;
  facilitators?: string;
  confidentiality_rule?: string;
}

// activityBody turns the form into the API's activity input (group details only for group sessions).
export function activityBody(term: string, v: ActivityForm) {
  const body: Record<string, unknown> = {
    term_id: term, type: v.type, title: v.title, held_on: v.held_on.format('YYYY-MM-DD'), audience: v.audience,
    audience_size: v.audience_size, attendance: v.attendance,
  };
  if (v.hours !== undefined && v.hours !== null) body.hours = v.hours;
  if (v.type === 'group_session') {
    body.details = {
      theme: v.theme ?? '', sessions: v.sessions ?? 0, confidentiality_rule: v.confidentiality_rule ?? '',
      facilitators: (v.facilitators ?? '').split(/[,，、\n]/).map((s) => s.trim()).filter(Boolean),
    };
  }
  return body;
}

// EvidenceUpload uploads one evidence file (title = the file's name) to path.
function EvidenceUpload({ path, onDone, testId }: { path: string; onDone: () => void; testId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const up = useMutation({
    mutationFn: (f: File) => {
      const fd = new FormData();
      fd.append('title', f.name.replace(/\.[^.]+$/, '') || f.name);
      fd.append('file', f, f.name);
      return api<Evidence>('POST', path, fd);
    },
    onSuccess: () => {
      onDone();
      message.success(t('programs.evidenceUploaded'));
    },
    onError: (e) => message.error(e.message),
  });
  return (
    <Upload data-testid={testId} showUploadList={false} accept=".pdf,.jpg,.jpeg,.png,.webp,.docx"
      beforeUpload={(f: UploadFile) => { up.mutate(f as unknown as File); return false; }}>
      <Button size="small" icon={<UploadOutlined />} loading={up.isPending}>{t('programs.uploadEvidence')}</Button>
    </Upload>
  );
}

// Programs is the school's screen: its tasks from the district's plans with the
// compliance computed from its data, and the activities it records with their evidence.
export default function Programs() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [term, setTerm] = useState<string | undefined>();
  const [recording, setRecording] = useState(false);
  const [termPlan, setTermPlan] = useState<{ id: string; title: string } | null>(null);
  const [form] = Form.useForm<ActivityForm>();
  const terms = useQuery({ queryKey: ['school-terms', current?.school_id], queryFn: () => api<{ items: Term[] }>('GET', `${base}/terms`) });
  const today = dayjs().format('YYYY-MM-DD');
  const currentTerm = (terms.data?.items ?? []).find((x) => x.starts_on <= today && today <= x.ends_on) ?? terms.data?.items[0];
  const termId = term ?? currentTerm?.id;
  const tasks = useQuery({ queryKey: ['school-plans', current?.school_id], queryFn: () => api<{ items: SchoolPlan[] }>('GET', `${base}/plans`) });
  const activities = useQuery({
    queryKey: ['activities', current?.school_id, termId],
    enabled: !!termId,
    queryFn: () => api<{ items: Activity[] }>('GET', `${base}/activities?term_id=${termId}`),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['activities'] });
    void qc.invalidateQueries({ queryKey: ['school-plans'] });
  };
  const record = useMutation({
    mutationFn: (v: ActivityForm) => api<Activity>('POST', `${base}/activities`, activityBody(termId ?? '', v)),
    onSuccess: () => {
      refresh();
      setRecording(false);
      form.resetFields();
      message.success(t('programs.recorded'));
    },
    onError: (e) => form.setFields(toFields(e).map((f) => ({ ...f, name: f.name.replace(/^details\./, '') })) as never),
  });
  const selected = (terms.data?.items ?? []).find((x) => x.id === termId);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card title={t('programs.tasks')}>
        <ProblemAlert error={tasks.error} />
        {(tasks.data?.items ?? []).length === 0 && !tasks.isLoading && <Empty description={t('programs.noTasks')} />}
        {(tasks.data?.items ?? []).map((sp) => (
          <Card key={sp.plan.id} type="inner" size="small" data-testid="task" title={`${sp.plan.title} · ${sp.plan.term.name}`} style={{ marginBottom: 12 }}
            extra={<Button size="small" data-testid="term-plan-open" onClick={() => setTermPlan({ id: sp.plan.id, title: sp.plan.title })}>{t('termPlan.title')}</Button>}>
            <Table
              rowKey="code"
              size="small"
              pagination={false}
              dataSource={sp.plan.indicators}
              onRow={(i) => ({ 'data-testid': 'task-indicator', 'data-code': i.code }) as React.HTMLAttributes<HTMLElement>}
              columns={[
                { title: t('programs.indicatorName'), dataIndex: 'name' },
                { title: t('programs.kind'), dataIndex: 'kind', render: (k: string) => t(`programs.kindValue.${k}`) },
                { title: t('programs.status'), key: 'cell', render: (_: unknown, i) => <CellTag cell={sp.cells.find((c) => c.code === i.code)} /> },
                {
                  title: '', key: 'ev',
                  render: (_: unknown, i) => i.kind === 'yes_no' && (
                    <EvidenceUpload testId="indicator-evidence" path={`${base}/plans/${sp.plan.id}/indicators/${i.code}/evidence`} onDone={refresh} />
                  ),
                },
              ]}
            />
          </Card>
        ))}
      </Card>
      <Card
        title={t('programs.activities')}
        extra={
          <Space>
            <Select data-testid="activity-term" style={{ width: 220 }} value={termId} onChange={setTerm}
              options={(terms.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} />
            <Button data-testid="activity-record" type="primary" icon={<PlusOutlined />} disabled={!termId} onClick={() => setRecording(true)}>{t('programs.recordActivity')}</Button>
          </Space>
        }
      >
        <ProblemAlert error={activities.error} />
        <Table<Activity>
          data-testid="activities-table"
          rowKey="id"
          loading={activities.isLoading}
          dataSource={activities.data?.items ?? []}
          pagination={false}
          onRow={() => ({ 'data-testid': 'activity-row' }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: t('programs.heldOn'), dataIndex: 'held_on' },
            { title: t('programs.activityType'), dataIndex: 'type', render: (v: string) => t(`programs.typeValue.${v}`) },
            { title: t('programs.activityTitle'), dataIndex: 'title' },
            { title: t('programs.audience'), dataIndex: 'audience', render: (v: string) => t(`programs.audienceValue.${v}`) },
            { title: t('programs.attendance'), key: 'att', render: (_, a) => `${a.attendance} / ${a.audience_size}` },
            { title: t('programs.hours'), dataIndex: 'hours', render: (v: number | null) => v ?? '' },
            {
              title: t('programs.evidence'), key: 'ev',
              render: (_, a) => (
                <Space direction="vertical" size={0}>
                  {a.evidence.map((e) => (
                    <a key={e.id} href={`${base}/evidence/${e.id}/content`} download={e.filename}><DownloadOutlined /> {e.title}</a>
                  ))}
                  <EvidenceUpload testId="activity-evidence" path={`${base}/activities/${a.id}/evidence`} onDone={refresh} />
                </Space>
              ),
            },
          ]}
        />
      </Card>
      {current?.school_id && <TermPlanEditor school={current.school_id} planId={termPlan?.id ?? null} title={termPlan?.title ?? ''} onClose={() => setTermPlan(null)} />}
      <Modal open={recording} width={640} title={`${t('programs.recordActivity')} · ${selected?.name ?? ''}`} onCancel={() => setRecording(false)}
        onOk={() => form.submit()} okButtonProps={{ 'data-testid': 'activity-save' } as never} confirmLoading={record.isPending} destroyOnHidden>
        <ProblemAlert error={record.error} formFields={['type', 'title', 'held_on', 'audience', 'audience_size', 'attendance', 'hours',
          'details.theme', 'details.sessions', 'details.facilitators', 'details.confidentiality_rule']} />
        <Form form={form} layout="vertical" initialValues={{ type: 'lecture', audience: 'students', held_on: dayjs() }} onFinish={(v) => record.mutate(v)}>
          <Form.Item name="type" label={t('programs.activityType')} rules={[{ required: true }]}>
            <Select data-testid="activity-type" options={activityTypes.map((k) => ({ value: k, label: t(`programs.typeValue.${k}`) }))} />
          </Form.Item>
          <Form.Item name="title" label={t('programs.activityTitle')} rules={[{ required: true, max: 120 }]}>
            <Input data-testid="activity-title" />
          </Form.Item>
          <Space wrap>
            <Form.Item name="held_on" label={t('programs.heldOn')} rules={[{ required: true }]}>
              <DatePicker data-testid="activity-date" />
            </Form.Item>
            <Form.Item name="audience" label={t('programs.audience')} rules={[{ required: true }]}>
              <Select style={{ width: 140 }} options={audiences.map((k) => ({ value: k, label: t(`programs.audienceValue.${k}`) }))} />
            </Form.Item>
            <Form.Item name="audience_size" label={t('programs.audienceSize')} rules={[{ required: true }]}>
              <InputNumber data-testid="activity-audience-size" min={0} />
            </Form.Item>
            <Form.Item name="attendance" label={t('programs.attendance')} rules={[{ required: true }]}>
              <InputNumber data-testid="activity-attendance" min={0} />
            </Form.Item>
          </Space>
          <Form.Item noStyle shouldUpdate={(a, b) => a.type !== b.type}>
            {({ getFieldValue }) => (
              <>
                {hourTypes.includes(getFieldValue('type')) && (
                  <Form.Item name="hours" label={getFieldValue('type') === 'room_hours' ? t('programs.weeklyHours') : t('programs.hours')} rules={[{ required: true }]}>
                    <InputNumber data-testid="activity-hours" min={0.5} step={0.5} />
                  </Form.Item>
                )}
                {getFieldValue('type') === 'group_session' && (
                  <>
                    <Form.Item name="theme" label={t('programs.theme')} rules={[{ required: true }]}><Input /></Form.Item>
                    <Form.Item name="sessions" label={t('programs.sessions')} rules={[{ required: true }]}><InputNumber min={1} max={100} /></Form.Item>
                    <Form.Item name="facilitators" label={t('programs.facilitators')} rules={[{ required: true }]}><Input placeholder={t('programs.facilitatorsPlaceholder')} /></Form.Item>
                    <Form.Item name="confidentiality_rule" label={t('programs.confidentialityRule')} rules={[{ required: true }]} extra={t('programs.confidentialityHelp')}>
                      <Input.TextArea rows={2} />
                    </Form.Item>
                  </>
                )}
              </>
            )}
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
