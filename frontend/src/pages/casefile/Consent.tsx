import { useState } from 'react';
import { App, Button, Card, Checkbox, DatePicker, Empty, Form, Input, Modal, Radio, Select, Space, Table, Tag, Timeline, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import ProblemAlert, { useFieldErrors } from '../../components/ProblemAlert';

export interface Consent {
  id: string;
  given_by: string;
  guardian: string;
  scope: string;
  recipient_name: string;
  valid_from: string;
  valid_until: string | null;
  status: string;
  recorded_at: string;
  revocation: { revoked_at: string; reason: string } | null;
}

interface Item {
  type: string;
  id?: string;
}

interface Disclosure {
  id: string;
  recipient_kind: string;
  recipient_name: string;
  legal_basis: string;
  consent_id: string | null;
  justification: string;
  items: Item[];
  disclosed_at: string;
}

interface Inquiry {
  id: string;
  requester_kind: string;
  requester: string;
  organisation: string;
  asked: string;
  refusal_reason: string;
  inquired_at: string;
}

interface LogEntry {
  type: 'disclosure' | 'refused_inquiry';
  at: string;
  disclosure?: Disclosure;
  inquiry?: Inquiry;
}

interface SessionRef {
  id: string;
  occurred_at: string;
  channel: string;
}

const givers = ['guardian', 'student'];
const scopes = ['screening', 'referral', 'sharing'];
const recipientKinds = ['guardian', 'school_leader', 'hospital', 'teacher', 'other'];
const bases = ['consent', 'imminent_danger', 'legal_obligation'];
const requesterKinds = ['police', 'other_school', 'media', 'employer', 'other'];
const plainItems = ['risk_tier', 'support_plan', 'summary_text'];
const statusColor: Record<string, string> = { active: 'green', pending: 'blue', expired: 'default', revoked: 'red' };
const fmt = (s: string) => dayjs(s).format('YYYY-MM-DD HH:mm');

// ConsentTab is the case file's "Consent & disclosure" tab (知情同意与信息披露): the
// consents with their revocation, the disclosure form, refused outside inquiries, and
// the disclosure log.
export default function ConsentTab({ base, id }: { base: string; id: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const file = `${base}/case-files/${id}`;
  const consents = useQuery({ queryKey: ['consents', id], queryFn: () => api<{ items: Consent[] }>('GET', `${file}/consents`) });
  const log = useQuery({ queryKey: ['disclosures', id], queryFn: () => api<{ items: LogEntry[] }>('GET', `${file}/disclosures`) });
  const sessions = useQuery({ queryKey: ['timeline', id], queryFn: () => api<{ items: SessionRef[] }>('GET', `${file}/timeline`) });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['consents', id] });
    void qc.invalidateQueries({ queryKey: ['disclosures', id] });
  };
  const [dialog, setDialog] = useState<null | 'consent' | 'disclosure' | 'inquiry'>(null);
  const [revoking, setRevoking] = useState<Consent | null>(null);
  const [consentForm] = Form.useForm();
  const [revokeForm] = Form.useForm();
  const [disclosureForm] = Form.useForm();
  const [inquiryForm] = Form.useForm();
  const done = (form: ReturnType<typeof Form.useForm>[0]) => () => {
    refresh();
    setDialog(null);
    setRevoking(null);
    form.resetFields();
    message.success(t('consent.saved'));
  };
  const addConsent = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api('POST', `${file}/consents`, {
        given_by: v.given_by,
        guardian: v.given_by === 'guardian' ? v.guardian ?? '' : '',
        scope: v.scope,
        recipient_name: v.recipient_name ?? '',
        valid_from: v.valid_from ? (v.valid_from as dayjs.Dayjs).format('YYYY-MM-DD') : '',
        valid_until: v.valid_until ? (v.valid_until as dayjs.Dayjs).format('YYYY-MM-DD') : '',
      }),
    onSuccess: done(consentForm),
    onError: (e) => consentForm.setFields(toFields(e)),
  });
  const revoke = useMutation({
    mutationFn: (v: { reason: string }) => api('POST', `${file}/consents/${revoking?.id}/revoke`, v),
    onSuccess: done(revokeForm),
    onError: (e) => revokeForm.setFields(toFields(e)),
  });
  const disclose = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api('POST', `${file}/disclosures`, {
        recipient_kind: v.recipient_kind,
        recipient_name: v.recipient_name ?? '',
        legal_basis: v.legal_basis,
        ...(v.legal_basis === 'consent' ? { consent_id: v.consent_id } : { justification: v.justification ?? '' }),
        items: ((v.items as string[] | undefined) ?? []).map((k) => {
          const [type, ref] = k.split(':');
          return ref ? { type, id: ref } : { type };
        }),
        disclosed_at: (v.disclosed_at as dayjs.Dayjs).toISOString(),
      }),
    onSuccess: done(disclosureForm),
    onError: (e) => disclosureForm.setFields(toFields(e)),
  });
  const inquire = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api('POST', `${file}/inquiries`, { ...v, organisation: v.organisation ?? '', inquired_at: (v.inquired_at as dayjs.Dayjs).toISOString() }),
    onSuccess: done(inquiryForm),
    onError: (e) => inquiryForm.setFields(toFields(e)),
  });
  const givenBy = Form.useWatch('given_by', consentForm);
  const basis = Form.useWatch('legal_basis', disclosureForm);
  const sharingConsents = (consents.data?.items ?? []).filter((c) => c.scope === 'sharing' && c.status === 'active');
  const itemOptions = [
    ...plainItems.map((k) => ({ value: k, label: t(`consent.itemValue.${k}`) })),
    ...(sessions.data?.items ?? []).map((s) => ({
      value: `session:${s.id}`,
      label: t('consent.sessionItem', { when: fmt(s.occurred_at), channel: t(`caseFile.channelValue.${s.channel}`) }),
    })),
  ];
  const consentLabel = (c: Consent) =>
    `${c.recipient_name} · ${c.valid_from} – ${c.valid_until ?? t('consent.openEnded')}${c.guardian ? ` · ${c.guardian}` : ''}`;

  return (
    <>
      <ProblemAlert error={consents.error || log.error} />
      <Card
        size="small"
        title={t('consent.consents')}
        style={{ marginBottom: 16 }}
        extra={<Button data-testid="consent-new" icon={<PlusOutlined />} onClick={() => setDialog('consent')}>{t('consent.newConsent')}</Button>}
      >
        <Table
          data-testid="consents-table"
          size="small"
          rowKey="id"
          pagination={false}
          loading={consents.isLoading}
          dataSource={consents.data?.items ?? []}
          columns={[
            { title: t('consent.givenBy'), key: 'g', render: (_, c) => (c.given_by === 'guardian' ? c.guardian : t('consent.giverValue.student')) },
            { title: t('consent.scope'), key: 's', render: (_, c) => t(`consent.scopeValue.${c.scope}`) },
            { title: t('consent.recipient'), dataIndex: 'recipient_name' },
            { title: t('consent.validity'), key: 'v', render: (_, c) => `${c.valid_from} – ${c.valid_until ?? t('consent.openEnded')}` },
            {
              title: t('consent.status'),
              key: 'st',
              render: (_, c) => (
                <Space direction="vertical" size={0}>
                  <Tag color={statusColor[c.status]} data-testid="consent-status">{t(`consent.statusValue.${c.status}`)}</Tag>
                  {c.revocation && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {fmt(c.revocation.revoked_at)} {c.revocation.reason}
                    </Typography.Text>
                  )}
                </Space>
              ),
            },
            {
              title: '',
              key: 'a',
              render: (_, c) =>
                !c.revocation && (
                  <Button size="small" danger data-testid="consent-revoke" onClick={() => setRevoking(c)}>{t('consent.revoke')}</Button>
                ),
            },
          ]}
        />
      </Card>
      <Card
        size="small"
        title={t('consent.log')}
        extra={
          <Space>
            <Button data-testid="disclosure-new" type="primary" onClick={() => setDialog('disclosure')}>{t('consent.newDisclosure')}</Button>
            <Button data-testid="inquiry-new" onClick={() => setDialog('inquiry')}>{t('consent.newInquiry')}</Button>
          </Space>
        }
      >
        {log.data && log.data.items.length === 0 && <Empty description={t('consent.emptyLog')} />}
        <Timeline
          data-testid="disclosure-log"
          items={(log.data?.items ?? []).map((e) => {
            if (e.disclosure) {
              const d = e.disclosure;
              return {
                key: d.id,
                color: 'blue',
                children: (
                  <div data-testid="log-entry">
                    <Space wrap>
                      <strong>{fmt(d.disclosed_at)}</strong>
                      <Tag color="blue">{t('consent.disclosed')}</Tag>
                      <span>{t(`consent.recipientKindValue.${d.recipient_kind}`)}：{d.recipient_name}</span>
                      <Tag>{t(`consent.basisValue.${d.legal_basis}`)}</Tag>
                    </Space>
                    <div>
                      {t('consent.items')}：
                      {d.items.map((it, i) => <Tag key={i}>{t(`consent.itemValue.${it.type}`)}</Tag>)}
                    </div>
                    {d.justification && <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>{d.justification}</Typography.Paragraph>}
                  </div>
                ),
              };
            }
            const q = e.inquiry as Inquiry;
            return {
              key: q.id,
              color: 'red',
              children: (
                <div data-testid="log-entry">
                  <Space wrap>
                    <strong>{fmt(q.inquired_at)}</strong>
                    <Tag color="red">{t('consent.refused')}</Tag>
                    <span>{t(`consent.requesterKindValue.${q.requester_kind}`)}：{q.requester}{q.organisation && `（${q.organisation}）`}</span>
                  </Space>
                  <div>{t('consent.asked')}：{q.asked}</div>
                  <Typography.Text type="secondary">{t('consent.refusalReason')}：{q.refusal_reason}</Typography.Text>
                </div>
              ),
            };
          })}
        />
      </Card>

      <Modal open={dialog === 'consent'} title={t('consent.newConsent')} footer={null} onCancel={() => setDialog(null)} destroyOnHidden>
        <ProblemAlert error={addConsent.error} formFields={['given_by', 'guardian', 'scope', 'recipient_name', 'valid_from', 'valid_until']} />
        <Form form={consentForm} layout="vertical" onFinish={(v) => addConsent.mutate(v)} initialValues={{ given_by: 'guardian', scope: 'sharing', valid_from: dayjs() }}>
          <Form.Item name="given_by" label={t('consent.givenBy')} rules={[{ required: true }]}>
            <Radio.Group data-testid="consent-given-by" options={givers.map((v) => ({ value: v, label: t(`consent.giverValue.${v}`) }))} />
          </Form.Item>
          {givenBy === 'guardian' && (
            <Form.Item name="guardian" label={t('consent.guardian')} rules={[{ required: true }]} extra={t('consent.guardianHint')}>
              <Input data-testid="consent-guardian" maxLength={200} />
            </Form.Item>
          )}
          <Form.Item name="scope" label={t('consent.scope')} rules={[{ required: true }]}>
            <Select data-testid="consent-scope" options={scopes.map((v) => ({ value: v, label: t(`consent.scopeValue.${v}`) }))} />
          </Form.Item>
          <Form.Item name="recipient_name" label={t('consent.recipient')} extra={t('consent.recipientHint')}>
            <Input data-testid="consent-recipient" maxLength={200} />
          </Form.Item>
          <Space wrap>
            <Form.Item name="valid_from" label={t('consent.validFrom')} rules={[{ required: true }]}><DatePicker data-testid="consent-valid-from" /></Form.Item>
            <Form.Item name="valid_until" label={t('consent.validUntil')}><DatePicker data-testid="consent-valid-until" /></Form.Item>
          </Space>
          <Button data-testid="consent-ok" type="primary" htmlType="submit" loading={addConsent.isPending}>{t('consent.save')}</Button>
        </Form>
      </Modal>

      <Modal open={!!revoking} title={t('consent.revokeTitle')} footer={null} onCancel={() => setRevoking(null)} destroyOnHidden>
        <ProblemAlert error={revoke.error} formFields={['reason']} />
        {revoking && <Typography.Paragraph>{t(`consent.scopeValue.${revoking.scope}`)} {revoking.recipient_name}</Typography.Paragraph>}
        <Form form={revokeForm} layout="vertical" onFinish={(v) => revoke.mutate(v)}>
          <Form.Item name="reason" label={t('consent.revokeReason')} rules={[{ required: true }]}>
            <Input.TextArea data-testid="revoke-reason" rows={2} maxLength={2000} />
          </Form.Item>
          <Button data-testid="revoke-ok" danger type="primary" htmlType="submit" loading={revoke.isPending}>{t('consent.revoke')}</Button>
        </Form>
      </Modal>

      <Modal open={dialog === 'disclosure'} width={640} title={t('consent.newDisclosure')} footer={null} onCancel={() => setDialog(null)} destroyOnHidden>
        <ProblemAlert error={disclose.error} formFields={['recipient_kind', 'recipient_name', 'legal_basis', 'consent_id', 'justification', 'items', 'disclosed_at']} />
        <Form form={disclosureForm} layout="vertical" onFinish={(v) => disclose.mutate(v)} initialValues={{ recipient_kind: 'hospital', legal_basis: 'consent', disclosed_at: dayjs() }}>
          <Space wrap>
            <Form.Item name="recipient_kind" label={t('consent.recipientKind')} rules={[{ required: true }]}>
              <Select data-testid="disclosure-recipient-kind" style={{ width: 140 }} options={recipientKinds.map((v) => ({ value: v, label: t(`consent.recipientKindValue.${v}`) }))} />
            </Form.Item>
            <Form.Item name="recipient_name" label={t('consent.recipient')} rules={[{ required: true }]}>
              <Input data-testid="disclosure-recipient-name" style={{ width: 260 }} maxLength={200} />
            </Form.Item>
          </Space>
          <Form.Item name="legal_basis" label={t('consent.basis')} rules={[{ required: true }]}>
            <Radio.Group data-testid="disclosure-basis" options={bases.map((v) => ({ value: v, label: t(`consent.basisValue.${v}`) }))} />
          </Form.Item>
          {basis === 'consent' ? (
            <Form.Item name="consent_id" label={t('consent.consent')} rules={[{ required: true }]} extra={sharingConsents.length === 0 ? t('consent.noActiveConsent') : undefined}>
              <Select data-testid="disclosure-consent" options={sharingConsents.map((c) => ({ value: c.id, label: consentLabel(c) }))} />
            </Form.Item>
          ) : (
            <Form.Item name="justification" label={t('consent.justification')} rules={[{ required: true }]}>
              <Input.TextArea data-testid="disclosure-justification" rows={2} maxLength={5000} />
            </Form.Item>
          )}
          <Form.Item name="items" label={t('consent.items')} rules={[{ required: true }]}>
            <Checkbox.Group data-testid="disclosure-items" options={itemOptions} style={{ display: 'flex', flexDirection: 'column', gap: 4 }} />
          </Form.Item>
          <Form.Item name="disclosed_at" label={t('consent.disclosedAt')} rules={[{ required: true }]}><DatePicker showTime /></Form.Item>
          <Button data-testid="disclosure-ok" type="primary" htmlType="submit" loading={disclose.isPending}>{t('consent.save')}</Button>
        </Form>
      </Modal>

      <Modal open={dialog === 'inquiry'} width={600} title={t('consent.newInquiry')} footer={null} onCancel={() => setDialog(null)} destroyOnHidden>
        <ProblemAlert error={inquire.error} formFields={['requester_kind', 'requester', 'organisation', 'asked', 'refusal_reason', 'inquired_at']} />
        <Form form={inquiryForm} layout="vertical" onFinish={(v) => inquire.mutate(v)} initialValues={{ requester_kind: 'police', inquired_at: dayjs() }}>
          <Space wrap>
            <Form.Item name="requester_kind" label={t('consent.requesterKind')} rules={[{ required: true }]}>
              <Select data-testid="inquiry-requester-kind" style={{ width: 140 }} options={requesterKinds.map((v) => ({ value: v, label: t(`consent.requesterKindValue.${v}`) }))} />
            </Form.Item>
            <Form.Item name="requester" label={t('consent.requester')} rules={[{ required: true }]}><Input data-testid="inquiry-requester" maxLength={200} /></Form.Item>
            <Form.Item name="organisation" label={t('consent.organisation')}><Input data-testid="inquiry-organisation" maxLength={200} /></Form.Item>
          </Space>
          <Form.Item name="asked" label={t('consent.asked')} rules={[{ required: true }]}><Input.TextArea data-testid="inquiry-asked" rows={2} maxLength={5000} /></Form.Item>
          <Form.Item name="refusal_reason" label={t('consent.refusalReason')} rules={[{ required: true }]}><Input.TextArea data-testid="inquiry-reason" rows={2} maxLength={5000} /></Form.Item>
          <Form.Item name="inquired_at" label={t('consent.inquiredAt')} rules={[{ required: true }]}><DatePicker showTime /></Form.Item>
          <Button data-testid="inquiry-ok" type="primary" htmlType="submit" loading={inquire.isPending}>{t('consent.save')}</Button>
        </Form>
      </Modal>
    </>
  );
}
