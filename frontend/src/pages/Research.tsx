import { useState } from 'react';
import { App, Button, Card, Form, Input, InputNumber, Modal, Progress, Select, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { DownloadOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import {
  downloadable, humanSize, selectableFields, statusColor, yearOptions,
  type CodebookField, type ResearchRequest,
} from './research/model';

// Research (科研数据导出): a researcher files a request for the annual de-identified export
// (purpose, years, fields from the published codebook, ethics approval, k) and follows it
// to the download; a district administrator approves (optionally as longitudinal) or
// rejects with a reason. Nothing runs before approval; every download is audited.
export default function Research() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.district_id;
  const isResearcher = current?.role === 'researcher';
  const isAdmin = current?.role === 'district_admin';
  const base = `/api/v1/districts/${district}/research`;
  const [filing, setFiling] = useState(false);
  const [deciding, setDeciding] = useState<ResearchRequest | null>(null);
  const [form] = Form.useForm();
  const [decision] = Form.useForm();

  const codebook = useQuery({
    queryKey: ['research-codebook', district], enabled: !!district,
    queryFn: () => api<{ items: CodebookField[] }>('GET', `${base}/codebook`),
  });
  const list = useQuery({
    queryKey: ['research-requests', district], enabled: !!district,
    queryFn: () => api<{ items: ResearchRequest[] }>('GET', `${base}/requests`),
    // A building export shows its progress bar moving.
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.status === 'approved' || r.status === 'running') ? 3000 : false),
  });
  const file = useMutation({
    mutationFn: (v: { purpose: string; years: number[]; fields: string[]; ethics_ref: string; k: number }) => api<ResearchRequest>('POST', `${base}/requests`, v),
    onSuccess: () => {
      message.success(t('research.filed'));
      setFiling(false);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['research-requests'] });
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const decide = useMutation({
    mutationFn: (v: { approve: boolean; reason: string; longitudinal: boolean }) =>
      api<ResearchRequest>('POST', `${base}/requests/${deciding?.id}/decision`, v),
    onSuccess: () => {
      message.success(t('research.decided'));
      setDeciding(null);
      decision.resetFields();
      void qc.invalidateQueries({ queryKey: ['research-requests'] });
    },
    onError: (e) => decision.setFields(toFields(e)),
  });
  const fields = selectableFields(codebook.data?.items ?? []);
  const now = new Date();

  return (
    <Card
      title={t('research.title')}
      extra={isResearcher && (
        <Button type="primary" icon={<PlusOutlined />} data-testid="research-new" onClick={() => { file.reset(); setFiling(true); }}>
          {t('research.new')}
        </Button>
      )}
    >
      <Typography.Paragraph type="secondary">{t('research.intro')}</Typography.Paragraph>
      <ProblemAlert error={list.error ?? codebook.error} />
      <Table<ResearchRequest>
        data-testid="research-table"
        rowKey="id"
        size="small"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        onRow={(r) => ({ 'data-testid': 'research-row', 'data-status': r.status }) as React.HTMLAttributes<HTMLElement>}
        expandable={{
          rowExpandable: (r) => !!r.decision_reason || !!r.files?.length,
          expandedRowRender: (r) => (
            <Space direction="vertical">
              {r.decision_reason && <span>{t('research.reason')}：{r.decision_reason}</span>}
              {downloadable(r, now) && r.files!.map((f) => (
                <a key={f.name} data-testid="research-download" href={`${base}/requests/${r.id}/files/${encodeURIComponent(f.name)}`} download={f.name}>
                  <DownloadOutlined /> {f.name} ({humanSize(f.size)}) <Typography.Text type="secondary" copyable={{ text: f.sha256 }}>SHA-256</Typography.Text>
                </a>
              ))}
              {r.status === 'ready' && !downloadable(r, now) && <Typography.Text type="warning">{t('research.expired')}</Typography.Text>}
            </Space>
          ),
        }}
        columns={[
          { title: t('research.created'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
          { title: t('research.purpose'), dataIndex: 'purpose', ellipsis: true },
          { title: t('research.years'), dataIndex: 'years', render: (v: number[]) => v.join('、') },
          {
            title: t('research.fields'), dataIndex: 'fields',
            render: (v: string[]) => <Space size={[0, 4]} wrap>{v.map((f) => <Tag key={f}>{t(`research.field.${f}`, { defaultValue: f })}</Tag>)}</Space>,
          },
          { title: 'k', dataIndex: 'k', width: 50 },
          { title: t('research.ethics'), dataIndex: 'ethics_ref' },
          {
            title: t('research.status'), dataIndex: 'status',
            render: (v: ResearchRequest['status'], r) => (
              <Space>
                <Tag color={statusColor[v]}>{t(`research.statuses.${v}`)}</Tag>
                {r.longitudinal && <Tooltip title={t('research.longitudinalHelp')}><Tag color="purple">{t('research.longitudinal')}</Tag></Tooltip>}
              </Space>
            ),
          },
          {
            title: t('research.progress'), dataIndex: 'progress', width: 160,
            render: (v: number, r) => (r.status === 'running' || r.status === 'approved' || r.status === 'ready' || r.status === 'failed'
              ? <Progress data-testid="research-progress" percent={r.status === 'ready' ? 100 : v} size="small" status={r.status === 'failed' ? 'exception' : r.status === 'running' ? 'active' : undefined} />
              : null),
          },
          {
            title: t('research.expires'), dataIndex: 'expires_at',
            render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : ''),
          },
          ...(isAdmin ? [{
            title: '', key: 'decide',
            render: (_: unknown, r: ResearchRequest) => r.status === 'pending' && (
              <Button size="small" data-testid="research-decide" onClick={() => { decide.reset(); setDeciding(r); }}>
                {t('research.decide')}
              </Button>
            ),
          }] : []),
        ]}
      />

      <Modal
        open={filing}
        title={t('research.new')}
        okText={t('research.file')}
        confirmLoading={file.isPending}
        onOk={() => form.submit()}
        onCancel={() => setFiling(false)}
        width={640}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" initialValues={{ k: 5, years: [], fields: [] }} onFinish={(v) => file.mutate(v)}>
          <Form.Item name="purpose" label={t('research.purpose')} rules={[{ required: true, message: t('research.required') }]}>
            <Input.TextArea rows={3} maxLength={2000} data-testid="research-purpose" />
          </Form.Item>
          <Form.Item name="years" label={t('research.years')} rules={[{ required: true, message: t('research.required') }]}>
            <Select mode="multiple" data-testid="research-years" options={yearOptions(now).map((y) => ({ value: y, label: String(y) }))} />
          </Form.Item>
          <Form.Item name="fields" label={t('research.fields')} extra={t('research.fieldsHelp')} rules={[{ required: true, message: t('research.required') }]}>
            <Select
              mode="multiple"
              data-testid="research-fields"
              options={fields.map((f) => ({
                value: f.name,
                label: <Tooltip title={f.meaning}>{t(`research.field.${f.name}`, { defaultValue: f.name })}{f.quasi_identifier ? ` (${t('research.quasi')})` : ''}</Tooltip>,
              }))}
            />
          </Form.Item>
          <Form.Item name="ethics_ref" label={t('research.ethics')} rules={[{ required: true, message: t('research.required') }]}>
            <Input maxLength={200} data-testid="research-ethics" />
          </Form.Item>
          <Form.Item name="k" label={t('research.k')} extra={t('research.kHelp')}>
            <InputNumber min={5} max={100} data-testid="research-k" />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={!!deciding}
        title={t('research.decide')}
        okText={t('research.confirm')}
        confirmLoading={decide.isPending}
        onOk={() => decision.submit()}
        onCancel={() => setDeciding(null)}
        destroyOnHidden
      >
        {deciding && <Typography.Paragraph>{deciding.purpose}</Typography.Paragraph>}
        <Form form={decision} layout="vertical" initialValues={{ approve: false, reason: '', longitudinal: false }} onFinish={(v) => decide.mutate({ approve: !!v.approve, reason: v.reason ?? '', longitudinal: !!v.approve && !!v.longitudinal })}>
          <Form.Item name="approve" label={t('research.approve')} valuePropName="checked">
            <Switch data-testid="research-approve" />
          </Form.Item>
          <Form.Item name="reason" label={t('research.reason')} extra={t('research.reasonHelp')}>
            <Input.TextArea rows={2} maxLength={1000} data-testid="research-reason" />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.approve !== b.approve}>
            {({ getFieldValue }) => getFieldValue('approve') && (
              <Form.Item name="longitudinal" label={t('research.longitudinal')} extra={t('research.longitudinalHelp')} valuePropName="checked">
                <Switch data-testid="research-longitudinal" />
              </Form.Item>
            )}
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
