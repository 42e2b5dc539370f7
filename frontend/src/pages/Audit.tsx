import { useState } from 'react';
import { Button, Card, DatePicker, Input, Select, Space, Table, Tag } from 'antd';
import type { Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import type { AuditRow } from '../api/types';
import { useSession } from '../session';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert from '../components/ProblemAlert';

const outcomeColor = { allowed: 'green', denied: 'red', failed: 'orange' } as const;

export default function Audit() {
  const { t } = useTranslation();
  const { current } = useSession();
  const [action, setAction] = useState('');
  const [objectType, setObjectType] = useState('');
  const [outcome, setOutcome] = useState<string | undefined>();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const path = !current
    ? null
    : current.scope_type === 'district'
      ? `/api/v1/districts/${current.district_id}/audit`
      : `/api/v1/schools/${current.school_id}/audit`;
  const list = useCursorList<AuditRow>(['audit', path], path, {
    action: action || undefined,
    object_type: objectType || undefined,
    outcome,
    from: range?.[0]?.toISOString(),
    to: range?.[1]?.toISOString(),
  });
  return (
    <Card title={t('menu.audit')}>
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search placeholder={t('audit.action')} allowClear onSearch={setAction} style={{ width: 200 }} />
        <Input.Search placeholder={t('audit.objectType')} allowClear onSearch={setObjectType} style={{ width: 180 }} />
        <Select allowClear placeholder={t('audit.outcome')} style={{ width: 140 }} value={outcome} onChange={setOutcome}
          options={['allowed', 'denied', 'failed'].map((o) => ({ value: o, label: t(`audit.outcomeValue.${o}`) }))} />
        <DatePicker.RangePicker showTime value={range} onChange={(v) => setRange(v as [Dayjs | null, Dayjs | null] | null)} />
      </Space>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="audit-table"
        rowKey="id"
        size="small"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        columns={[
          { title: t('audit.time'), dataIndex: 'occurred_at', render: (v: string) => new Date(v).toLocaleString() },
          { title: t('audit.actor'), dataIndex: 'actor_username' },
          { title: t('audit.role'), dataIndex: 'role' },
          { title: t('audit.action'), dataIndex: 'action' },
          { title: t('audit.object'), key: 'o', render: (_, r) => [r.object_type, r.object_id].filter(Boolean).join(' ') },
          { title: t('audit.outcome'), dataIndex: 'outcome', render: (o: AuditRow['outcome']) => <Tag color={outcomeColor[o]}>{t(`audit.outcomeValue.${o}`)}</Tag> },
          { title: t('audit.reason'), dataIndex: 'reason' },
          { title: t('audit.ip'), dataIndex: 'client_ip' },
        ]}
      />
      {list.hasNextPage && <Button onClick={() => list.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
    </Card>
  );
}
