import { useEffect, useState } from 'react';
import { Alert, App, Button, DatePicker, Descriptions, Drawer, Input, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import ProblemAlert from '../components/ProblemAlert';
import type { Indicator } from './programs/data';
import { answersBody, editable, missingAnswers, termPlanStatusColor, type Answer, type StaffOption, type TermPlan } from './programs/termplan';

// ownerNames shows the owners of an answer by name.
function ownerNames(ids: string[], staff: StaffOption[]): string {
  return ids.map((id) => staff.find((s) => s.user_id === id)?.name ?? '?').join('、');
}

// TermPlanAnswers shows a term plan read-only (the district's view, or a locked plan).
export function TermPlanAnswers({ tp }: { tp: TermPlan }) {
  const { t } = useTranslation();
  const name = (code: string) => tp.plan.indicators.find((i) => i.code === code)?.name ?? code;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Table<Answer>
        data-testid="term-plan-answers"
        rowKey="indicator_code"
        size="small"
        pagination={false}
        dataSource={tp.answers}
        columns={[
          { title: t('programs.indicatorName'), key: 'name', render: (_, a) => name(a.indicator_code) },
          { title: t('termPlan.plannedDates'), dataIndex: 'planned_dates', render: (v: string[]) => v.join('、') },
          { title: t('termPlan.owners'), dataIndex: 'owner_ids', render: (v: string[]) => ownerNames(v, tp.staff) },
          { title: t('termPlan.answerNote'), dataIndex: 'note' },
        ]}
      />
      {tp.note && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{tp.note}</Typography.Paragraph>}
    </Space>
  );
}

// TermPlanEditor is the school's term plan of one district plan: planned dates and
// owners per indicator plus a note; saved as a draft, then submitted to the district.
export default function TermPlanEditor({ school, planId, title, onClose }: { school: string; planId: string | null; title: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const path = `/api/v1/schools/${school}/plans/${planId}/term-plan`;
  const tp = useQuery({ queryKey: ['term-plan', school, planId], enabled: !!planId, queryFn: () => api<TermPlan>('GET', path) });
  const [rows, setRows] = useState<Answer[]>([]);
  const [note, setNote] = useState('');
  useEffect(() => {
    if (tp.data) {
      setRows(tp.data.answers.map((a) => ({ ...a, note: a.note ?? '' })));
      setNote(tp.data.note);
    }
  }, [tp.data]);
  const save = useMutation({
    mutationFn: (submit: boolean) => api<TermPlan>(submit ? 'POST' : 'PUT', submit ? `${path}/submit` : path, { answers: answersBody(rows), note }),
    onSuccess: (res, submit) => {
      qc.setQueryData(['term-plan', school, planId], res);
      message.success(submit ? t('termPlan.submitted') : t('programs.saved'));
    },
  });
  const set = (i: number, patch: Partial<Answer>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const data = tp.data;
  const canEdit = !!data && editable(data.status);
  const indicator = (code: string): Indicator | undefined => data?.plan.indicators.find((i) => i.code === code);
  const missing = missingAnswers(rows);
  const outsideTerm = (d: dayjs.Dayjs) => !!data && (d.format('YYYY-MM-DD') < data.plan.term.starts_on || d.format('YYYY-MM-DD') > data.plan.term.ends_on);
  return (
    <Drawer open={!!planId} width={980} title={`${t('termPlan.title')} · ${title}`} onClose={onClose} destroyOnHidden keyboard={false}
      extra={canEdit && (
        <Space>
          <Button data-testid="term-plan-save" loading={save.isPending} onClick={() => save.mutate(false)}>{t('termPlan.saveDraft')}</Button>
          <Button data-testid="term-plan-submit" type="primary" disabled={missing.length > 0} loading={save.isPending} onClick={() => save.mutate(true)}>{t('termPlan.submit')}</Button>
        </Space>
      )}>
      <ProblemAlert error={tp.error || save.error} />
      {data && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Descriptions size="small" column={3}>
            <Descriptions.Item label={t('summary.status')}>
              <Tag data-testid="term-plan-status" data-status={data.status} color={termPlanStatusColor[data.status]}>{t(`termPlan.status.${data.status}`)}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label={t('termPlan.dueOn')}>{data.due_on}</Descriptions.Item>
            <Descriptions.Item label={t('programs.term')}>{`${data.plan.term.starts_on} – ${data.plan.term.ends_on}`}</Descriptions.Item>
          </Descriptions>
          {data.status === 'returned' && <Alert type="warning" showIcon data-testid="term-plan-returned" message={t('termPlan.returnedBecause')} description={data.review_reason} />}
          {data.status === 'accepted' && <Alert type="success" showIcon message={t('termPlan.acceptedLocked')} />}
          {data.status === 'submitted' && <Alert type="info" showIcon message={t('termPlan.submittedWaiting')} />}
          {!canEdit ? <TermPlanAnswers tp={data} /> : (
            <>
              <Table<Answer>
                rowKey="indicator_code"
                size="small"
                pagination={false}
                dataSource={rows}
                onRow={(a) => ({ 'data-testid': 'term-plan-row', 'data-code': a.indicator_code }) as React.HTMLAttributes<HTMLElement>}
                columns={[
                  { title: t('programs.indicatorName'), key: 'name', width: 220, render: (_, a) => indicator(a.indicator_code)?.name ?? a.indicator_code },
                  {
                    title: t('termPlan.plannedDates'), key: 'dates', width: 280,
                    render: (_, a, i) => (
                      <DatePicker multiple data-testid="term-plan-dates" style={{ width: '100%' }} disabledDate={outsideTerm} maxTagCount="responsive"
                        value={a.planned_dates.map((d) => dayjs(d))}
                        onChange={(v) => set(i, { planned_dates: (v ?? []).map((d: dayjs.Dayjs) => d.format('YYYY-MM-DD')) })} />
                    ),
                  },
                  {
                    title: t('termPlan.owners'), key: 'owners', width: 240,
                    render: (_, a, i) => (
                      <Select mode="multiple" data-testid="term-plan-owners" style={{ width: '100%' }} value={a.owner_ids} optionFilterProp="label"
                        options={data.staff.map((s) => ({ value: s.user_id, label: `${s.name}（${t(`role.${s.role}`, { defaultValue: s.role })}）` }))}
                        onChange={(v) => set(i, { owner_ids: v })} />
                    ),
                  },
                  { title: t('termPlan.answerNote'), key: 'note', render: (_, a, i) => <Input maxLength={500} value={a.note} onChange={(e) => set(i, { note: e.target.value })} /> },
                ]}
              />
              <Input.TextArea data-testid="term-plan-note" rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('termPlan.notePlaceholder')} />
              {missing.length > 0 && <Typography.Text type="secondary">{t('termPlan.missing', { n: missing.length })}</Typography.Text>}
            </>
          )}
        </Space>
      )}
    </Drawer>
  );
}
