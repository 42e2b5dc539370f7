import { useEffect, useState } from 'react';
import { App, Button, Card, Form, Input, Select, Space } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import TermSummaryFigures from './TermSummaryView';
import type { Term } from './programs/data';
import type { TermSummary } from './programs/summary';

// TermSummaries is the school's term summary editor (期末小结): figures drafted from the
// data, the school's own text, save and submit; approved summaries are locked.
export default function TermSummaries() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const base = `/api/v1/schools/${current?.school_id}`;
  const [term, setTerm] = useState<string | undefined>();
  const terms = useQuery({ queryKey: ['school-terms', current?.school_id], queryFn: () => api<{ items: Term[] }>('GET', `${base}/terms`) });
  const today = dayjs().format('YYYY-MM-DD');
  const termId = term ?? ((terms.data?.items ?? []).find((x) => x.starts_on <= today && today <= x.ends_on) ?? terms.data?.items[0])?.id;
  const summary = useQuery({
    queryKey: ['term-summary', current?.school_id, termId],
    enabled: !!termId,
    queryFn: () => api<TermSummary>('GET', `${base}/term-summaries/${termId}`),
  });
  useEffect(() => {
    if (summary.data) form.setFieldsValue({ narrative: summary.data.narrative });
  }, [summary.data, form]);
  const save = useMutation({
    mutationFn: (v: { narrative: string; submit: boolean }) =>
      api<TermSummary>(v.submit ? 'POST' : 'PUT', `${base}/term-summaries/${termId}${v.submit ? '/submit' : ''}`, { narrative: v.narrative ?? '' }),
    onSuccess: (s) => {
      qc.setQueryData(['term-summary', current?.school_id, termId], s);
      message.success(t(s.status === 'submitted' ? 'summary.submitted' : 'summary.saved'));
    },
  });
  const locked = summary.data?.locked ?? false;
  return (
    <Card title={t('summary.title')} extra={
      <Select data-testid="summary-term" style={{ width: 220 }} value={termId} onChange={setTerm}
        options={(terms.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} />
    }>
      <ProblemAlert error={summary.error || save.error} />
      {summary.data && <TermSummaryFigures summary={summary.data} />}
      <Form form={form} layout="vertical" style={{ marginTop: 16 }}>
        <Form.Item name="narrative" label={t('summary.narrative')} extra={locked ? t('summary.locked') : t('summary.narrativeHelp')}>
          <Input.TextArea data-testid="summary-narrative" rows={10} maxLength={20000} disabled={locked} />
        </Form.Item>
        <Space>
          <Button data-testid="summary-save" disabled={locked || !termId} loading={save.isPending}
            onClick={() => save.mutate({ narrative: form.getFieldValue('narrative'), submit: false })}>{t('summary.save')}</Button>
          <Button data-testid="summary-submit" type="primary" disabled={locked || !termId} loading={save.isPending}
            onClick={() => save.mutate({ narrative: form.getFieldValue('narrative'), submit: true })}>{t('summary.submit')}</Button>
        </Space>
      </Form>
    </Card>
  );
}
