import { useState } from 'react';
import { App, Button, Card, Drawer, Input, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import TermSummaryFigures from './TermSummaryView';
import { reviewActions, summaryStatusColor, type SummaryQueueItem, type TermSummary } from './programs/summary';

// SummaryReviews is the district's review queue of term summaries: read, approve, return
// with a comment, or reopen an approved one. Supervisors read only.
export default function SummaryReviews() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const admin = current?.role === 'district_admin';
  const base = `/api/v1/districts/${current?.district_id}`;
  const [open, setOpen] = useState<SummaryQueueItem | null>(null);
  const [comment, setComment] = useState('');
  const queue = useQuery({ queryKey: ['summary-queue', current?.district_id], queryFn: () => api<{ items: SummaryQueueItem[] }>('GET', `${base}/term-summaries`) });
  const summary = useQuery({
    queryKey: ['summary-review', open?.school_id, open?.term_id],
    enabled: !!open,
    queryFn: () => api<TermSummary>('GET', `/api/v1/schools/${open?.school_id}/term-summaries/${open?.term_id}`),
  });
  const review = useMutation({
    mutationFn: (verdict: string) => api<TermSummary>('POST', `${base}/term-summaries/${open?.school_id}/${open?.term_id}/review`, { verdict, comment }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['summary-queue'] });
      void qc.invalidateQueries({ queryKey: ['summary-review'] });
      setComment('');
      message.success(t('summary.reviewed'));
    },
  });
  return (
    <Card title={t('summary.reviews')}>
      <ProblemAlert error={queue.error} />
      <Table<SummaryQueueItem>
        data-testid="summary-queue"
        rowKey={(r) => `${r.school_id}/${r.term_id}`}
        loading={queue.isLoading}
        dataSource={queue.data?.items ?? []}
        pagination={false}
        onRow={(r) => ({ 'data-testid': 'summary-row', onClick: () => setOpen(r), style: { cursor: 'pointer' } }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('programs.school'), dataIndex: 'school_name' },
          { title: t('programs.term'), dataIndex: 'term_name' },
          { title: t('summary.status'), dataIndex: 'status', render: (s: TermSummary['status']) => <Tag color={summaryStatusColor[s]}>{t(`summary.statusValue.${s}`)}</Tag> },
          { title: t('summary.submittedAt'), dataIndex: 'submitted_at', render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '') },
        ]}
      />
      <Drawer open={!!open} width={760} title={`${open?.school_name ?? ''} · ${open?.term_name ?? ''}`} onClose={() => setOpen(null)}>
        <ProblemAlert error={summary.error || review.error} />
        {summary.data && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <TermSummaryFigures summary={summary.data} />
            <Typography.Title level={5}>{t('summary.narrative')}</Typography.Title>
            <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{summary.data.narrative}</Typography.Paragraph>
            {admin && reviewActions(summary.data.status).length > 0 && (
              <>
                <Input.TextArea data-testid="summary-comment" rows={3} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('summary.commentHelp')} />
                <Space>
                  {reviewActions(summary.data.status).map((v) => (
                    <Button key={v} data-testid={`summary-${v}`} type={v === 'approve' ? 'primary' : 'default'} loading={review.isPending} onClick={() => review.mutate(v)}>
                      {t(`summary.verdict.${v}`)}
                    </Button>
                  ))}
                </Space>
              </>
            )}
          </Space>
        )}
      </Drawer>
    </Card>
  );
}
