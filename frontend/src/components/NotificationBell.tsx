import { Badge, Button, Tooltip } from 'antd';
import { BellOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { inboxBase } from '../nav';
import { useSession } from '../session';

export interface InboxCounts {
  unread: number;
  open_tasks: number;
}

// summaryKey is the cache key of the header badge; the inbox page invalidates it.
export const summaryKey = (base: string | null) => ['inbox-summary', base] as const;

// NotificationBell is the header bell with the unread count of the selected
// membership's own inbox (school or district); it opens the inbox page.
export default function NotificationBell() {
  const { t } = useTranslation();
  const { current } = useSession();
  const navigate = useNavigate();
  const base = inboxBase(current);
  const summary = useQuery({
    queryKey: summaryKey(base),
    enabled: !!base,
    queryFn: () => api<InboxCounts>('GET', `${base}/summary`),
    refetchInterval: 60_000,
  });
  if (!base) return null;
  const unread = summary.data?.unread ?? 0;
  const open = summary.data?.open_tasks ?? 0;
  const label = t('notifications.bell', { unread, open });
  return (
    <Tooltip title={label}>
      <Badge count={unread} size="small" overflowCount={99}>
        <Button data-testid="notification-bell" data-unread={unread} aria-label={label} shape="circle" icon={<BellOutlined />}
          onClick={() => navigate('/inbox')} />
      </Badge>
    </Tooltip>
  );
}
