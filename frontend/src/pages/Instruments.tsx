import { useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Card, Col, DatePicker, Drawer, Form, Input, InputNumber, List, Row, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { CopyOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import {
  definitionFieldErrors, newDefinition, parseDefinition, pick, sheetOf,
  type Definition, type Enablement, type Instrument, type Licence, type ScreeningSettings,
} from '../api/screening';
import type { FieldError } from '../api/types';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import Questionnaire from '../components/Questionnaire';
import { useDistrictSchools, useInstruments } from './screening/hooks';

// itemIndexesWithErrors: the item positions named by error paths ("items[3].options" → 3),
// to highlight them in the preview.
export function itemIndexesWithErrors(errors: FieldError[]): Set<number> {
  const out = new Set<number>();
  for (const e of errors) {
    const m = /^items\[(\d+)\]/.exec(e.field ?? '');
    if (m) out.add(Number(m[1]));
  }
  return out;
}

// useDebounced answers the value once it has stayed the same for ms.
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

// Instruments is the district administrator's instrument registry (量表): built-in and
// district-defined instruments, licences, enablements per school and the screening settings.
export default function Instruments() {
  const { t } = useTranslation();
  const { current } = useSession();
  const district = current?.district_id;
  return (
    <Card title={t('menu.instruments')}>
      <Tabs
        data-testid="instrument-tabs"
        items={[
          { key: 'list', label: t('screening.instrument.tab'), children: district && <InstrumentList district={district} /> },
          { key: 'licences', label: t('screening.licence.tab'), children: district && <Licences district={district} /> },
          { key: 'enablements', label: t('screening.enablement.tab'), children: district && <Enablements district={district} /> },
          { key: 'settings', label: <span data-testid="tab-screening-settings">{t('screening.settings.tab')}</span>, children: district && <Settings district={district} /> },
        ]}
      />
    </Card>
  );
}

function InstrumentList({ district }: { district: string }) {
  const { t, i18n } = useTranslation();
  const list = useInstruments(district);
  const [editing, setEditing] = useState<{ instrument?: Instrument; definition: Definition } | null>(null);
  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Button data-testid="instrument-new" type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ definition: newDefinition() })}>
          {t('screening.instrument.new')}
        </Button>
      </Space>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="instruments-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={false}
        columns={[
          { title: t('screening.instrument.name'), key: 'name', render: (_, r: Instrument) => pick(r.name, i18n.language) },
          { title: t('screening.instrument.code'), dataIndex: 'code' },
          { title: t('screening.instrument.version'), dataIndex: 'version', render: (v: number) => `v${v}` },
          { title: t('screening.instrument.items'), key: 'items', render: (_, r: Instrument) => r.definition?.items?.length ?? '—' },
          {
            title: t('screening.instrument.kind'),
            key: 'kind',
            render: (_, r: Instrument) => (
              <Space size={4} wrap>
                {r.builtin ? <Tag color="blue">{t('screening.instrument.builtin')}</Tag> : <Tag>{t('screening.instrument.custom')}</Tag>}
                {r.licensed && <Tag color="gold">{t('screening.instrument.licensed')}</Tag>}
                {r.used && <Tag color="purple">{t('screening.instrument.used')}</Tag>}
              </Space>
            ),
          },
          {
            title: '',
            key: 'a',
            render: (_, r: Instrument) => (
              <Space>
                <a data-testid="instrument-edit" onClick={() => setEditing({ instrument: r, definition: r.definition })}>
                  {r.builtin ? t('screening.instrument.view') : t('screening.instrument.edit')}
                </a>
                <a onClick={() => setEditing({ definition: { ...r.definition, code: `${r.code}_copy`.slice(0, 32) } })}>
                  <CopyOutlined /> {t('screening.instrument.copy')}
                </a>
              </Space>
            ),
          },
        ]}
      />
      <Drawer
        open={!!editing}
        width={Math.min(1200, window.innerWidth)}
        onClose={() => setEditing(null)}
        destroyOnHidden
        title={editing?.instrument ? `${pick(editing.instrument.name, i18n.language)} v${editing.instrument.version}` : t('screening.instrument.new')}
      >
        {editing && <InstrumentEditor district={district} instrument={editing.instrument} initial={editing.definition} onSaved={() => setEditing(null)} />}
      </Drawer>
    </>
  );
}

