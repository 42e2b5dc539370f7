import { useState } from 'react';
import { App, Button, type ButtonProps, Card, DatePicker, Drawer, Empty, Form, Input, Modal, Radio, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import {
  completionRate, consentRules, countValue, gradeList, gradeOrder, isSuppressed, pick,
  type Campaign, type DistrictProgress,
} from '../api/screening';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import CountText from '../components/CountText';
import BarChart from '../components/BarChart';
import { useDistrictSchools, useGradeNames, useInstruments } from './screening/hooks';

export const statusColor: Record<string, string> = { scheduled: 'blue', open: 'green', closed: 'default' };

// bandDistribution groups the district's band counts per instrument, in band order.
export function bandDistribution(p: DistrictProgress, bandOrder: (code: string) => string[] = () => []) {
  const byCode = new Map<string, { band: string; count: string }[]>();
  for (const b of p.bands) byCode.set(b.instrument_code, [...(byCode.get(b.instrument_code) ?? []), { band: b.band, count: b.count }]);
  return [...byCode].map(([code, bands]) => {
    const order = bandOrder(code);
    const rank = (b: string) => (order.includes(b) ? order.indexOf(b) : order.length);
    return { code, bands: [...bands].sort((a, b) => rank(a.band) - rank(b.band)) };
  });
}

// Campaigns is the district administrator's screening campaigns (测查): create one for
// instruments, schools and grades in a window, then watch completion and the band
// distribution as de-identified, suppressed counts.
export default function Campaigns() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.district_id;
  const base = `/api/v1/districts/${district}/campaigns`;
  const list = useQuery({ queryKey: ['campaigns', district], enabled: !!district, queryFn: async () => (await api<{ items: Campaign[] }>('GET', base)).items });
  const instruments = useInstruments(district);
  const schools = useDistrictSchools(district);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Campaign | null>(null);
  const [watching, setWatching] = useState<Campaign | null>(null);
  const [form] = Form.useForm();
  const [editForm] = Form.useForm();
  const chosenSchools = Form.useWatch('school_ids', form) as string[] | undefined;
  const gradeNames = useGradeNames(creating ? chosenSchools ?? [] : []);
  const writer = current?.role === 'district_admin';
  const create = useMutation({
    mutationFn: (v: Record<string, unknown>) => {
      const [opens, closes] = v.window as [dayjs.Dayjs, dayjs.Dayjs];
      return api<Campaign>('POST', base, {
        title: v.title, instrument_ids: v.instrument_ids, school_ids: v.school_ids, grades: (v.grades as string[] | undefined) ?? [],
        opens_at: opens.toISOString(), closes_at: closes.toISOString(), consent_rule: v.consent_rule,
        student_message: v.student_message ?? '', show_help_contacts: !!v.show_help_contacts,
      });
    },
    onSuccess: () => {
      message.success(t('screening.campaign.created'));
      setCreating(false);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['campaigns', district] });
    },
    onError: (e) => form.setFields(toFields(e).map((f) => (f.name === 'opens_at' || f.name === 'closes_at' ? { ...f, name: 'window' } : f))),
  });
  const patch = useMutation({
    mutationFn: (v: { title: string; student_message: string; closes_at: dayjs.Dayjs }) =>
      api<Campaign>('PATCH', `${base}/${editing!.id}`, { title: v.title, student_message: v.student_message, closes_at: v.closes_at.toISOString() }),
    onSuccess: () => {
      message.success(t('screening.saved'));
      setEditing(null);
      void qc.invalidateQueries({ queryKey: ['campaigns', district] });
    },
    onError: (e) => editForm.setFields(toFields(e)),
  });
  const time = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');
  const schoolName = (id: string) => schools.data?.find((s) => s.id === id)?.name ?? id;
  return (
    <Card
      title={t('menu.campaigns')}
      extra={writer && <Button data-testid="campaign-new" type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>{t('screening.campaign.new')}</Button>}
    >
      <ProblemAlert error={list.error} />
      <Table
        data-testid="campaigns-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: t('screening.campaign.title'), dataIndex: 'title' },
          { title: t('screening.campaign.instruments'), key: 'i', render: (_, c: Campaign) => c.instruments.map((i) => <Tag key={i.id}>{pick(i.name, i18n.language)}</Tag>) },
          { title: t('screening.campaign.schools'), key: 's', render: (_, c: Campaign) => c.school_ids.map(schoolName).join(t('screening.sep')) },
          { title: t('screening.campaign.grades'), key: 'g', render: (_, c: Campaign) => gradeList(c.grades, t('screening.sep'), t('screening.campaign.allGrades')) },
          { title: t('screening.campaign.window'), key: 'w', render: (_, c: Campaign) => `${time(c.opens_at)} – ${time(c.closes_at)}` },
          { title: t('screening.campaign.consentRule'), dataIndex: 'consent_rule', render: (v: string) => t(`screening.consentRule.${v}`) },
          { title: t('screening.campaign.status'), dataIndex: 'status', render: (v: string) => <Tag data-testid="campaign-status" color={statusColor[v]}>{t(`screening.status.${v}`)}</Tag> },
          {
            title: '',
            key: 'a',
            render: (_, c: Campaign) => (
              <Space>
                <a data-testid="campaign-progress" onClick={() => setWatching(c)}>{t('screening.campaign.progress')}</a>
                {writer && c.status !== 'closed' && (
                  <a onClick={() => {
                    setEditing(c);
                    editForm.setFieldsValue({ title: c.title, student_message: c.student_message, closes_at: dayjs(c.closes_at) });
                  }}>{t('screening.campaign.edit')}</a>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={creating}
        width={720}
        title={t('screening.campaign.new')}
        onCancel={() => setCreating(false)}
        onOk={() => form.submit()}
        okButtonProps={{ 'data-testid': 'campaign-submit' } as ButtonProps}
        confirmLoading={create.isPending}
        destroyOnHidden
      >
        <ProblemAlert error={create.error} formFields={['title', 'instrument_ids', 'school_ids', 'grades', 'consent_rule', 'student_message']} />
        <Form
          form={form}
          layout="vertical"
          onFinish={(v) => create.mutate(v)}
          initialValues={{ consent_rule: 'opt_out', show_help_contacts: true, window: [dayjs().startOf('minute'), dayjs().add(14, 'day').endOf('day')] }}
        >
          <Form.Item name="title" label={t('screening.campaign.title')} rules={[{ required: true, whitespace: true }, { max: 200 }]}>
            <Input data-testid="campaign-title" maxLength={200} />
          </Form.Item>
          <Form.Item name="instrument_ids" label={t('screening.campaign.instruments')} rules={[{ required: true }]}>
            <Select data-testid="campaign-instruments" mode="multiple" loading={instruments.isLoading}
              options={(instruments.data ?? []).map((i) => ({ value: i.id, label: `${pick(i.name, i18n.language)} v${i.version}` }))} />
          </Form.Item>
          <Form.Item name="school_ids" label={t('screening.campaign.schools')} rules={[{ required: true }]}>
            <Select data-testid="campaign-schools" mode="multiple" loading={schools.isLoading}
              options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
          </Form.Item>
          <Form.Item name="grades" label={t('screening.campaign.grades')} extra={t('screening.campaign.gradesHint')}>
            <Select data-testid="campaign-grades" mode="tags" placeholder={t('screening.campaign.allGrades')} tokenSeparators={[',', '，', '、']}
              options={gradeNames.map((g) => ({ value: g, label: g }))} />
          </Form.Item>
          <Form.Item name="window" label={t('screening.campaign.window')} rules={[{ required: true }]}>
            <DatePicker.RangePicker data-testid="campaign-window" showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
          </Form.Item>
          <Form.Item name="consent_rule" label={t('screening.campaign.consentRule')} rules={[{ required: true }]}>
            <Radio.Group data-testid="campaign-consent">
              {consentRules.map((r) => <Radio key={r} value={r}>{t(`screening.consentRule.${r}`)}</Radio>)}
            </Radio.Group>
          </Form.Item>
          <Form.Item name="student_message" label={t('screening.campaign.studentMessage')} extra={t('screening.campaign.studentMessageHint')} rules={[{ max: 2000 }]}>
            <Input.TextArea data-testid="campaign-message" rows={3} maxLength={2000} />
          </Form.Item>
          <Form.Item name="show_help_contacts" label={t('screening.campaign.showHelp')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={!!editing} title={t('screening.campaign.edit')} onCancel={() => setEditing(null)} onOk={() => editForm.submit()}
        confirmLoading={patch.isPending} forceRender>
        <ProblemAlert error={patch.error} formFields={['title', 'student_message', 'closes_at']} />
        <Form form={editForm} layout="vertical" onFinish={(v) => patch.mutate(v)}>
          <Form.Item name="title" label={t('screening.campaign.title')} rules={[{ required: true, whitespace: true }]}><Input /></Form.Item>
          <Form.Item name="closes_at" label={t('screening.campaign.closesAt')} rules={[{ required: true }]}>
            <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
          </Form.Item>
          <Form.Item name="student_message" label={t('screening.campaign.studentMessage')}><Input.TextArea rows={3} /></Form.Item>
        </Form>
      </Modal>
      <Drawer open={!!watching} width={Math.min(960, window.innerWidth)} onClose={() => setWatching(null)} destroyOnHidden title={watching?.title}>
        {watching && district && <DistrictProgressView district={district} campaign={watching} />}
      </Drawer>
    </Card>
  );
}

// DistrictProgressView: completion per school and grade and the band distribution, all as
// the server's suppressed counts ("<5" stays "<5", with a marker).
export function DistrictProgressView({ district, campaign }: { district: string; campaign: Campaign }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const instruments = useInstruments(district);
  const progress = useQuery({
    queryKey: ['campaign-progress', district, campaign.id],
    queryFn: () => api<DistrictProgress>('GET', `/api/v1/districts/${district}/campaigns/${campaign.id}/progress`),
  });
  const grades = gradeOrder(campaign.grades ?? [], progress.data?.schools.flatMap((s) => s.grades.map((g) => g.grade)) ?? []);
  const defOf = (code: string) => instruments.data?.find((i) => i.code === code)?.definition;
  const bandLabel = (code: string, band: string) => pick(defOf(code)?.bands.find((b) => b.code === band)?.label, lang) || band;
  const dist = progress.data ? bandDistribution(progress.data, (c) => defOf(c)?.bands.map((b) => b.code) ?? []) : [];
  const anySuppressed = !!progress.data && (progress.data.bands.some((b) => isSuppressed(b.count)) ||
    progress.data.schools.some((s) => s.grades.some((g) => isSuppressed(g.completed) || isSuppressed(g.eligible))));
  return (
    <>
      <ProblemAlert error={progress.error} />
      <Space wrap style={{ marginBottom: 12 }}>
        <Tag color={statusColor[campaign.status]}>{t(`screening.status.${campaign.status}`)}</Tag>
        <Typography.Text type="secondary">{dayjs(campaign.opens_at).format('YYYY-MM-DD HH:mm')} – {dayjs(campaign.closes_at).format('YYYY-MM-DD HH:mm')}</Typography.Text>
      </Space>
      <Typography.Paragraph type="secondary" data-testid="suppression-note">
        {t('screening.progress.deidentified')}{anySuppressed ? ' ' + t('screening.suppressedHint') : ''}
      </Typography.Paragraph>
      <Typography.Title level={5}>{t('screening.progress.completion')}</Typography.Title>
      <Table
        data-testid="district-progress-table"
        rowKey="school_id"
        size="small"
        bordered
        loading={progress.isLoading}
        dataSource={progress.data?.schools ?? []}
        pagination={false}
        scroll={{ x: true }}
        columns={[
          { title: t('screening.campaign.school'), dataIndex: 'school_name', fixed: 'left' },
          ...grades.map((g) => ({
            title: g,
            key: String(g),
            render: (_: unknown, s: DistrictProgress['schools'][number]) => {
              const cell = s.grades.find((x) => x.grade === g);
              if (!cell) return '—';
              const rate = completionRate(cell.completed, cell.eligible);
              return (
                <span data-testid="progress-cell">
                  <CountText value={cell.completed} /> / <CountText value={cell.eligible} />
                  {rate !== null && <Typography.Text type="secondary"> ({rate}%)</Typography.Text>}
                </span>
              );
            },
          })),
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>{t('screening.progress.bands')}</Typography.Title>
      {dist.length === 0 && !progress.isLoading && <Empty description={t('screening.progress.noBands')} />}
      {dist.map((d) => (
        <Card key={d.code} size="small" title={pick(defOf(d.code)?.name, lang) || d.code} style={{ marginBottom: 16 }} data-testid="band-distribution">
          <BarChart labels={d.bands.map((b) => bandLabel(d.code, b.band))} values={d.bands.map((b) => countValue(b.count))} seriesName={t('screening.progress.students')} height={220} />
          <Space wrap>
            {d.bands.map((b) => (
              <span key={b.band}>{bandLabel(d.code, b.band)}: <CountText value={b.count} /></span>
            ))}
          </Space>
        </Card>
      ))}
    </>
  );
}
