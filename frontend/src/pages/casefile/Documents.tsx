import { App, Alert, Button, Card, Form, Input, Select, Table, Tag, Typography, Upload } from 'antd';
import type { UploadFile } from 'antd';
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import ProblemAlert, { useFieldErrors } from '../../components/ProblemAlert';

export interface CaseDocument {
  id: string;
  case_file_id: string;
  session_id: string | null;
  kind: string;
  title: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_by_name: string;
  uploaded_at: string;
}

export const documentKinds = ['consent_form', 'letter', 'drawing', 'report', 'other'];

// formatSize renders a byte count for people (B, KB, MB).
export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// Documents is the case file's 资料 tab: consent forms, letters, drawings, reports. Files
// upload through the API (type checked on the server from the content) and download as
// attachments through the API, which audits every download.
export default function Documents({ base, id }: { base: string; id: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const list = useQuery({ queryKey: ['documents', id], queryFn: () => api<{ items: CaseDocument[] }>('GET', `${base}/case-files/${id}/documents`) });
  const file = useQuery({ queryKey: ['case-file', id], queryFn: () => api<{ status: string }>('GET', `${base}/case-files/${id}`) });
  const sessions = useQuery({
    queryKey: ['timeline', id],
    queryFn: () => api<{ items: { id: string; occurred_at: string; channel: string }[] }>('GET', `${base}/case-files/${id}/timeline`),
  });
  const archived = file.data?.status === 'archived';
  const upload = useMutation({
    mutationFn: (v: { kind: string; title: string; session_id?: string; file: UploadFile[] }) => {
      const fd = new FormData();
      fd.append('kind', v.kind);
      fd.append('title', v.title);
      if (v.session_id) fd.append('session_id', v.session_id);
      const f = v.file[0]?.originFileObj;
      if (f) fd.append('file', f, f.name);
      return api<CaseDocument>('POST', `${base}/case-files/${id}/documents`, fd);
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['documents', id] });
      form.resetFields();
      message.success(t('documents.uploaded'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const sessionLabel = (sid: string | null) => {
    const s = sid ? sessions.data?.items.find((x) => x.id === sid) : undefined;
    return s ? `${dayjs(s.occurred_at).format('YYYY-MM-DD HH:mm')} ${t(`caseFile.channelValue.${s.channel}`)}` : '';
  };
  return (
    <>
      <ProblemAlert error={list.error || upload.error} formFields={['kind', 'title', 'session_id', 'file']} />
      {archived ? (
        <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('documents.archived')} />
      ) : (
        <Card size="small" title={t('documents.upload')} style={{ marginBottom: 16 }}>
          <Typography.Paragraph type="secondary">{t('documents.uploadHint')}</Typography.Paragraph>
          <Form form={form} layout="vertical" initialValues={{ kind: 'consent_form' }}
            onFinish={(v) => upload.mutate(v)}>
            <Form.Item name="file" label={t('documents.file')} valuePropName="fileList" rules={[{ required: true, message: t('fieldError.required') }]}
              getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}>
              <Upload data-testid="doc-file" maxCount={1} beforeUpload={() => false}
                accept=".pdf,.jpg,.jpeg,.png,.webp,.docx,.m4a,.mp3">
                <Button icon={<UploadOutlined />}>{t('documents.chooseFile')}</Button>
              </Upload>
            </Form.Item>
            <Form.Item name="kind" label={t('documents.kind')} rules={[{ required: true }]}>
              <Select data-testid="doc-kind" style={{ width: 200 }} options={documentKinds.map((k) => ({ value: k, label: t(`documents.kindValue.${k}`) }))} />
            </Form.Item>
            <Form.Item name="title" label={t('documents.title')} rules={[{ required: true, whitespace: true, max: 200 }]}>
              <Input data-testid="doc-title" maxLength={200} />
            </Form.Item>
            <Form.Item name="session_id" label={t('documents.session')}>
              <Select data-testid="doc-session" allowClear placeholder={t('documents.sessionNone')} style={{ maxWidth: 360 }}
                options={(sessions.data?.items ?? []).map((s) => ({ value: s.id, label: sessionLabel(s.id) }))} />
            </Form.Item>
            <Button data-testid="doc-submit" type="primary" htmlType="submit" loading={upload.isPending}>{t('documents.submit')}</Button>
          </Form>
        </Card>
      )}
      <Table<CaseDocument>
        data-testid="doc-list"
        rowKey="id"
        size="small"
        loading={list.isLoading}
        pagination={false}
        dataSource={list.data?.items ?? []}
        locale={{ emptyText: t('documents.empty') }}
        onRow={() => ({ 'data-testid': 'doc-item' }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('documents.title'), dataIndex: 'title', render: (v: string, d) => (<>{v}{d.session_id && <Tag style={{ marginLeft: 8 }}>{sessionLabel(d.session_id)}</Tag>}</>) },
          { title: t('documents.kind'), dataIndex: 'kind', render: (k: string) => t(`documents.kindValue.${k}`) },
          { title: t('documents.filename'), dataIndex: 'filename' },
          { title: t('documents.size'), dataIndex: 'size_bytes', render: (n: number) => formatSize(n) },
          { title: t('documents.uploadedAt'), dataIndex: 'uploaded_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
          { title: t('documents.uploadedBy'), dataIndex: 'uploaded_by_name' },
          {
            title: '', key: 'download', render: (_, d) => (
              <a data-testid="doc-download" href={`${base}/documents/${d.id}/content`} download={d.filename}>
                <DownloadOutlined /> {t('documents.download')}
              </a>
            ),
          },
        ]}
      />
    </>
  );
}
