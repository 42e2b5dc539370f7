import { useState } from 'react';
import { App, Button, Card, Drawer, Input, Space, Table, Tag, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { TermPlanAnswers } from './TermPlanEditor';
import { termPlanStatusColor, type Submission, type Submissions, type TermPlan } from './programs/termplan';

// TermPlanReviews is the district's view of a plan's term plans (学校学期计划): every
// target school with its status (those that have not submitted included); administrators
// accept a submitted one (locked for good) or return it with a reason.
export default function TermPlanReviews() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { planId } = useParams();
  const admin = current?.role === 'district_admin';
  const base = `/api/v1/districts/${current?.district_id}/plans/${planId}/term-plans`;
  const [open, setOpen] = useState<Submission | null>(null);
  const [reason, setReason] = useState('');
  const list = useQuery({ queryKey: ['term-plans', planId], queryFn: () => api<Submissions>('GET', base) });
  const tp = useQuery({
    queryKey: ['term-plan-review', planId, open?.school_id],
    enabled: !!open && open.status !== 'not_submitted',
    queryFn: () => api<TermPlan>('GET', `${base}/${open?.school_id}`),
  });
  const review = useMutation({
    mutationFn: (verdict: 'accept' | 'return') => api<TermPlan>('POST', `${base}/${open?.school_id}/review`, { verdict, reason }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['term-plans', planId] });
      void qc.invalidateQueries({ queryKey: ['term-plan-review', planId] });
      setReason('');
      message.success(t('termPlan.reviewed'));
    },
  });
  const data = list.data;
  return (
    <Card
      title={<Space><Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate('/district-plans')} />{t('termPlan.submissions')}{data ? ` · ${data.plan.title}` : ''}</Space>}
      extra={data && (
        <Space>
          <Typography.Text type="secondary">{t('termPlan.dueOn')}：{data.due_on}</Typography.Text>
          <Tag data-testid="term-plans-missing" color={data.not_submitted > 0 ? 'orange' : 'green'}>{t('termPlan.notSubmittedCount', { n: data.not_submitted })}</Tag>
        </Space>
      )}
    >
      <ProblemAlert error={list.error} />
      <Table<Submission>
        data-testid="term-plans-table"
        rowKey="school_id"
        loading={list.isLoading}
        dataSource={data?.items ?? []}
        pagination={false}
        onRow={(r) => ({ 'data-testid': 'term-plan-school', 'data-school': r.school_name, onClick: () => setOpen(r), style: { cursor: 'pointer' } }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('programs.school'), dataIndex: 'school_name' },
          {
            title: t('summary.status'), key: 'status',
            render: (_, r) => (
              <Space>
                <Tag data-testid="term-plan-school-status" data-status={r.status} color={termPlanStatusColor[r.status]}>{t(`termPlan.status.${r.status}`)}</Tag>
                {r.overdue && <Tag color="red">{t('termPlan.overdue')}</Tag>}
              </Space>
            ),
          },
          { title: t('summary.submittedAt'), dataIndex: 'submitted_at', render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '') },
          { title: t('termPlan.reviewedAt'), dataIndex: 'reviewed_at', render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '') },
        ]}
      />
      <Drawer open={!!open} width={900} title={open?.school_name} onClose={() => setOpen(null)}>
        <ProblemAlert error={tp.error || review.error} />
        {open?.status === 'not_submitted' && <Typography.Text type="secondary">{t('termPlan.nothingSubmitted')}</Typography.Text>}
        {tp.data && open?.status !== 'not_submitted' && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Tag color={termPlanStatusColor[tp.data.status]}>{t(`termPlan.status.${tp.data.status}`)}</Tag>
            {tp.data.review_reason && <Typography.Text type="secondary">{t('termPlan.returnedBecause')}：{tp.data.review_reason}</Typography.Text>}
            <TermPlanAnswers tp={tp.data} />
            {admin && tp.data.status === 'submitted' && (
              <>
                <Input.TextArea data-testid="term-plan-reason" rows={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} placeholder={t('termPlan.reasonHelp')} />
                <Space>
                  <Button data-testid="term-plan-accept" type="primary" loading={review.isPending} onClick={() => review.mutate('accept')}>{t('termPlan.accept')}</Button>
                  <Button data-testid="term-plan-return" disabled={!reason.trim()} loading={review.isPending} onClick={() => review.mutate('return')}>{t('termPlan.return')}</Button>
                </Space>
              </>
            )}
          </Space>
        )}
      </Drawer>
    </Card>
  );
}
