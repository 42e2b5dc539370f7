import { useState } from 'react';
import { AutoComplete, Button, Card, DatePicker, Input, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { FilterOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import type { Dayjs } from 'dayjs';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import { api, search } from '../api/client';
import type { AuditRow, MembershipView, Membership, Page, User } from '../api/types';
import { useSession } from '../session';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert from '../components/ProblemAlert';

const outcomeColor = { allowed: 'green', denied: 'red', failed: 'orange' } as const;

// Suggestions only; the fields accept any value.
export const knownObjectTypes = ['audit_log', 'district', 'membership', 'org_unit', 'school', 'session', 'student', 'user'];
export const knownActions = [
  'auth.login', 'auth.logout', 'audit.list', 'memberships.grant', 'memberships.list', 'memberships.revoke',
  'org_units.create', 'org_units.delete', 'org_units.update', 'schools.create', 'schools.update',
  'students.create', 'students.import', 'students.list', 'students.read', 'students.update', 'users.create', 'users.list',
];

export interface AuditFilters {
  actor_id?: string;
  object_type?: string;
  object_id?: string;
  action?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

// auditParams turns the filter form into query parameters (ISO times, empty values dropped).
export function auditParams(f: {
  actorId?: string; objectType?: string; objectId?: string; action?: string; outcome?: string; range?: [Dayjs | null, Dayjs | null] | null;
}): AuditFilters {
  const clean = (v?: string) => (v && v.trim() ? v.trim() : undefined);
  return {
    actor_id: clean(f.actorId),
    object_type: clean(f.objectType),
    object_id: clean(f.objectId),
    action: clean(f.action),
    outcome: clean(f.outcome),
    from: f.range?.[0]?.toISOString(),
    to: f.range?.[1]?.toISOString(),
  };
}

// ActorSelect finds people by name: district users for a district admin, the school's staff
// for a school leader.
function ActorSelect({ m, value, onChange }: { m: Membership; value?: string; onChange: (v?: string) => void }) {
  const { t } = useTranslation();
  const label = (name: string, username: string) => t('user.nameWithUsername', { name, username });
  const [searchTerm, setSearch] = useState('');
  const district = m.scope_type === 'district';
  const people = useQuery({
    queryKey: ['audit-actors', m.id, district ? searchTerm : ''],
    queryFn: async () => {
      if (district) {
        const p = await search<User>(`/api/v1/districts/${m.district_id}/users`, { q: searchTerm }, 50);
        return p.items.map((u) => ({ value: u.id, label: label(u.display_name, u.username) }));
      }
      const p = await api<Page<MembershipView>>('GET', `/api/v1/schools/${m.school_id}/staff?limit=200`);
      const seen = new Map<string, string>();
      for (const s of p.items) seen.set(s.user_id, label(s.display_name, s.username));
      return [...seen].map(([value, label]) => ({ value, label }));
    },
    staleTime: 60_000,
  });
  return (
    <Select
      data-testid="audit-actor"
      allowClear
      showSearch
      placeholder={t('audit.actor')}
      style={{ width: 220 }}
      value={value}
      onChange={(v) => onChange(v ?? undefined)}
      onSearch={district ? setSearch : undefined}
      filterOption={district ? false : (input, o) => String(o?.label ?? '').toLowerCase().includes(input.toLowerCase())}
      loading={people.isFetching}
      options={people.data ?? []}
      notFoundContent={t('common.empty')}
    />
  );
}

export default function Audit() {
  const { t } = useTranslation();
  const { current } = useSession();
  const [actorId, setActorId] = useState<string | undefined>();
  const [action, setAction] = useState('');
  const [objectType, setObjectType] = useState('');
  const [objectId, setObjectId] = useState('');
  const [outcome, setOutcome] = useState<string | undefined>();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [applied, setApplied] = useState<AuditFilters>({});
  const path = !current
    ? null
    : current.scope_type === 'district'
      ? `/api/v1/districts/${current.district_id}/audit`
      : `/api/v1/schools/${current.school_id}/audit`;
  const list = useCursorList<AuditRow>(['audit', path], path, applied as Record<string, string | undefined>);
  const apply = (over: Partial<{ actorId?: string; outcome?: string; range: typeof range }> = {}) =>
    setApplied(auditParams({ actorId, objectType, objectId, action, outcome, range, ...over }));
  const reset = () => {
    setActorId(undefined);
    setAction('');
    setObjectType('');
    setObjectId('');
    setOutcome(undefined);
    setRange(null);
    setApplied({});
  };
  return (
    <Card title={t('menu.audit')} extra={<Typography.Text type="secondary">{t('audit.hint')}</Typography.Text>}>
      <Space wrap style={{ marginBottom: 12 }} data-testid="audit-filters">
        {current && <ActorSelect m={current} value={actorId} onChange={(v) => { setActorId(v); apply({ actorId: v }); }} />}
        <AutoComplete
          data-testid="audit-object-type"
          allowClear
          placeholder={t('audit.objectType')}
          style={{ width: 160 }}
          value={objectType}
          onChange={(v) => setObjectType(v ?? '')}
          options={knownObjectTypes.map((v) => ({ value: v }))}
          filterOption={(input, o) => String(o?.value ?? '').includes(input)}
        />
        <Input data-testid="audit-object-id" allowClear placeholder={t('audit.objectId')} style={{ width: 200 }} value={objectId}
          onChange={(e) => setObjectId(e.target.value)} onPressEnter={() => apply()} />
        <AutoComplete
          data-testid="audit-action"
          allowClear
          placeholder={t('audit.action')}
          style={{ width: 200 }}
          value={action}
          onChange={(v) => setAction(v ?? '')}
          options={knownActions.map((v) => ({ value: v }))}
          filterOption={(input, o) => String(o?.value ?? '').includes(input)}
        />
        <Select data-testid="audit-outcome" allowClear placeholder={t('audit.outcome')} style={{ width: 120 }} value={outcome}
          onChange={(v) => { setOutcome(v); apply({ outcome: v }); }}
          options={(['allowed', 'denied', 'failed'] as const).map((o) => ({ value: o, label: t(`audit.outcomeValue.${o}`) }))} />
        <DatePicker.RangePicker data-testid="audit-range" showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" value={range}
          placeholder={[t('audit.from'), t('audit.to')]}
          presets={[
            { label: t('audit.last24h'), value: [dayjs().subtract(1, 'day'), dayjs()] },
            { label: t('audit.last7d'), value: [dayjs().subtract(7, 'day'), dayjs()] },
            { label: t('audit.last30d'), value: [dayjs().subtract(30, 'day'), dayjs()] },
          ]}
          onChange={(v) => { const r = v as [Dayjs | null, Dayjs | null] | null; setRange(r); apply({ range: r }); }} />
        <Button data-testid="audit-apply" type="primary" icon={<FilterOutlined />} onClick={() => apply()}>{t('audit.apply')}</Button>
        <Button onClick={reset}>{t('audit.reset')}</Button>
        <Tooltip title={t('audit.refresh')}>
          <Button icon={<ReloadOutlined />} aria-label={t('audit.refresh')} onClick={() => void list.refetch()} loading={list.isRefetching} />
        </Tooltip>
      </Space>
      <ProblemAlert error={list.error} />
      <Table<AuditRow>
        data-testid="audit-table"
        rowKey="id"
        size="small"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        scroll={{ x: 1350 }}
        columns={[
          { title: t('audit.seq'), dataIndex: 'seq', width: 70 },
          { title: t('audit.time'), dataIndex: 'occurred_at', width: 170, render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
          {
            title: t('audit.actor'),
            dataIndex: 'actor_username',
            width: 170,
            render: (v: string, r) =>
              r.actor_id ? (
                <Tooltip title={t('audit.filterActor')}>
                  <a onClick={() => { setActorId(r.actor_id!); apply({ actorId: r.actor_id! }); }}>{v}</a>
                </Tooltip>
              ) : (
                v || '—'
              ),
          },
          { title: t('audit.role'), dataIndex: 'role', render: (r: string) => (r ? t(`role.${r}`, { defaultValue: r }) : '—') },
          { title: t('audit.action'), dataIndex: 'action', width: 190, render: (a: string) => <Typography.Text code style={{ whiteSpace: 'nowrap' }}>{a}</Typography.Text> },
          {
            title: t('audit.object'),
            key: 'o',
            render: (_, r) => (
              <Tooltip title={r.object_id}>
                <span>{r.object_type}{r.object_id ? ` ${r.object_id.slice(0, 8)}` : ''}</span>
              </Tooltip>
            ),
          },
          { title: t('audit.outcome'), dataIndex: 'outcome', width: 80, render: (o: AuditRow['outcome']) => <Tag color={outcomeColor[o]}>{t(`audit.outcomeValue.${o}`)}</Tag> },
          { title: t('audit.reason'), dataIndex: 'reason', ellipsis: true },
          { title: t('audit.ip'), dataIndex: 'client_ip', width: 130 },
          { title: t('audit.requestId'), dataIndex: 'request_id', ellipsis: true, width: 140 },
        ]}
      />
      <Space style={{ marginTop: 12 }}>
        {list.hasNextPage && (
          <Button data-testid="load-more" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common.loadMore')}</Button>
        )}
        {!list.isLoading && <Typography.Text type="secondary">{t('common.shown', { n: list.items.length })}</Typography.Text>}
      </Space>
    </Card>
  );
}
