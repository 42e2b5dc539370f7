import { useEffect, useState } from 'react';
import { App, Alert, Button, Checkbox, Form, Input, Modal, Radio, Space, Spin, Steps, Tag, Typography } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import { fullLink, referralItems, type Crisis, type Institution, type Referral } from './model';
import { RuleAlert } from './shared';

// useLetter fetches a referral's letter PDF as a blob URL for the preview (revoked on unmount).
export function useLetter(base: string, id: string | undefined) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!id) return;
    let alive = true;
    let made: string | null = null;
    fetch(`${base}/referrals/${id}/letter.pdf`, { credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const blob = await r.blob();
        if (!alive) return;
        made = typeof URL.createObjectURL === 'function' ? URL.createObjectURL(blob) : null;
        setUrl(made);
      })
      .catch((e) => alive && setError(e));
    return () => {
      alive = false;
      if (made && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(made);
    };
  }, [base, id]);
  return { url, error };
}

export function LetterPreview({ base, id }: { base: string; id: string }) {
  const { t } = useTranslation();
  const { url, error } = useLetter(base, id);
  if (error) return <ProblemAlert error={error} />;
  if (!url) return <Spin data-testid="letter-loading" />;
  return <iframe data-testid="letter-preview" title={t('referral.letter')} src={url} style={{ width: '100%', height: 420, border: '1px solid #f0f0f0' }} />;
}

