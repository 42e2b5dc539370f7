import { App, Button, Card, Form, InputNumber, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

interface Destruction {
  school_id: string;
  school_name: string;
  case_file_id: string;
  archived_at: string;
  destroyed_at: string;
  counts: Record<string, number>;
  objects: number;
  objects_removed_at: string | null;
}

// Retention is the district administrator's screen for how long archived case files are
// kept (档案保存期限) and the records of those destroyed when the period ran out.
export default function Retention() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const base = `/api/v1/districts/${district}`;
  const policy = useQuery({ queryKey: ['retention', district], enabled: !!district, queryFn: () => api<{ retention_years: number }>('GET', `${base}/retention`) });
  const destroyed = useQuery({ queryKey: ['destructions', district], enabled: !!district, queryFn: () => api<{ items: Destruction[] }>('GET', `${base}/destructions`) });
  const save = useMutation({
    mutationFn: (v: { retention_years: number }) => api('PUT', `${base}/retention`, v),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['retention', district] });
      message.success(t('retention.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={16}>
      <Card title={t('retention.title')}>
        <ProblemAlert error={policy.error || save.error} />
        {policy.data && (
          <Form form={form} layout="inline" initialValues={policy.data} onFinish={(v) => save.mutate(v)}>
            <Form.Item name="retention_years" label={t('retention.years')} rules={[{ required: true }]}>
              <InputNumber data-testid="retention-years" min={1} max={30} addonAfter={t('retention.yearsUnit')} />
            </Form.Item>
            <Button htmlType="submit" type="primary" loading={save.isPending}>{t('retention.save')}</Button>
          </Form>
        )}
        <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>{t('retention.help')}</Typography.Paragraph>
      </Card>
      <Card title={t('retention.destroyed')}>
        <ProblemAlert error={destroyed.error} />
        <Table
          data-testid="destructions-table"
          rowKey={(d) => d.school_id + d.case_file_id}
          loading={destroyed.isLoading}
          dataSource={destroyed.data?.items ?? []}
          pagination={{ pageSize: 20 }}
          columns={[
            { title: t('retention.destroyedAt'), dataIndex: 'destroyed_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
            { title: t('retention.school'), dataIndex: 'school_name' },
            { title: t('retention.archivedAt'), dataIndex: 'archived_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
            {
              title: t('retention.counts'), dataIndex: 'counts', render: (c: Record<string, number>) => (
                <Space wrap>{Object.entries(c).filter(([, n]) => n > 0).map(([k, n]) => <Tag key={k}>{t(`retention.kind.${k}`, { defaultValue: k })} {n}</Tag>)}</Space>
              ),
            },
            {
              title: t('retention.objects'), key: 'objects', render: (_, d) => (
                d.objects_removed_at ? <Tag color="green">{t('retention.objectsRemoved', { count: d.objects })}</Tag> : <Tag color="orange">{t('retention.objectsPending')}</Tag>
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}
