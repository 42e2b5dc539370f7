import { useState } from 'react';
import { App, Button, type ButtonProps, Card, DatePicker, Descriptions, Form, Input, Modal, Select, Space, Spin, Tag, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import { allowedKinds, suggestedKind, channels, levels, methods, missingForClose, outcomes, pendingFollowUps, stepBody, type Crisis, type CrisisStep } from './model';
import { LevelTag, Muted, RuleAlert, Timers } from './shared';
import { ReferralList } from './Referrals';
import ReferralWizard from './ReferralWizard';

const time = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');

// StepDetails renders what a step recorded.
function StepDetails({ s, steps }: { s: CrisisStep; steps: CrisisStep[] }) {
  const { t } = useTranslation();
  const ref = s.ref_step ? steps.find((x) => x.id === s.ref_step) : undefined;
  return (
    <div>
      {s.level && <div>{t('crisis.field.level')}：<LevelTag level={s.level} /></div>}
      {s.method && <div>{t('crisis.field.method')}：{t(`crisis.method.${s.method}`)}</div>}
      {s.guardian && <div>{t('crisis.field.guardian')}：{s.guardian}</div>}
      {s.channel && <div>{t('crisis.field.channel')}：{t(`crisis.channel.${s.channel}`)}</div>}
      {s.response && <div>{t('crisis.field.response')}：{s.response}</div>}
      {s.due_on && <div>{t('crisis.field.dueOn')}：{s.due_on}</div>}
      {s.outcome && <div>{t('crisis.field.outcome')}：{t(`crisis.outcome.${s.outcome}`)}</div>}
      {ref && <div>{t(s.kind === 'addendum' ? 'crisis.field.corrects' : 'crisis.field.followUpOf', { kind: t(`crisis.kind.${ref.kind}`), time: time(ref.occurred_at) })}</div>}
      {s.district_note && <div>{t('crisis.field.districtRequestDone')}</div>}
      {s.referral_id && <div>{t('crisis.field.referral')}</div>}
      {s.note && <Typography.Paragraph style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{s.note}</Typography.Paragraph>}
    </div>
  );
}

// StepForm records one step; the kinds offered follow the workflow and the server has the last word (409).
function StepForm({ base, c, addendumOf, onDone }: { base: string; c: Crisis; addendumOf?: CrisisStep | null; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const steps = c.steps ?? [];
  const kinds = addendumOf ? ['addendum'] : allowedKinds(c, steps).filter((k) => k !== 'addendum');
  const [kind, setKind] = useState<string>(addendumOf ? 'addendum' : suggestedKind(c, steps));
  const pending = pendingFollowUps(steps);
  const requests = (c.district_notes ?? []).filter((n) => n.kind === 'follow_up' && !n.done_at);
  const save = useMutation({
    mutationFn: (v: Record<string, unknown>) => {
      const values: Record<string, unknown> = { ...v, ref_step: addendumOf ? addendumOf.id : v.ref_step };
      if (v.occurred_at) values.occurred_at = (v.occurred_at as dayjs.Dayjs).toISOString();
      if (v.due_on) values.due_on = (v.due_on as dayjs.Dayjs).format('YYYY-MM-DD');
      if (typeof v.follow === 'string') {
        const [which, id] = v.follow.split(':');
        if (which === 'step') values.ref_step = id;
        else values.district_note = id;
      }
      return api<Crisis>('POST', `${base}/crises/${c.id}/steps`, stepBody(kind, values));
    },
    onSuccess: (res) => {
      message.success(t('crisis.stepSaved'));
      form.resetFields();
      qc.setQueryData(['crisis', base, c.id], res);
      void qc.invalidateQueries({ queryKey: ['crises', base] });
      onDone();
    },
  });
  const missing = kind === 'closed' ? missingForClose(steps) : [];
  return (
    <div data-testid="step-form">
      {!addendumOf && (
        <Form.Item label={t('crisis.stepKind')}>
          <Select data-testid="step-kind" value={kind} onChange={(k) => { setKind(k); save.reset(); }} style={{ width: 260 }}
            options={kinds.map((k) => ({ value: k, label: t(`crisis.kind.${k}`) }))} />
        </Form.Item>
      )}
      {missing.length > 0 && (
        <Typography.Paragraph type="warning" data-testid="close-missing">
          {t('crisis.rule.cannotClose', { what: missing.map((m) => t(`crisis.missing.${m}`)).join('、') })}
        </Typography.Paragraph>
      )}
      <RuleAlert error={save.error} formFields={[]} />
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
        {kind === 'risk_assessed' && (
          <Space wrap>
            <Form.Item name="level" label={t('crisis.field.level')} rules={[{ required: true }]}>
              <Select data-testid="step-level" style={{ width: 160 }} options={levels.map((l) => ({ value: l, label: t(`crisis.level.${l}`) }))} />
            </Form.Item>
            <Form.Item name="method" label={t('crisis.field.method')} rules={[{ required: true }]}>
              <Select data-testid="step-method" style={{ width: 200 }} options={methods.map((l) => ({ value: l, label: t(`crisis.method.${l}`) }))} />
            </Form.Item>
          </Space>
        )}
        {kind === 'guardian_notified' && (
          <>
            <Space wrap>
              <Form.Item name="guardian" label={t('crisis.field.guardian')} rules={[{ required: true, whitespace: true }, { max: 100 }]}>
                <Input data-testid="step-guardian" placeholder={t('crisis.guardianPlaceholder')} style={{ width: 220 }} />
              </Form.Item>
              <Form.Item name="channel" label={t('crisis.field.channel')} rules={[{ required: true }]}>
                <Select data-testid="step-channel" style={{ width: 160 }} options={channels.map((l) => ({ value: l, label: t(`crisis.channel.${l}`) }))} />
              </Form.Item>
            </Space>
            <Form.Item name="response" label={t('crisis.field.response')} rules={[{ max: 2000 }]}>
              <Input.TextArea data-testid="step-response" rows={2} />
            </Form.Item>
          </>
        )}
        {kind === 'follow_up_scheduled' && (
          <Form.Item name="due_on" label={t('crisis.field.dueOn')} rules={[{ required: true }]}>
            <DatePicker data-testid="step-due" disabledDate={(d) => d.isBefore(dayjs(), 'day')} />
          </Form.Item>
        )}
        {kind === 'follow_up_done' && (
          <Form.Item name="follow" label={t('crisis.field.followUp')} rules={[{ required: true, message: t('crisis.pickFollowUp') }]}>
            <Select data-testid="step-follow" style={{ width: 360 }} notFoundContent={t('crisis.noPendingFollowUps')}
              options={[
                ...pending.map((p) => ({ value: `step:${p.id}`, label: t('crisis.followUpOption', { due: p.due_on ?? '' }) })),
                ...requests.map((n) => ({ value: `note:${n.id}`, label: t('crisis.districtRequestOption', { due: n.due_on ?? '', body: n.body.slice(0, 30) }) })),
              ]} />
          </Form.Item>
        )}
        {kind === 'closed' && (
          <Form.Item name="outcome" label={t('crisis.field.outcome')} rules={[{ required: true }]}>
            <Select data-testid="step-outcome" style={{ width: 220 }} options={outcomes.map((l) => ({ value: l, label: t(`crisis.outcome.${l}`) }))} />
          </Form.Item>
        )}
        <Form.Item name="note" label={t(kind === 'safety_actions' ? 'crisis.field.actions' : kind === 'addendum' ? 'crisis.field.correction' : 'crisis.field.note')}
          rules={[{ required: kind === 'safety_actions' || kind === 'addendum', whitespace: true }, { max: 5000 }]}>
          <Input.TextArea data-testid="step-note" rows={3} />
        </Form.Item>
        {kind !== 'addendum' && (
          <Form.Item name="occurred_at" label={t('crisis.field.occurredAt')} extra={t('crisis.occurredHint')}>
            <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" disabledDate={(d) => d.isAfter(dayjs(), 'day')} />
          </Form.Item>
        )}
        <Button data-testid="step-submit" type="primary" htmlType="submit" loading={save.isPending}>{t('crisis.recordStep')}</Button>
      </Form>
    </div>
  );
}

// CrisisDetail is the crisis screen: who, level, timers, the step timeline and (for the
// counselor) the step forms and the referrals made during the crisis.
export default function CrisisDetail({ base, id, readOnly }: { base: string; id: string; readOnly?: boolean }) {
  const { t } = useTranslation();
  const [addendumOf, setAddendumOf] = useState<CrisisStep | null>(null);
  const [referring, setReferring] = useState(false);
  const q = useQuery({ queryKey: ['crisis', base, id], queryFn: () => api<Crisis>('GET', `${base}/crises/${id}`) });
  if (q.error) return <ProblemAlert error={q.error} />;
  if (!q.data) return <Spin />;
  const c = q.data;
  const steps = [...(c.steps ?? [])].sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.recorded_at.localeCompare(b.recorded_at));
  return (
    <div data-testid="crisis-detail" data-status={c.status}>
      <Descriptions size="small" column={2} bordered style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('crisis.student')}>{c.student_name}（{c.student_number}）{c.homeroom_name}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.field.level')}><LevelTag level={c.level} /></Descriptions.Item>
        <Descriptions.Item label={t('crisis.statusLabel')}>
          <Tag data-testid="crisis-status" color={c.status === 'open' ? 'red' : 'default'}>{t(`crisis.status.${c.status}`)}</Tag>
          {c.outcome && t(`crisis.outcome.${c.outcome}`)}
        </Descriptions.Item>
        <Descriptions.Item label={t('crisis.sourceLabel')}>{t(`crisis.source.${c.source}`)}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.openedAt')}>{time(c.opened_at)}</Descriptions.Item>
        <Descriptions.Item label={t('crisis.escalationLabel')}>
          <Tag data-testid="crisis-escalation" color={c.escalation === 'none' ? 'default' : 'volcano'}>{t(`crisis.escalation.${c.escalation}`)}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('crisis.timers')} span={2}><Timers c={c} /></Descriptions.Item>
      </Descriptions>
      {(c.district_notes ?? []).length > 0 && (
        <Card size="small" title={t('crisis.districtNotes')} style={{ marginBottom: 16 }}>
          {(c.district_notes ?? []).map((n) => (
            <div key={n.id} data-testid="district-note">
              <Tag color={n.kind === 'follow_up' ? 'purple' : 'default'}>{t(`board.noteKind.${n.kind}`)}</Tag>
              {n.body}
              {n.due_on && <Muted>（{t('crisis.field.dueOn')} {n.due_on}{n.done_at ? ` · ${t('board.done')}` : ''}）</Muted>}
            </div>
          ))}
        </Card>
      )}
      <Timeline
        data-testid="crisis-timeline"
        items={steps.map((s) => ({
          color: s.kind === 'closed' ? 'gray' : s.kind === 'addendum' ? 'orange' : s.kind === 'reported' ? 'red' : 'blue',
          children: (
            <div data-testid="crisis-step" data-kind={s.kind}>
              <Space wrap>
                <Typography.Text strong>{t(`crisis.kind.${s.kind}`)}</Typography.Text>
                <Muted>{t('crisis.occurred', { time: time(s.occurred_at) })}</Muted>
                <Muted>{t('crisis.recorded', { time: time(s.recorded_at) })}</Muted>
                <Muted>{s.actor_name || t('crisis.system')}</Muted>
                {!readOnly && <a data-testid="step-addendum" onClick={() => setAddendumOf(s)}>{t('crisis.addAddendum')}</a>}
              </Space>
              <StepDetails s={s} steps={steps} />
            </div>
          ),
        }))}
      />
      {!readOnly && (
        <Card size="small" title={t('crisis.newStep')} style={{ marginBottom: 16 }}
          extra={c.status === 'open' && <Button data-testid="crisis-refer" onClick={() => setReferring(true)}>{t('referral.new')}</Button>}>
          <StepForm key={c.steps?.length} base={base} c={c} onDone={() => {}} />
        </Card>
      )}
      {!readOnly && (
        <Card size="small" title={t('referral.title')}>
          <ReferralList base={base} caseFileId={c.case_file_id} crisisId={c.id} />
        </Card>
      )}
      <Modal open={!!addendumOf} title={t('crisis.addAddendum')} footer={null} onCancel={() => setAddendumOf(null)} destroyOnHidden
        okButtonProps={{} as ButtonProps}>
        {addendumOf && (
          <>
            <Typography.Paragraph type="secondary">{t('crisis.field.corrects', { kind: t(`crisis.kind.${addendumOf.kind}`), time: time(addendumOf.occurred_at) })}</Typography.Paragraph>
            <StepForm base={base} c={c} addendumOf={addendumOf} onDone={() => setAddendumOf(null)} />
          </>
        )}
      </Modal>
      {referring && <ReferralWizard base={base} caseFileId={c.case_file_id} crisis={c} onClose={() => setReferring(false)} />}
    </div>
  );
}
