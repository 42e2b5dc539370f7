import { useState } from 'react';
import { Badge, Button, Card, List, Space, Switch, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import { summaryKey } from '../components/NotificationBell';
import { inboxBase } from '../nav';
import { inboxKey } from './programs/termplan';

export interface InboxItem {
  id: string;
  kind: string;
  is_task: boolean;
  case_file_id: string | null;
  subject_type: string;
  subject_id: string | null;
  params: Record<string, string>;
  due_at: string | null;
  created_at: string;
  read_at: string | null;
  done_at: string | null;
}

// Inbox lists the signed-in user's own notifications and tasks (待办与通知) of the selected
// membership: the school inbox for school roles, the district inbox for district roles.
export default function Inbox() {
  const { t } = useTranslation();
  const { current } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const base = inboxBase(current);
  const [all, setAll] = useState(false);
  const inbox = useQuery({
    queryKey: ['inbox', base, all],
    enabled: !!base,
    queryFn: () => api<{ items: InboxItem[]; unread: number; open_tasks: number }>('GET', `${base}${all ? '?all=true' : ''}`),
  });
  const act = useMutation({
    mutationFn: (v: { id: string; action: 'read' | 'done' }) => api('POST', `${base}/${v.id}/${v.action}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['inbox', base] });
      void qc.invalidateQueries({ queryKey: summaryKey(base) });
    },
  });
  return (
    <Card
      title={current?.scope_type === 'district' ? t('inbox.districtTitle') : t('inbox.title')}
      extra={
        <Space>
          <Tag color="blue">{t('inbox.unread', { count: inbox.data?.unread ?? 0 })}</Tag>
          <Tag color="orange">{t('inbox.openTasks', { count: inbox.data?.open_tasks ?? 0 })}</Tag>
          <Switch checked={all} onChange={setAll} />
          {t('inbox.showDone')}
        </Space>
      }
    >
      <ProblemAlert error={inbox.error || act.error} />
      <List
        data-testid="inbox-list"
        loading={inbox.isLoading}
        locale={{ emptyText: t('inbox.empty') }}
        dataSource={inbox.data?.items ?? []}
        renderItem={(it) => (
          <List.Item
            data-testid="inbox-item"
            data-kind={it.kind}
            actions={[
              it.kind === 'screening_alert' && (
                <a key="alert" data-testid="inbox-open-alerts" onClick={() => navigate('/screening-alerts')}>{t('inbox.openAlerts')}</a>
              ),
              it.subject_type === 'crisis' && it.subject_id && (
                <a key="crisis" data-testid="inbox-open-crisis"
                  onClick={() => navigate(current?.scope_type === 'district' ? '/crisis-board' : `/crises?crisis=${it.subject_id}`)}>{t('inbox.openCrisis')}</a>
              ),
              it.subject_type === 'referral' && (
                <a key="referral" data-testid="inbox-open-referrals" onClick={() => navigate('/referrals')}>{t('inbox.openReferrals')}</a>
              ),
              it.case_file_id && (
                <a key="open" onClick={() => navigate(`/case-files?open=${it.case_file_id}`)}>{t('inbox.openCaseFile')}</a>
              ),
              !it.read_at && !it.done_at && <a key="read" onClick={() => act.mutate({ id: it.id, action: 'read' })}>{t('inbox.markRead')}</a>,
              !it.done_at && (
                <Button key="done" size="small" onClick={() => act.mutate({ id: it.id, action: 'done' })}>
                  {it.is_task ? t('inbox.done') : t('inbox.dismiss')}
                </Button>
              ),
            ].filter(Boolean)}
          >
            <List.Item.Meta
              avatar={<Badge dot={!it.read_at && !it.done_at}><Tag color={it.is_task ? 'orange' : 'blue'}>{it.is_task ? t('inbox.task') : t('inbox.notice')}</Tag></Badge>}
              title={
                <Typography.Text delete={!!it.done_at}>
                  {t(inboxKey(it), { ...it.params, defaultValue: it.kind })}
                </Typography.Text>
              }
              description={
                <Space>
                  {dayjs(it.created_at).format('YYYY-MM-DD HH:mm')}
                  {it.due_at && <span>{t('inbox.due', { date: dayjs(it.due_at).format('YYYY-MM-DD') })}</span>}
                </Space>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}
