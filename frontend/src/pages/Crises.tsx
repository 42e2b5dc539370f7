import { useEffect, useState } from 'react';
import { App, Button, type ButtonProps, Card, Drawer, Form, Input, Modal, Radio, Segmented, Select, Table, Tag, Typography } from 'antd';
import { AlertOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, search } from '../api/client';
import type { Student } from '../api/types';
import { useSession } from '../session';
import { isOverdue, levels, type Crisis } from './crisis/model';
import { LevelTag, RuleAlert, Timers, useNow } from './crisis/shared';
import CrisisDetail from './crisis/CrisisDetail';

interface ScreeningAlert {
  id: string;
  student_id: string;
  student_name: string;
  student_number: string;
  homeroom_name: string;
  instrument_code: string;
  reason: string;
  band: string;
  created_at: string;
  acknowledged_at: string | null;
}

export interface OpenFrom {
  source: 'counselor' | 'screening_alert' | 'concern';
  source_id?: string;
  student_id?: string;
  label?: string;
}

// OpenCrisisModal opens a crisis: for a student picked by the counselor, from one of the
// open screening alerts (the alert is acknowledged with the crisis), or from a given source.
export function OpenCrisisModal({ base, from, onClose, onOpened }: { base: string; from?: OpenFrom; onClose: () => void; onOpened: (c: Crisis) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const [source, setSource] = useState<string>(from?.source ?? 'screening_alert');
  const [studentQ, setStudentQ] = useState('');
  const alerts = useQuery({
    queryKey: ['screening-alerts', base, 'open'],
    enabled: !from && source === 'screening_alert',
    queryFn: () => api<{ items: ScreeningAlert[] }>('GET', `${base}/screening-alerts?status=open`),
  });
  const students = useQuery({
    queryKey: ['crisis-students', base, studentQ],
    enabled: !from && source === 'counselor',
    queryFn: () => search<Student>(`${base}/students`, { q: studentQ }, 20),
  });
  const open = useMutation({
    mutationFn: (v: { level: string; note?: string; pick?: string }) => {
      const body: Record<string, unknown> = { level: v.level, note: v.note ?? '' };
      if (from) Object.assign(body, { source: from.source, source_id: from.source_id, student_id: from.student_id });
      else if (source === 'counselor') Object.assign(body, { source, student_id: v.pick });
      else Object.assign(body, { source, source_id: v.pick });
      return api<Crisis>('POST', `${base}/crises`, body);
    },
    onSuccess: (c) => {
      message.success(t('crisis.opened'));
      void qc.invalidateQueries({ queryKey: ['crises', base] });
      void qc.invalidateQueries({ queryKey: ['screening-alerts', base] });
      onOpened(c);
    },
  });
  return (
    <Modal open title={t('crisis.open')} onCancel={onClose} onOk={() => form.submit()} confirmLoading={open.isPending} destroyOnHidden
      okText={t('crisis.openOk')} okButtonProps={{ danger: true, 'data-testid': 'crisis-open-submit' } as ButtonProps}>
      <RuleAlert error={open.error} formFields={['level', 'note']} />
      <Form form={form} layout="vertical" onFinish={(v) => open.mutate(v)} initialValues={{ level: 'high' }}>
        {from ? (
          <Typography.Paragraph data-testid="crisis-open-from">{from.label ?? t(`crisis.source.${from.source}`)}</Typography.Paragraph>
        ) : (
          <>
            <Form.Item label={t('crisis.sourceLabel')}>
              <Radio.Group data-testid="crisis-open-source" value={source} onChange={(e) => { setSource(e.target.value); form.setFieldValue('pick', undefined); }}>
                <Radio value="screening_alert">{t('crisis.source.screening_alert')}</Radio>
                <Radio value="counselor">{t('crisis.source.counselor')}</Radio>
              </Radio.Group>
            </Form.Item>
            {source === 'screening_alert' ? (
              <Form.Item name="pick" label={t('crisis.pickAlert')} rules={[{ required: true, message: t('crisis.pickAlert') }]}>
                <Select data-testid="crisis-open-alert" loading={alerts.isLoading} notFoundContent={t('crisis.noAlerts')}
                  options={(alerts.data?.items ?? []).map((a) => ({
                    value: a.id,
                    label: `${a.student_name}（${a.student_number}）${a.homeroom_name} · ${a.instrument_code} · ${t(`crisis.alertReason.${a.reason}`, { defaultValue: a.reason })}`,
                  }))} />
              </Form.Item>
            ) : (
              <>
                <Input.Search placeholder={t('crisis.searchStudent')} onSearch={setStudentQ} style={{ marginBottom: 8 }} />
                <Form.Item name="pick" label={t('crisis.student')} rules={[{ required: true, message: t('crisis.pickStudent') }]}>
                  <Select data-testid="crisis-open-student" loading={students.isLoading} showSearch optionFilterProp="label"
                    options={(students.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name}（${s.student_number}）${s.homeroom_name ?? ''}` }))} />
                </Form.Item>
              </>
            )}
          </>
        )}
        <Form.Item name="level" label={t('crisis.initialLevel')} rules={[{ required: true }]} extra={t('crisis.initialLevelHint')}>
          <Select data-testid="crisis-open-level" options={levels.map((l) => ({ value: l, label: t(`crisis.level.${l}`) }))} />
        </Form.Item>
        <Form.Item name="note" label={t('crisis.reportNote')} rules={[{ max: 5000 }]}>
          <Input.TextArea data-testid="crisis-open-note" rows={3} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

// OpenCrisisButton opens a crisis from a given source — e.g. from a screening alert row:
// <OpenCrisisButton base={base} from={{ source: 'screening_alert', source_id: alert.id, label }} />.
export function OpenCrisisButton({ base, from, onOpened }: { base: string; from: OpenFrom; onOpened?: (c: Crisis) => void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button data-testid="crisis-open-from-alert" danger size="small" icon={<AlertOutlined />} onClick={() => setOpen(true)}>{t('crisis.openShort')}</Button>
      {open && <OpenCrisisModal base={base} from={from} onClose={() => setOpen(false)} onOpened={(c) => { setOpen(false); onOpened?.(c); }} />}
    </>
  );
}

// CrisisTable lists crises with their level, timers and escalation; overdue ones are red.
export function CrisisTable({ items, loading, onOpen }: { items: Crisis[]; loading?: boolean; onOpen: (id: string) => void }) {
  const { t } = useTranslation();
  const now = useNow(10_000);
  return (
    <Table data-testid="crises-table" rowKey="id" loading={loading} dataSource={items} size="middle" pagination={{ pageSize: 30, hideOnSinglePage: true }}
      locale={{ emptyText: t('crisis.none') }}
      rowClassName={(c) => (isOverdue(c, now) ? 'crisis-overdue' : '')}
      onRow={(c) => ({ onClick: () => onOpen(c.id), style: { cursor: 'pointer', background: isOverdue(c, now) ? '#fff1f0' : undefined }, 'data-overdue': isOverdue(c, now) ? 'true' : 'false' } as object)}
      columns={[
        { title: t('crisis.student'), key: 's', render: (_: unknown, c: Crisis) => <span data-testid="crisis-student">{c.student_name}（{c.student_number}）</span> },
        { title: t('crisis.homeroom'), dataIndex: 'homeroom_name' },
        { title: t('crisis.field.level'), dataIndex: 'level', render: (v: string) => <LevelTag level={v} /> },
        { title: t('crisis.statusLabel'), dataIndex: 'status', render: (v: string) => <Tag color={v === 'open' ? 'red' : 'default'}>{t(`crisis.status.${v}`)}</Tag> },
        { title: t('crisis.openedAt'), dataIndex: 'opened_at', render: (v: string) => dayjs(v).format('MM-DD HH:mm') },
        { title: t('crisis.timers'), key: 'timers', render: (_: unknown, c: Crisis) => <Timers c={c} compact /> },
        { title: t('crisis.escalationLabel'), dataIndex: 'escalation', render: (v: string) => (v === 'none' ? '—' : <Tag color="volcano">{t(`crisis.escalation.${v}`)}</Tag>) },
      ]} />
  );
}

// Crises (危机干预): the school's crises for the counselor (who opens them and records the
// steps) and the school leader (read only). ?crisis=<id> opens one; ?alert=<id> opens a
// crisis from that screening alert.
export default function Crises() {
  const { t } = useTranslation();
  const { current } = useSession();
  const [params, setParams] = useSearchParams();
  const school = current?.school_id;
  const base = `/api/v1/schools/${school}`;
  const readOnly = current?.role !== 'counselor';
  const [status, setStatus] = useState<'open' | 'closed' | 'all'>('open');
  const [opening, setOpening] = useState<OpenFrom | null | undefined>(undefined);
  const openId = params.get('crisis');
  const alertId = params.get('alert');
  useEffect(() => {
    if (alertId && !readOnly) setOpening({ source: 'screening_alert', source_id: alertId });
  }, [alertId, readOnly]);
  const list = useQuery({
    queryKey: ['crises', base, status],
    enabled: !!school,
    queryFn: () => api<{ items: Crisis[] }>('GET', `${base}/crises?status=${status}`),
    refetchInterval: 60_000,
  });
  const show = (id: string | null) => {
    const p = new URLSearchParams(params);
    p.delete('alert');
    if (id) p.set('crisis', id);
    else p.delete('crisis');
    setParams(p, { replace: true });
  };
  return (
    <Card title={t('menu.crises')}
      extra={!readOnly && (
        <Button data-testid="crisis-open" danger type="primary" icon={<AlertOutlined />} onClick={() => setOpening(null)}>{t('crisis.open')}</Button>
      )}>
      {readOnly && <Typography.Paragraph type="secondary">{t('crisis.leaderHint')}</Typography.Paragraph>}
      <Segmented data-testid="crisis-filter" style={{ marginBottom: 16 }} value={status} onChange={(v) => setStatus(v as typeof status)}
        options={(['open', 'closed', 'all'] as const).map((v) => ({ value: v, label: t(`crisis.filter.${v}`) }))} />
      <RuleAlert error={list.error} />
      <CrisisTable items={list.data?.items ?? []} loading={list.isLoading} onOpen={show} />
      {opening !== undefined && school && (
        <OpenCrisisModal base={base} from={opening ?? undefined}
          onClose={() => { setOpening(undefined); show(openId); }}
          onOpened={(c) => { setOpening(undefined); show(c.id); }} />
      )}
      <Drawer open={!!openId} width={820} onClose={() => show(null)} destroyOnHidden title={t('crisis.detail')}>
        {openId && school && <CrisisDetail base={base} id={openId} readOnly={readOnly} />}
      </Drawer>
    </Card>
  );
}