// InstrumentEditor: the definition as JSON on the left, the questionnaire as a student sees
// it on the right, both live; the server validates as you type and names each problem.
export function InstrumentEditor({ district, instrument, initial, onSaved }: {
  district: string;
  instrument?: Instrument;
  initial: Definition;
  onSaved: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const readOnly = !!instrument?.builtin;
  const [text, setText] = useState(() => JSON.stringify(initial, null, 2));
  const parsed = useMemo(() => parseDefinition(text), [text]);
  const debounced = useDebounced(text, 400);
  const check = useQuery({
    queryKey: ['instrument-validate', district, debounced],
    enabled: !parseDefinition(debounced).error,
    retry: false,
    queryFn: async () => {
      try {
        const r = await api<{ valid: boolean; total_min: number; total_max: number }>('POST', `/api/v1/districts/${district}/instruments/validate`, {
          definition: parseDefinition(debounced).definition,
        });
        return { ...r, errors: [] as FieldError[] };
      } catch (e) {
        if (e instanceof ApiError && e.status === 422) return { valid: false, total_min: 0, total_max: 0, errors: definitionFieldErrors(e) };
        throw e;
      }
    },
  });
  const save = useMutation({
    mutationFn: () =>
      instrument
        ? api<Instrument>('PUT', `/api/v1/districts/${district}/instruments/${instrument.id}`, { definition: parsed.definition })
        : api<Instrument>('POST', `/api/v1/districts/${district}/instruments`, { definition: parsed.definition }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['instruments', district] });
      message.success(instrument && r.id !== instrument.id ? t('screening.instrument.newVersion', { version: r.version }) : t('screening.instrument.saved'));
      onSaved();
    },
  });
  const errors = save.error instanceof ApiError && save.error.status === 422 ? definitionFieldErrors(save.error) : check.data?.errors ?? [];
  const badItems = itemIndexesWithErrors(errors);
  const preview = parsed.definition && Array.isArray(parsed.definition.items) ? sheetOf(parsed.definition, 'preview') : null;
  const missing = new Set([...badItems].map((i) => `preview.${preview?.items[i]?.code}`));
  return (
    <Row gutter={24}>
      <Col xs={24} lg={12}>
        {readOnly && <Alert type="info" showIcon message={t('screening.instrument.builtinReadOnly')} style={{ marginBottom: 12 }} />}
        {instrument?.used && !readOnly && <Alert type="warning" showIcon message={t('screening.instrument.usedHint')} style={{ marginBottom: 12 }} />}
        <Typography.Paragraph type="secondary">{t('screening.instrument.jsonHint')}</Typography.Paragraph>
        <Input.TextArea
          data-testid="instrument-json"
          value={text}
          onChange={(e) => setText(e.target.value)}
          readOnly={readOnly}
          spellCheck={false}
          autoSize={{ minRows: 24, maxRows: 40 }}
          style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 12 }}
        />
        <div data-testid="instrument-validation" style={{ marginTop: 12 }}>
          {parsed.error ? (
            <Alert type="error" showIcon message={t('screening.instrument.badJson')} description={parsed.error} />
          ) : errors.length > 0 ? (
            <Alert
              type="error"
              showIcon
              message={t('screening.instrument.invalid', { count: errors.length })}
              description={
                <List
                  size="small"
                  dataSource={errors}
                  renderItem={(f) => (
                    <List.Item data-testid="definition-error" style={{ padding: '2px 0' }}>
                      <Typography.Text code>{f.field || '—'}</Typography.Text> {f.message}
                    </List.Item>
                  )}
                />
              }
            />
          ) : check.data?.valid ? (
            <Alert data-testid="instrument-valid" type="success" showIcon message={t('screening.instrument.valid', { min: check.data.total_min, max: check.data.total_max })} />
          ) : (
            check.error && <ProblemAlert error={check.error} />
          )}
        </div>
        <ProblemAlert error={save.error instanceof ApiError && save.error.status === 422 ? null : save.error} />
        {!readOnly && (
          <Button data-testid="instrument-save" type="primary" style={{ marginTop: 12 }} disabled={!!parsed.error} loading={save.isPending} onClick={() => save.mutate()}>
            {t('screening.instrument.save')}
          </Button>
        )}
      </Col>
      <Col xs={24} lg={12}>
        <Typography.Title level={5}>{t('screening.instrument.preview')}</Typography.Title>
        <div data-testid="instrument-preview" style={{ maxWidth: 420, border: '8px solid #262626', borderRadius: 24, padding: 16, maxHeight: 720, overflow: 'auto', background: '#f5f7fa' }}>
          {preview ? <Questionnaire instruments={[preview]} answers={{}} missing={missing} flagText={t('screening.instrument.itemHasErrors')} /> : <Typography.Text type="secondary">—</Typography.Text>}
        </div>
      </Col>
    </Row>
  );
}

