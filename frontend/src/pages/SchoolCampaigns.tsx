import { useMemo, useState } from 'react';
import { Alert, App, Button, type ButtonProps, Card, DatePicker, Descriptions, Form, Input, Modal, Progress, Radio, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { ArrowLeftOutlined, DownloadOutlined, EditOutlined, PrinterOutlined, QrcodeOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import {
  download, gradeList, missingFromProblem, missingItems, pick, sheetOf, studentUrl,
  type Answers, type Campaign, type CodeSlip, type HomeroomProgress, type RosterRow, type SheetInstrument,
} from '../api/screening';
import { useSession } from '../session';
import { canWriteScreening } from '../nav';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import Questionnaire, { setAnswer } from '../components/Questionnaire';
import { statusColor } from './Campaigns';

// formatCode shows a code the way it is printed: groups of four (ABCD-EFGH-JK).
export function formatCode(code: string): string {
  const c = code.replace(/[\s-]/g, '');
  return c.match(/.{1,4}/g)?.join('-') ?? c;
}

// campaignSheets: the questionnaires of a campaign for paper entry, each with the id of
// the instrument version the campaign uses (definitions come without ids).
export function campaignSheets(c: Campaign): SheetInstrument[] {
  return (c.instrument_definitions ?? []).map((d, i) => sheetOf(d, c.instruments.find((x) => x.code === d.code)?.id ?? c.instruments[i]?.id ?? d.code));
}

// SchoolCampaigns: the school's screening campaigns. Counselors see the roster with consent,
// issue code sheets per homeroom and enter paper answers; school leaders watch progress.
export default function SchoolCampaigns() {
  const { t, i18n } = useTranslation();
  const { current } = useSession();
  const school = current?.school_id;
  const base = `/api/v1/schools/${school}/campaigns`;
  const [params, setParams] = useSearchParams();
  const selected = params.get('c');
  const list = useQuery({ queryKey: ['school-campaigns', school], enabled: !!school, queryFn: async () => (await api<{ items: Campaign[] }>('GET', base)).items });
  if (selected && school) return <CampaignDetail school={school} id={selected} onBack={() => setParams({})} />;
  const time = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');
  return (
    <Card title={t('menu.schoolCampaigns')}>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="school-campaigns-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: t('screening.campaign.none') }}
        onRow={(c) => ({ onClick: () => setParams({ c: c.id }), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('screening.campaign.title'), dataIndex: 'title', render: (v: string) => <a data-testid="school-campaign-open">{v}</a> },
          { title: t('screening.campaign.instruments'), key: 'i', render: (_, c: Campaign) => c.instruments.map((i) => <Tag key={i.id}>{pick(i.name, i18n.language)}</Tag>) },
          { title: t('screening.campaign.grades'), key: 'g', render: (_, c: Campaign) => gradeList(c.grades, t('screening.sep'), t('screening.campaign.allGrades')) },
          { title: t('screening.campaign.window'), key: 'w', render: (_, c: Campaign) => `${time(c.opens_at)} – ${time(c.closes_at)}` },
          { title: t('screening.campaign.status'), dataIndex: 'status', render: (v: string) => <Tag color={statusColor[v]}>{t(`screening.status.${v}`)}</Tag> },
        ]}
      />
    </Card>
  );
}

function CampaignDetail({ school, id, onBack }: { school: string; id: string; onBack: () => void }) {
  const { t, i18n } = useTranslation();
  const { current } = useSession();
  const writer = !!current && canWriteScreening(current.role);
  const path = `/api/v1/schools/${school}/campaigns/${id}`;
  const campaign = useQuery({ queryKey: ['school-campaign', school, id], queryFn: () => api<Campaign>('GET', path) });
  const progress = useQuery({
    queryKey: ['school-campaign-progress', school, id],
    queryFn: async () => (await api<{ items: HomeroomProgress[] }>('GET', `${path}/progress`)).items,
  });
  const c = campaign.data;
  const progressTab = (
    <Table
      data-testid="homeroom-progress-table"
      rowKey="homeroom_id"
      size="small"
      loading={progress.isLoading}
      dataSource={progress.data ?? []}
      pagination={false}
      summary={(rows) => {
        const e = rows.reduce((n, r) => n + r.eligible, 0);
        const d = rows.reduce((n, r) => n + r.completed, 0);
        return rows.length > 1 ? (
          <Table.Summary.Row>
            <Table.Summary.Cell index={0} colSpan={2}><strong>{t('screening.progress.total')}</strong></Table.Summary.Cell>
            <Table.Summary.Cell index={2}>{e}</Table.Summary.Cell>
            <Table.Summary.Cell index={3}>{d}</Table.Summary.Cell>
            <Table.Summary.Cell index={4}><Progress percent={e ? Math.round((d / e) * 100) : 0} size="small" /></Table.Summary.Cell>
          </Table.Summary.Row>
        ) : null;
      }}
      columns={[
        { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
        { title: t('student.grade'), dataIndex: 'grade' },
        { title: t('screening.progress.eligible'), dataIndex: 'eligible' },
        { title: t('screening.progress.completed'), dataIndex: 'completed' },
        {
          title: t('screening.progress.rate'),
          key: 'rate',
          width: 220,
          render: (_, r: HomeroomProgress) => <Progress percent={r.eligible ? Math.round((r.completed / r.eligible) * 100) : 0} size="small" />,
        },
      ]}
    />
  );
  return (
    <Card
      title={
        <Space>
          <Button data-testid="campaign-back" type="text" icon={<ArrowLeftOutlined />} onClick={onBack} />
          <span data-testid="campaign-detail-title">{c?.title ?? ''}</span>
          {c && <Tag color={statusColor[c.status]}>{t(`screening.status.${c.status}`)}</Tag>}
        </Space>
      }
    >
      <ProblemAlert error={campaign.error || progress.error} />
      {c && (
        <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }}>
          <Descriptions.Item label={t('screening.campaign.instruments')}>{c.instruments.map((i) => pick(i.name, i18n.language)).join(t('screening.sep'))}</Descriptions.Item>
          <Descriptions.Item label={t('screening.campaign.window')}>
            {dayjs(c.opens_at).format('YYYY-MM-DD HH:mm')} – {dayjs(c.closes_at).format('YYYY-MM-DD HH:mm')}
          </Descriptions.Item>
          <Descriptions.Item label={t('screening.campaign.grades')}>{gradeList(c.grades, t('screening.sep'), t('screening.campaign.allGrades'))}</Descriptions.Item>
          <Descriptions.Item label={t('screening.campaign.consentRule')}>{t(`screening.consentRule.${c.consent_rule}`)}</Descriptions.Item>
        </Descriptions>
      )}
      {writer && c ? (
        <Tabs
          items={[
            { key: 'roster', label: <span data-testid="tab-roster">{t('screening.roster.tab')}</span>, children: <Roster school={school} campaign={c} homerooms={progress.data ?? []} /> },
            { key: 'progress', label: <span data-testid="tab-progress">{t('screening.progress.tab')}</span>, children: progressTab },
          ]}
        />
      ) : (
        progressTab
      )}
    </Card>
  );
}

function Roster({ school, campaign, homerooms }: { school: string; campaign: Campaign; homerooms: HomeroomProgress[] }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const path = `/api/v1/schools/${school}/campaigns/${campaign.id}`;
  const [homeroom, setHomeroom] = useState<string | undefined>();
  const roster = useQuery({
    queryKey: ['campaign-roster', school, campaign.id, homeroom ?? ''],
    queryFn: async () => (await api<{ items: RosterRow[] }>('GET', `${path}/roster${homeroom ? `?homeroom_id=${homeroom}` : ''}`)).items,
  });
  const [consentOf, setConsentOf] = useState<RosterRow | null>(null);
  const [entering, setEntering] = useState<RosterRow | null>(null);
  const [codes, setCodes] = useState(false);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['campaign-roster', school, campaign.id] });
    void qc.invalidateQueries({ queryKey: ['school-campaign-progress', school, campaign.id] });
  };
  const homeroomName = homerooms.find((h) => h.homeroom_id === homeroom)?.homeroom_name ?? '';
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          data-testid="roster-homeroom"
          allowClear
          placeholder={t('screening.roster.allHomerooms')}
          style={{ width: 220 }}
          value={homeroom}
          onChange={setHomeroom}
          options={homerooms.map((h) => ({ value: h.homeroom_id, label: h.homeroom_name }))}
        />
        <Button data-testid="codes-open" icon={<QrcodeOutlined />} disabled={!homeroom || campaign.status === 'closed'} onClick={() => setCodes(true)}>
          {t('screening.codes.generate')}
        </Button>
        {!homeroom && <Typography.Text type="secondary">{t('screening.codes.pickHomeroom')}</Typography.Text>}
      </Space>
      <ProblemAlert error={roster.error} />
      <Table
        data-testid="roster-table"
        rowKey="student_id"
        size="small"
        loading={roster.isLoading}
        dataSource={roster.data ?? []}
        pagination={{ pageSize: 60, hideOnSinglePage: true }}
        columns={[
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          {
            title: t('screening.roster.consent'),
            dataIndex: 'consent',
            render: (v: string, r: RosterRow) => (
              <Space size={4}>
                <Tag data-testid="roster-consent" color={v === 'granted' ? 'green' : v === 'refused' ? 'red' : 'default'}>{t(`screening.consent.${v}`)}</Tag>
                {campaign.consent_rule !== 'none' && (
                  <Button data-testid="consent-edit" size="small" type="text" icon={<EditOutlined />} aria-label={t('screening.roster.editConsent')} onClick={() => setConsentOf(r)} />
                )}
              </Space>
            ),
          },
          { title: t('screening.roster.eligible'), dataIndex: 'eligible', render: (v: boolean) => (v ? <Tag color="blue">{t('screening.yes')}</Tag> : <Tag>{t('screening.no')}</Tag>) },
          { title: t('screening.roster.code'), dataIndex: 'code', render: (v: string) => <Tag data-testid="roster-code">{t(`screening.codeStatus.${v}`)}</Tag> },
          {
            title: t('screening.roster.completed'),
            dataIndex: 'completed',
            render: (v: boolean) => (v ? <Tag data-testid="roster-completed" color="green">{t('screening.roster.done')}</Tag> : <Tag>{t('screening.roster.notYet')}</Tag>),
          },
          {
            title: '',
            key: 'a',
            render: (_, r: RosterRow) =>
              r.eligible && !r.completed && campaign.status === 'open' ? (
                <a data-testid="paper-entry" onClick={() => setEntering(r)}>{t('screening.paper.enter')}</a>
              ) : null,
          },
        ]}
      />
      <ConsentDialog path={path} row={consentOf} onClose={() => setConsentOf(null)} onSaved={refresh} />
      {entering && <PaperEntry school={school} campaign={campaign} row={entering} onClose={() => setEntering(null)} onSaved={refresh} />}
      {codes && homeroom && (
        <CodesDialog path={path} campaign={campaign} homeroomId={homeroom} homeroomName={homeroomName} onClose={() => { setCodes(false); refresh(); }} />
      )}
    </>
  );
}

