import { useState } from 'react';
import { App, Button, Card, DatePicker, Drawer, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag, Timeline } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { activityTypesFor, cleanIndicator, fieldPath, indicatorKinds, metrics, targetMax, type Indicator, type Plan, type PlanVersion, type Term } from './programs/data';

interface School { id: string; name: string }

interface PlanForm {
  term_id: string;
  title: string;
  all_schools: boolean;
  school_ids?: string[];
  indicators: Indicator[];
  note?: string;
  term_plan_due_on?: Dayjs | null;
}

function planFormValues(p: Plan | null): Partial<PlanForm> {
  if (!p) return { all_schools: true, indicators: [{ code: 'lectures', name: '', kind: 'activity_count', activity_type: 'lecture', target: 2 }] };
  return { term_id: p.term_id, title: p.title, all_schools: p.all_schools, school_ids: p.school_ids, indicators: p.indicators,
    term_plan_due_on: p.term_plan_due_on ? dayjs(p.term_plan_due_on) : null };
}

// DistrictPlans is the district's plan editor (区计划): terms, plans with indicators and
// targets, publication to all or selected schools, amendments with their history. The
// supervisor reads; only the administrator writes.
export default function DistrictPlans() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const base = `/api/v1/districts/${current?.district_id}`;
  const admin = current?.role === 'district_admin';
  const [editing, setEditing] = useState<Plan | 'new' | null>(null);
  const [history, setHistory] = useState<Plan | null>(null);
  const [addingTerm, setAddingTerm] = useState(false);
  const [form] = Form.useForm<PlanForm>();
  const [termForm] = Form.useForm();
  const terms = useQuery({ queryKey: ['terms', current?.district_id], queryFn: () => api<{ items: Term[] }>('GET', `${base}/terms`) });
  const plans = useQuery({ queryKey: ['district-plans', current?.district_id], queryFn: () => api<{ items: Plan[] }>('GET', `${base}/plans`) });
  const schools = useQuery({
    queryKey: ['plan-schools', current?.district_id],
    enabled: admin,
    queryFn: () => api<{ items: School[] }>('GET', `${base}/schools?limit=200`),
  });
  const versions = useQuery({
    queryKey: ['plan-versions', history?.id],
    enabled: !!history,
    queryFn: () => api<{ items: PlanVersion[] }>('GET', `${base}/plans/${history?.id}/versions`),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['district-plans'] });
  const save = useMutation({
    mutationFn: (v: PlanForm) => {
      const body = { ...v, school_ids: v.all_schools ? [] : v.school_ids ?? [], indicators: (v.indicators ?? []).map(cleanIndicator), note: v.note ?? '',
        term_plan_due_on: v.term_plan_due_on ? v.term_plan_due_on.format('YYYY-MM-DD') : '' };
      return editing === 'new' || !editing ? api<Plan>('POST', `${base}/plans`, body) : api<Plan>('PUT', `${base}/plans/${editing.id}`, body);
    },
    onSuccess: () => {
      refresh();
      setEditing(null);
      message.success(t('programs.saved'));
    },
    onError: (e) => form.setFields(toFields(e).map((f) => ({ ...f, name: fieldPath(f.name) })) as never),
  });
  const publish = useMutation({
    mutationFn: (p: Plan) => api<Plan>('POST', `${base}/plans/${p.id}/publish`, {}),
    onSuccess: () => {
      refresh();
      message.success(t('programs.published'));
    },
  });
  const addTerm = useMutation({
    mutationFn: (v: { name: string; range: [Dayjs, Dayjs] }) =>
      api<Term>('POST', `${base}/terms`, { name: v.name, starts_on: v.range[0].format('YYYY-MM-DD'), ends_on: v.range[1].format('YYYY-MM-DD') }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['terms'] });
      setAddingTerm(false);
      termForm.resetFields();
    },
    onError: (e) => termForm.setFields(toFields(e)),
  });
  const open = (p: Plan | 'new') => {
    setEditing(p);
    form.resetFields();
    form.setFieldsValue(planFormValues(p === 'new' ? null : p) as PlanForm);
  };
  const published = editing && editing !== 'new' && editing.status === 'published';
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card
        title={t('programs.plans')}
        extra={admin && <Button data-testid="plan-create" type="primary" icon={<PlusOutlined />} onClick={() => open('new')}>{t('programs.newPlan')}</Button>}
      >
        <ProblemAlert error={plans.error || publish.error} />
        <Table<Plan>
          data-testid="plans-table"
          rowKey="id"
          loading={plans.isLoading}
          dataSource={plans.data?.items ?? []}
          pagination={false}
          onRow={(p) => ({ 'data-testid': 'plan-row', 'data-title': p.title }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: t('programs.planTitle'), dataIndex: 'title' },
            { title: t('programs.term'), key: 'term', render: (_, p) => `${p.term.name}（${p.term.starts_on} – ${p.term.ends_on}）` },
            { title: t('programs.indicators'), key: 'n', render: (_, p) => p.indicators.length },
            { title: t('programs.schools'), key: 'schools', render: (_, p) => (p.all_schools ? t('programs.allSchools') : t('programs.nSchools', { n: p.school_ids.length })) },
            {
              title: t('programs.status'), key: 'status',
              render: (_, p) => <Tag data-testid="plan-status" color={p.status === 'published' ? 'green' : 'default'}>{t(`programs.planStatus.${p.status}`)}{p.version > 0 ? ` v${p.version}` : ''}</Tag>,
            },
            {
              title: '', key: 'actions',
              render: (_, p) => (
                <Space wrap>
                  {admin && <Button size="small" data-testid="plan-edit" onClick={() => open(p)}>{p.status === 'published' ? t('programs.amend') : t('common.edit')}</Button>}
                  {admin && p.status === 'draft' && (
                    <Button size="small" type="primary" data-testid="plan-publish" loading={publish.isPending} onClick={() => publish.mutate(p)}>{t('programs.publish')}</Button>
                  )}
                  {p.status === 'published' && <Button size="small" data-testid="plan-compliance" onClick={() => navigate(`/district-plans/${p.id}`)}>{t('programs.compliance')}</Button>}
                  {p.status === 'published' && <Button size="small" data-testid="plan-term-plans" onClick={() => navigate(`/district-plans/${p.id}/term-plans`)}>{t('termPlan.submissions')}</Button>}
                  {p.version > 0 && <Button size="small" data-testid="plan-history" onClick={() => setHistory(p)}>{t('programs.history')}</Button>}
                </Space>
              ),
            },
          ]}
        />
      </Card>
      <Card title={t('programs.terms')} extra={admin && <Button data-testid="term-create" onClick={() => setAddingTerm(true)}>{t('programs.newTerm')}</Button>}>
        <Table<Term>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={terms.data?.items ?? []}
          columns={[
            { title: t('programs.termName'), dataIndex: 'name' },
            { title: t('programs.startsOn'), dataIndex: 'starts_on' },
            { title: t('programs.endsOn'), dataIndex: 'ends_on' },
          ]}
        />
      </Card>
      <Modal open={addingTerm} title={t('programs.newTerm')} onCancel={() => setAddingTerm(false)} onOk={() => termForm.submit()} confirmLoading={addTerm.isPending} destroyOnHidden>
        <ProblemAlert error={addTerm.error} formFields={['name', 'starts_on', 'ends_on']} />
        <Form form={termForm} layout="vertical" onFinish={(v) => addTerm.mutate(v)}>
          <Form.Item name="name" label={t('programs.termName')} rules={[{ required: true, max: 60 }]}>
            <Input data-testid="term-name" placeholder={t('programs.termPlaceholder')} />
          </Form.Item>
          <Form.Item name="range" label={`${t('programs.startsOn')} – ${t('programs.endsOn')}`} rules={[{ required: true }]}>
            <DatePicker.RangePicker data-testid="term-range" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={!!editing}
        width={860}
        title={published ? t('programs.amend') : editing === 'new' ? t('programs.newPlan') : t('common.edit')}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okButtonProps={{ 'data-testid': 'plan-save' } as never}
        confirmLoading={save.isPending}
        destroyOnHidden
      >
        <ProblemAlert error={save.error} />
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="term_id" label={t('programs.term')} rules={[{ required: true }]}>
            <Select data-testid="plan-term" disabled={!!published} options={(terms.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} />
          </Form.Item>
          <Form.Item name="title" label={t('programs.planTitle')} rules={[{ required: true, max: 120 }]}>
            <Input data-testid="plan-title" />
          </Form.Item>
          <Form.Item name="term_plan_due_on" label={t('termPlan.dueOn')} extra={t('termPlan.dueOnHelp')}>
            <DatePicker data-testid="plan-term-plan-due" />
          </Form.Item>
          <Form.Item name="all_schools" label={t('programs.allSchools')} valuePropName="checked">
            <Switch data-testid="plan-all-schools" />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.all_schools !== b.all_schools}>
            {({ getFieldValue }) =>
              !getFieldValue('all_schools') && (
                <Form.Item name="school_ids" label={t('programs.schools')} rules={[{ required: true }]}>
                  <Select data-testid="plan-schools" mode="multiple" options={(schools.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))} />
                </Form.Item>
              )
            }
          </Form.Item>
          <Form.List name="indicators">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Card key={f.key} size="small" style={{ marginBottom: 8 }} data-testid="indicator"
                    extra={<MinusCircleOutlined onClick={() => remove(f.name)} />}>
                    <Space wrap align="start">
                      <Form.Item name={[f.name, 'code']} label={t('programs.code')} rules={[{ required: true, pattern: /^[a-z][a-z0-9_]{1,39}$/ }]}>
                        <Input data-testid="indicator-code" style={{ width: 130 }} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'name']} label={t('programs.indicatorName')} rules={[{ required: true, max: 100 }]}>
                        <Input data-testid="indicator-name" style={{ width: 200 }} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'kind']} label={t('programs.kind')} rules={[{ required: true }]}>
                        <Select data-testid="indicator-kind" style={{ width: 190 }} options={indicatorKinds.map((k) => ({ value: k, label: t(`programs.kindValue.${k}`) }))} />
                      </Form.Item>
                      <Form.Item noStyle shouldUpdate>
                        {({ getFieldValue }) => {
                          const kind = getFieldValue(['indicators', f.name, 'kind']);
                          const types = activityTypesFor(kind);
                          return (
                            <Space wrap align="start">
                              {types.length > 0 && (
                                <Form.Item name={[f.name, 'activity_type']} label={t('programs.activityType')} rules={[{ required: true }]}>
                                  <Select data-testid="indicator-activity-type" style={{ width: 150 }} options={types.map((k) => ({ value: k, label: t(`programs.typeValue.${k}`) }))} />
                                </Form.Item>
                              )}
                              {kind === 'percentage' && (
                                <Form.Item name={[f.name, 'metric']} label={t('programs.metric')} rules={[{ required: true }]}>
                                  <Select style={{ width: 170 }} options={metrics.map((k) => ({ value: k, label: t(`programs.metricValue.${k}`) }))} />
                                </Form.Item>
                              )}
                              {kind !== 'yes_no' && (
                                <Form.Item name={[f.name, 'target']} label={t('programs.target')} rules={[{ required: true }]}
                                  extra={kind === 'room_open_hours' || kind === 'room_response_rate' ? t(`programs.kindHelp.${kind}`) : undefined}>
                                  <InputNumber data-testid="indicator-target" min={0} max={targetMax(kind)} style={{ width: 100 }} />
                                </Form.Item>
                              )}
                            </Space>
                          );
                        }}
                      </Form.Item>
                    </Space>
                  </Card>
                ))}
                <Button data-testid="indicator-add" icon={<PlusOutlined />} onClick={() => add({ kind: 'activity_count', target: 1 })}>{t('programs.addIndicator')}</Button>
              </>
            )}
          </Form.List>
          {published && (
            <Form.Item name="note" label={t('programs.amendNote')} style={{ marginTop: 16 }} rules={[{ max: 500 }]}>
              <Input.TextArea data-testid="plan-note" rows={2} />
            </Form.Item>
          )}
        </Form>
      </Modal>
      <Drawer open={!!history} width={520} title={`${history?.title ?? ''} · ${t('programs.history')}`} onClose={() => setHistory(null)}>
        <Timeline
          items={(versions.data?.items ?? []).map((v) => ({
            children: (
              <div data-testid="plan-version">
                <b>v{v.version}</b> {dayjs(v.published_at).format('YYYY-MM-DD HH:mm')} · {v.published_by_name}
                <div>{v.title}</div>
                {v.note && <div style={{ color: '#8c8c8c' }}>{v.note}</div>}
                <div>{v.indicators.map((i) => `${i.name}（${i.target}）`).join('，')}</div>
              </div>
            ),
          }))}
        />
      </Drawer>
    </Space>
  );
}