function Licences({ district }: { district: string }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const instruments = useInstruments(district);
  const path = `/api/v1/districts/${district}/instrument-licences`;
  const list = useQuery({ queryKey: ['instrument-licences', district], queryFn: async () => (await api<{ items: Licence[] }>('GET', path)).items });
  const add = useMutation({
    mutationFn: (v: { instrument_code: string; holder: string; reference: string; valid_until: dayjs.Dayjs }) =>
      api('POST', path, { ...v, valid_until: v.valid_until.format('YYYY-MM-DD') }),
    onSuccess: () => {
      form.resetFields();
      message.success(t('screening.saved'));
      void qc.invalidateQueries({ queryKey: ['instrument-licences', district] });
    },
  });
  const licensed = (instruments.data ?? []).filter((i) => i.licensed);
  return (
    <>
      <Typography.Paragraph type="secondary">{t('screening.licence.hint')}</Typography.Paragraph>
      <ProblemAlert error={list.error || add.error} />
      <Form form={form} layout="inline" onFinish={(v) => add.mutate(v)} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="instrument_code" rules={[{ required: true }]}>
          <Select placeholder={t('screening.licence.instrument')} style={{ width: 220 }}
            options={(licensed.length ? licensed : instruments.data ?? []).map((i) => ({ value: i.code, label: pick(i.name, i18n.language) }))} />
        </Form.Item>
        <Form.Item name="holder" rules={[{ required: true, whitespace: true }]}><Input placeholder={t('screening.licence.holder')} /></Form.Item>
        <Form.Item name="reference" rules={[{ required: true, whitespace: true }]}><Input placeholder={t('screening.licence.reference')} /></Form.Item>
        <Form.Item name="valid_until" rules={[{ required: true }]}><DatePicker placeholder={t('screening.licence.validUntil')} /></Form.Item>
        <Button htmlType="submit" type="primary" loading={add.isPending}>{t('screening.licence.add')}</Button>
      </Form>
      <Table
        rowKey="id"
        size="small"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={false}
        columns={[
          { title: t('screening.licence.instrument'), dataIndex: 'instrument_code' },
          { title: t('screening.licence.holder'), dataIndex: 'holder' },
          { title: t('screening.licence.reference'), dataIndex: 'reference' },
          {
            title: t('screening.licence.validUntil'),
            dataIndex: 'valid_until',
            render: (v: string) => (dayjs(v).isBefore(dayjs(), 'day') ? <Tag color="red">{v} · {t('screening.licence.expired')}</Tag> : v),
          },
          { title: t('screening.licence.recordedAt'), dataIndex: 'recorded_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
        ]}
      />
    </>
  );
}

function Enablements({ district }: { district: string }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const instruments = useInstruments(district);
  const schools = useDistrictSchools(district);
  const path = `/api/v1/districts/${district}/instrument-enablements`;
  const list = useQuery({ queryKey: ['instrument-enablements', district], queryFn: async () => (await api<{ items: Enablement[] }>('GET', path)).items });
  const add = useMutation({
    mutationFn: (v: { school_id: string; instrument_code: string }) => api('POST', path, v),
    onSuccess: () => {
      form.resetFields();
      message.success(t('screening.saved'));
      void qc.invalidateQueries({ queryKey: ['instrument-enablements', district] });
    },
  });
  return (
    <>
      <Typography.Paragraph type="secondary">{t('screening.enablement.hint')}</Typography.Paragraph>
      <ProblemAlert error={list.error || add.error} />
      <Form form={form} layout="inline" onFinish={(v) => add.mutate(v)} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="school_id" rules={[{ required: true }]}>
          <Select placeholder={t('screening.enablement.school')} style={{ width: 220 }} loading={schools.isLoading}
            options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
        </Form.Item>
        <Form.Item name="instrument_code" rules={[{ required: true }]}>
          <Select placeholder={t('screening.licence.instrument')} style={{ width: 240 }}
            options={(instruments.data ?? []).map((i) => ({ value: i.code, label: `${pick(i.name, i18n.language)}${i.licensed ? ` · ${t('screening.instrument.licensed')}` : ''}` }))} />
        </Form.Item>
        <Button htmlType="submit" type="primary" loading={add.isPending}>{t('screening.enablement.add')}</Button>
      </Form>
      <Table
        rowKey={(r) => `${r.school_id}:${r.instrument_code}`}
        size="small"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={false}
        columns={[
          { title: t('screening.enablement.school'), dataIndex: 'school_name' },
          { title: t('screening.licence.instrument'), dataIndex: 'instrument_code' },
          { title: t('screening.enablement.enabledAt'), dataIndex: 'enabled_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
        ]}
      />
    </>
  );
}

function Settings({ district }: { district: string }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const instruments = useInstruments(district);
  const path = `/api/v1/districts/${district}/screening-settings`;
  const settings = useQuery({ queryKey: ['screening-settings', district], queryFn: () => api<ScreeningSettings>('GET', path) });
  useEffect(() => {
    if (settings.data) form.setFieldsValue(settings.data);
  }, [settings.data, form]);
  const toFields = useFieldErrors();
  const save = useMutation({
    mutationFn: (v: ScreeningSettings) => {
      const thresholds: Record<string, string> = {};
      for (const [k, b] of Object.entries(v.thresholds ?? {})) if (b) thresholds[k] = b;
      return api<ScreeningSettings>('PUT', path, {
        alert_deadline_minutes: v.alert_deadline_minutes, leader_escalation_minutes: v.leader_escalation_minutes,
        thresholds, help_contacts: v.help_contacts ?? '',
      });
    },
    onSuccess: (s) => {
      qc.setQueryData(['screening-settings', district], s);
      message.success(t('screening.saved'));
    },
    // thresholds.<code> errors land on the instrument's own field.
    onError: (e) => form.setFields(toFields(e).map((f) => ({ ...f, name: f.name.startsWith('thresholds.') ? ['thresholds', f.name.slice(11)] : f.name })) as never),
  });
  return (
    <>
      <Alert type="warning" showIcon message={t('screening.settings.criticalAlways')} style={{ marginBottom: 16 }} />
      <ProblemAlert error={settings.error || save.error} />
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} style={{ maxWidth: 640 }}>
        <Space wrap size="large">
          <Form.Item name="alert_deadline_minutes" label={t('screening.settings.alertDeadline')} rules={[{ required: true }]}>
            <InputNumber data-testid="settings-deadline" min={15} max={1440} addonAfter={t('screening.minutes')} />
          </Form.Item>
          <Form.Item name="leader_escalation_minutes" label={t('screening.settings.leaderEscalation')} rules={[{ required: true }]}>
            <InputNumber min={15} max={2880} addonAfter={t('screening.minutes')} />
          </Form.Item>
        </Space>
        <Typography.Title level={5}>{t('screening.settings.thresholds')}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('screening.settings.thresholdsHint')}</Typography.Paragraph>
        {(instruments.data ?? []).map((ins) => (
          <Form.Item key={ins.code} name={['thresholds', ins.code]} label={pick(ins.name, i18n.language)}>
            <Select allowClear placeholder={t('screening.settings.noBandAlert')} style={{ maxWidth: 320 }}
              options={(ins.definition?.bands ?? []).map((b) => ({ value: b.code, label: `${pick(b.label, i18n.language)} (${b.min}–${b.max})` }))} />
          </Form.Item>
        ))}
        <Form.Item name="help_contacts" label={t('screening.settings.helpContacts')} extra={t('screening.settings.helpContactsHint')}>
          <Input.TextArea data-testid="settings-help" rows={4} maxLength={1000} />
        </Form.Item>
        <Button htmlType="submit" type="primary" loading={save.isPending}>{t('screening.save')}</Button>
      </Form>
    </>
  );
}