function ConsentDialog({ path, row, onClose, onSaved }: { path: string; row: RosterRow | null; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const save = useMutation({
    mutationFn: (v: { status: string; guardian?: string }) =>
      api<RosterRow>('PUT', `${path}/consents/${row!.student_id}`, { status: v.status, guardian: (v.guardian ?? '').trim() }),
    onSuccess: () => {
      message.success(t('screening.saved'));
      onSaved();
      onClose();
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Modal open={!!row} title={`${t('screening.roster.editConsent')} · ${row?.name ?? ''}`} onCancel={onClose} onOk={() => form.submit()}
      confirmLoading={save.isPending} destroyOnHidden okButtonProps={{ 'data-testid': 'consent-save' } as ButtonProps}>
      <ProblemAlert error={save.error} formFields={['status', 'guardian']} />
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} initialValues={{ status: row?.consent === 'refused' ? 'refused' : 'granted' }}>
        <Form.Item name="status" label={t('screening.roster.consent')} rules={[{ required: true }]}>
          <Radio.Group>
            <Radio value="granted">{t('screening.consent.granted')}</Radio>
            <Radio value="refused">{t('screening.consent.refused')}</Radio>
          </Radio.Group>
        </Form.Item>
        <Form.Item name="guardian" label={t('screening.roster.guardian')} rules={[{ max: 100 }]}>
          <Input data-testid="consent-guardian" placeholder={t('screening.roster.guardianPlaceholder')} maxLength={100} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

// CodesDialog issues fresh one-time codes for a homeroom: a printable sheet (one slip per
// student with name, code and address) or the same rows as XLSX. Issuing again voids the
// unused codes issued before, so the dialog says so first.
function CodesDialog({ path, campaign, homeroomId, homeroomName, onClose }: {
  path: string; campaign: Campaign; homeroomId: string; homeroomName: string; onClose: () => void;
}) {
  const { t } = useTranslation();
  const issue = useMutation({
    mutationFn: () => api<{ items: CodeSlip[]; expires_at: string }>('POST', `${path}/codes`, { homeroom_id: homeroomId }),
  });
  const xlsx = useMutation({
    mutationFn: () => download(`${path}/codes.xlsx`, { homeroom_id: homeroomId }, `codes-${homeroomName || homeroomId}.xlsx`),
  });
  const sheet = issue.data;
  return (
    <Modal open width={sheet ? 900 : 520} title={`${t('screening.codes.generate')} · ${homeroomName}`} onCancel={onClose} footer={null} destroyOnHidden>
      <ProblemAlert error={issue.error || xlsx.error} />
      {!sheet ? (
        <>
          <Alert type="warning" showIcon message={t('screening.codes.voidWarning')} style={{ marginBottom: 16 }} />
          <Space wrap>
            <Button data-testid="codes-sheet" type="primary" icon={<PrinterOutlined />} loading={issue.isPending} onClick={() => issue.mutate()}>
              {t('screening.codes.sheet')}
            </Button>
            <Button data-testid="codes-xlsx" icon={<DownloadOutlined />} loading={xlsx.isPending} onClick={() => xlsx.mutate()}>
              {t('screening.codes.xlsx')}
            </Button>
          </Space>
          {xlsx.isSuccess && <Alert type="success" showIcon message={t('screening.codes.downloaded')} style={{ marginTop: 16 }} />}
        </>
      ) : (
        <CodeSheet title={campaign.title} homeroomName={homeroomName} slips={sheet.items} expiresAt={sheet.expires_at} />
      )}
    </Modal>
  );
}

function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// slipsHtml is the printable page of a code sheet: slips two per row, never split across
// pages, nothing else of the app.
export function slipsHtml(v: { title: string; homeroomName: string; slips: CodeSlip[]; hint: string; origin: string; lang: string }): string {
  const slip = (s: CodeSlip) => `<div class="slip">
  <div class="head">${escapeHtml(v.title)} · ${escapeHtml(v.homeroomName || s.homeroom_name)}</div>
  <div class="name">${escapeHtml(s.name)} <span>${escapeHtml(s.student_number)}</span></div>
  <div class="code">${escapeHtml(formatCode(s.code))}</div>
  <div class="url">${escapeHtml(studentUrl(s.url, v.origin))}</div>
  <div class="hint">${escapeHtml(v.hint)}</div>
</div>`;
  return `<!doctype html><html lang="${escapeHtml(v.lang)}"><head><meta charset="utf-8"><title>${escapeHtml(v.title)}</title><style>
body { font-family: sans-serif; margin: 12mm; }
.sheet { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
.slip { border: 1px dashed #888; padding: 4mm; break-inside: avoid; page-break-inside: avoid; }
.head, .hint { font-size: 9pt; color: #555; }
.name { font-weight: 600; margin: 1mm 0; } .name span { font-weight: 400; color: #777; }
.code { font-family: monospace; font-size: 18pt; letter-spacing: 2px; margin: 1mm 0; }
.url { font-size: 9pt; word-break: break-all; }
</style></head><body><div class="sheet">${v.slips.map(slip).join('')}</div></body></html>`;
}

// printSlips prints the sheet from a hidden frame, so that long sheets paginate.
function printSlips(html: string) {
  const frame = document.createElement('iframe');
  frame.style.position = 'fixed';
  frame.style.width = '0';
  frame.style.height = '0';
  frame.style.border = '0';
  document.body.appendChild(frame);
  const doc = frame.contentDocument;
  if (!doc || !frame.contentWindow) return;
  doc.open();
  doc.write(html);
  doc.close();
  setTimeout(() => {
    frame.contentWindow?.focus();
    frame.contentWindow?.print();
    setTimeout(() => frame.remove(), 60_000);
  }, 200);
}

export function CodeSheet({ title, homeroomName, slips, expiresAt }: { title: string; homeroomName: string; slips: CodeSlip[]; expiresAt: string }) {
  const { t, i18n } = useTranslation();
  const origin = window.location.origin;
  const hint = t('screening.codes.slipHint', { date: dayjs(expiresAt).format('YYYY-MM-DD HH:mm') });
  const print = () => printSlips(slipsHtml({ title, homeroomName, slips, hint, origin, lang: i18n.language }));
  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Button data-testid="codes-print" type="primary" icon={<PrinterOutlined />} disabled={slips.length === 0} onClick={print}>{t('screening.codes.print')}</Button>
        <Typography.Text type="secondary">{t('screening.codes.count', { count: slips.length })}</Typography.Text>
      </Space>
      {slips.length === 0 && <Alert type="info" showIcon message={t('screening.codes.noneToIssue')} />}
      <div data-testid="code-sheet" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(260px, 1fr))', gap: 8 }}>
        {slips.map((s) => (
          <div key={s.student_id} data-testid="code-slip" data-student={s.student_number}
            style={{ border: '1px dashed #8c8c8c', padding: 12, breakInside: 'avoid', pageBreakInside: 'avoid' }}>
            <div style={{ fontSize: 12, color: '#595959' }}>{title} · {homeroomName || s.homeroom_name}</div>
            <div style={{ fontWeight: 600 }}>{s.name} <span style={{ fontWeight: 400, color: '#8c8c8c' }}>{s.student_number}</span></div>
            <div data-testid="slip-code" style={{ fontFamily: 'ui-monospace, monospace', fontSize: 20, letterSpacing: 2, margin: '4px 0' }}>{formatCode(s.code)}</div>
            <div data-testid="slip-url" style={{ fontSize: 12, wordBreak: 'break-all' }}>{studentUrl(s.url, origin)}</div>
            <div style={{ fontSize: 11, color: '#8c8c8c' }}>{hint}</div>
          </div>
        ))}
      </div>
    </>
  );
}

// PaperEntry: a counselor types in the answers of a paper questionnaire; every instrument of
// the campaign is submitted as one assessment of the student.
function PaperEntry({ school, campaign, row, onClose, onSaved }: {
  school: string; campaign: Campaign; row: RosterRow; onClose: () => void; onSaved: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const sheets = useMemo(() => campaignSheets(campaign), [campaign]);
  const [answers, setAnswers] = useState<Answers>({});
  const [missing, setMissing] = useState<Set<string>>(new Set());
  const [takenOn, setTakenOn] = useState(dayjs());
  const [done, setDone] = useState<Set<string>>(new Set());
  const submit = useMutation({
    mutationFn: async () => {
      for (const s of sheets) {
        if (done.has(s.id)) continue;
        try {
          await api('POST', `/api/v1/schools/${school}/students/${row.student_id}/assessments`, {
            instrument_id: s.id, answers: answers[s.id], campaign_id: campaign.id, taken_on: takenOn.format('YYYY-MM-DD'),
          });
        } catch (e) {
          const m = missingFromProblem(e, s.id);
          if (m.length) setMissing(new Set(m));
          throw e;
        }
        setDone((d) => new Set(d).add(s.id));
      }
    },
    onSuccess: () => {
      message.success(t('screening.paper.saved'));
      onSaved();
      onClose();
    },
  });
  const pending = sheets.filter((s) => !done.has(s.id));
  return (
    <Modal open width={720} title={`${t('screening.paper.title')} · ${row.name} · ${row.student_number}`} onCancel={onClose}
      okText={t('screening.paper.submit')} okButtonProps={{ 'data-testid': 'paper-submit' } as ButtonProps} confirmLoading={submit.isPending}
      onOk={() => {
        const m = missingItems(pending, answers);
        setMissing(new Set(m));
        if (m.length === 0) submit.mutate();
      }}>
      <Alert type="info" showIcon message={t('screening.paper.hint')} style={{ marginBottom: 12 }} />
      <Space style={{ marginBottom: 12 }}>
        {t('screening.paper.takenOn')}
        <DatePicker value={takenOn} onChange={(d) => d && setTakenOn(d)} disabledDate={(d) => d.isAfter(dayjs(), 'day')} allowClear={false} />
      </Space>
      <ProblemAlert error={submit.error} />
      {missing.size > 0 && <Alert type="error" showIcon message={t('screening.student.missing', { count: missing.size })} style={{ marginBottom: 12 }} />}
      {sheets.length === 0 && <Alert type="warning" showIcon message={t('screening.paper.noDefinitions')} />}
      <Questionnaire
        instruments={pending}
        answers={answers}
        missing={missing}
        compact
        onChange={(ins, item, v) => setAnswers((a) => setAnswer(a, ins, item, v))}
      />
    </Modal>
  );
}