// OneTimeLink shows the institution's link once, with a copy button.
export function OneTimeLink({ link }: { link: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const url = fullLink(link, window.location.origin);
  return (
    <Alert type="success" showIcon style={{ marginBottom: 16 }} message={t('referral.linkOnce')}
      description={
        <Space.Compact style={{ width: '100%' }}>
          <Input data-testid="referral-link" readOnly value={url} />
          <Button icon={<CopyOutlined />} data-testid="referral-link-copy"
            onClick={() => { void navigator.clipboard?.writeText(url).then(() => message.success(t('referral.copied')), () => {}); }}>
            {t('referral.copy')}
          </Button>
        </Space.Compact>
      } />
  );
}

// ReferralWizard: pick a partner institution, the basis (consent, or the imminent danger of
// an open crisis), the items to share and the reason; then the one-time link and the letter.
export default function ReferralWizard({ base, caseFileId, crisis, onClose }: { base: string; caseFileId: string; crisis?: Crisis; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const [step, setStep] = useState(0);
  const [institution, setInstitution] = useState<string | undefined>();
  const [sent, setSent] = useState<Referral | null>(null);
  const list = useQuery({ queryKey: ['institutions', base], queryFn: () => api<{ items: Institution[] }>('GET', `${base}/institutions`) });
  const send = useMutation({
    mutationFn: (v: { basis: string; items?: string[]; reason: string }) =>
      api<Referral>('POST', `${base}/referrals`, {
        case_file_id: caseFileId, institution_id: institution, basis: v.basis, items: v.items ?? [], reason: v.reason,
        crisis_id: crisis?.id ?? null,
      }),
    onSuccess: (r) => {
      setSent(r);
      setStep(2);
      void qc.invalidateQueries({ queryKey: ['referrals', base] });
      if (crisis) void qc.invalidateQueries({ queryKey: ['crisis', base, crisis.id] });
    },
  });
  const inst = list.data?.items.find((i) => i.id === institution);
  return (
    <Modal open width={760} title={t('referral.new')} onCancel={onClose} footer={null} destroyOnHidden maskClosable={false}>
      <Steps size="small" current={step} style={{ marginBottom: 16 }}
        items={[{ title: t('referral.stepInstitution') }, { title: t('referral.stepContent') }, { title: t('referral.stepDone') }]} />
      {step === 0 && (
        <div data-testid="wizard-institutions">
          <ProblemAlert error={list.error} />
          {list.isLoading && <Spin />}
          {list.data && list.data.items.length === 0 && <Typography.Paragraph type="secondary">{t('referral.noInstitutions')}</Typography.Paragraph>}
          <Radio.Group value={institution} onChange={(e) => setInstitution(e.target.value)} style={{ width: '100%' }}>
            <Space direction="vertical" style={{ width: '100%' }}>
              {(list.data?.items ?? []).map((i) => (
                <Radio key={i.id} value={i.id} data-testid="wizard-institution">
                  <Typography.Text strong>{i.name}</Typography.Text> <Tag>{t(`institution.kind.${i.kind}`)}</Tag>
                  {i.accepts_direct ? <Tag color="green">{t('institution.direct')}</Tag> : <Tag>{t('institution.noDirect')}</Tag>}
                  <div><Typography.Text type="secondary">{i.services.join('、')}{i.contact ? ` · ${i.contact}` : ''}</Typography.Text></div>
                </Radio>
              ))}
            </Space>
          </Radio.Group>
          <div style={{ marginTop: 16, textAlign: 'right' }}>
            <Button data-testid="wizard-next" type="primary" disabled={!institution} onClick={() => setStep(1)}>{t('referral.next')}</Button>
          </div>
        </div>
      )}
      {step === 1 && (
        <Form form={form} layout="vertical" onFinish={(v) => send.mutate(v)}
          initialValues={{ basis: crisis && crisis.status === 'open' ? 'imminent_danger' : 'consent', items: ['risk_tier'] }}>
          <Typography.Paragraph>{t('referral.to', { name: inst?.name ?? '' })}</Typography.Paragraph>
          <RuleAlert error={send.error} formFields={['basis', 'items', 'reason']} />
          <Form.Item name="basis" label={t('referral.basisLabel')} rules={[{ required: true }]}>
            <Radio.Group data-testid="wizard-basis">
              <Space direction="vertical">
                <Radio value="consent" data-testid="basis-consent">{t('referral.basis.consent')} <Typography.Text type="secondary">{t('referral.basisHint.consent')}</Typography.Text></Radio>
                <Radio value="imminent_danger" disabled={!crisis || crisis.status !== 'open'} data-testid="basis-danger">
                  {t('referral.basis.imminent_danger')} <Typography.Text type="secondary">{t(crisis ? 'referral.basisHint.imminent_danger' : 'referral.basisHint.needsCrisis')}</Typography.Text>
                </Radio>
              </Space>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="items" label={t('referral.itemsLabel')} extra={t('referral.itemsHint')}>
            <Checkbox.Group data-testid="wizard-items">
              <Space direction="vertical">
                {referralItems.map((it) => (
                  <Checkbox key={it} value={it} data-testid={`item-${it}`}>
                    {t(`referral.item.${it}`)} <Typography.Text type="secondary">— {t(`referral.itemShares.${it}`)}</Typography.Text>
                  </Checkbox>
                ))}
              </Space>
            </Checkbox.Group>
          </Form.Item>
          <Form.Item name="reason" label={t('referral.reason')} rules={[{ required: true, whitespace: true }, { max: 2000 }]} extra={t('referral.reasonHint')}>
            <Input.TextArea data-testid="wizard-reason" rows={3} maxLength={2000} />
          </Form.Item>
          <Space style={{ width: '100%', justifyContent: 'space-between' }}>
            <Button onClick={() => { send.reset(); setStep(0); }}>{t('referral.back')}</Button>
            <Button data-testid="wizard-send" type="primary" htmlType="submit" loading={send.isPending}>{t('referral.send')}</Button>
          </Space>
        </Form>
      )}
      {step === 2 && sent && (
        <div data-testid="wizard-done">
          {sent.link && <OneTimeLink link={sent.link} />}
          <Typography.Paragraph type="secondary">{t('referral.linkHint')}</Typography.Paragraph>
          <LetterPreview base={base} id={sent.id} />
          <div style={{ marginTop: 16, textAlign: 'right' }}>
            <Button data-testid="wizard-close" type="primary" onClick={onClose}>{t('referral.done')}</Button>
          </div>
        </div>
      )}
    </Modal>
  );
}
