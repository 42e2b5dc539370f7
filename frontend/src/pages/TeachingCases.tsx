import { useState } from 'react';
import { App, Button, Card, Checkbox, Col, Collapse, Empty, Input, List, Modal, Row, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Page } from '../api/types';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';

export const caseFields = ['title', 'background', 'presenting_concern', 'process', 'outcome', 'reflection'] as const;

interface Removal { kind: string; text: string; replacement: string; count: number }
interface Draft {
  id: string;
  fields: Record<string, string>;
  reviewed: Record<string, boolean>;
  removed: Removal[];
  created_at: string;
  updated_at: string;
}
interface Published { id: string; title: string; fields: Record<string, string>; published_at: string }
interface CatalogueEntry { case_file_id: string; student_name: string; student_number: string; homeroom_name: string }

// allReviewed tells whether every field of a draft is marked reviewed.
export function allReviewed(reviewed: Record<string, boolean>): boolean {
  return caseFields.every((f) => reviewed[f]);
}

// Editor: the fields on the left (each reviewed by ticking it), what was removed on the right.
function Editor({ base, draft, onDone }: { base: string; draft: Draft; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [fields, setFields] = useState<Record<string, string>>(draft.fields);
  const [reviewed, setReviewed] = useState<Record<string, boolean>>(draft.reviewed);
  const refresh = () => void qc.invalidateQueries({ queryKey: ['teaching-cases'] });
  const save = useMutation({
    mutationFn: () => api<Draft>('PUT', `${base}/teaching-case-drafts/${draft.id}`, { fields, reviewed }),
    onSuccess: (d) => { setReviewed(d.reviewed); refresh(); message.success(t('teachingCase.saved')); },
  });
  const publish = useMutation({
    mutationFn: async () => {
      await api('PUT', `${base}/teaching-case-drafts/${draft.id}`, { fields, reviewed });
      return api('POST', `${base}/teaching-case-drafts/${draft.id}/publish`);
    },
    onSuccess: () => { refresh(); message.success(t('teachingCase.published')); onDone(); },
  });
  const discard = useMutation({ mutationFn: () => api('DELETE', `${base}/teaching-case-drafts/${draft.id}`), onSuccess: () => { refresh(); onDone(); } });
  const edit = (f: string, v: string) => {
    setFields({ ...fields, [f]: v });
    setReviewed({ ...reviewed, [f]: false });
  };
  return (
    <Row gutter={16}>
      <Col xs={24} lg={15}>
        <ProblemAlert error={save.error || publish.error || discard.error} />
        {caseFields.map((f) => (
          <div key={f} style={{ marginBottom: 12 }} data-testid={`tc-field-${f}`}>
            <Space style={{ marginBottom: 4 }}>
              <Typography.Text strong>{t(`teachingCase.field.${f}`)}</Typography.Text>
              <Checkbox data-testid={`tc-reviewed-${f}`} checked={!!reviewed[f]} onChange={(e) => setReviewed({ ...reviewed, [f]: e.target.checked })}>
                {t('teachingCase.reviewedLabel')}
              </Checkbox>
            </Space>
            {f === 'title'
              ? <Input value={fields[f] ?? ''} onChange={(e) => edit(f, e.target.value)} maxLength={200} />
              : <Input.TextArea value={fields[f] ?? ''} onChange={(e) => edit(f, e.target.value)} autoSize={{ minRows: f === 'process' ? 4 : 2, maxRows: 16 }} />}
          </div>
        ))}
        <Space>
          <Button onClick={() => save.mutate()} loading={save.isPending}>{t('teachingCase.save')}</Button>
          <Button data-testid="tc-publish" type="primary" disabled={!allReviewed(reviewed)} onClick={() => publish.mutate()} loading={publish.isPending}>
            {t('teachingCase.publish')}
          </Button>
          <Button danger onClick={() => discard.mutate()} loading={discard.isPending}>{t('teachingCase.discard')}</Button>
        </Space>
        {!allReviewed(reviewed) && <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>{t('teachingCase.reviewAll')}</Typography.Paragraph>}
      </Col>
      <Col xs={24} lg={9}>
        <Card size="small" title={t('teachingCase.removed')} data-testid="tc-removed">
          <Typography.Paragraph type="secondary">{t('teachingCase.removedHelp')}</Typography.Paragraph>
          <Table size="small" rowKey={(r) => `${r.kind}-${r.text}`} dataSource={draft.removed} pagination={false}
            columns={[
              { title: t('teachingCase.kind'), dataIndex: 'kind', render: (k: string) => t(`teachingCase.kindValue.${k}`, { defaultValue: k }) },
              { title: t('teachingCase.original'), dataIndex: 'text', render: (v: string) => <Typography.Text delete>{v}</Typography.Text> },
              { title: t('teachingCase.replacement'), dataIndex: 'replacement' },
              { title: '×', dataIndex: 'count' },
            ]} />
        </Card>
      </Col>
    </Row>
  );
}

function Bank({ path }: { path: string }) {
  const { t } = useTranslation();
  const bank = useQuery({ queryKey: ['teaching-cases', 'bank', path], queryFn: () => api<{ items: Published[] }>('GET', path) });
  return (
    <>
      <ProblemAlert error={bank.error} />
      {(bank.data?.items.length ?? 0) === 0 && !bank.isLoading ? <Empty description={t('teachingCase.bankEmpty')} /> : (
        <Collapse data-testid="tc-bank" items={(bank.data?.items ?? []).map((c) => ({
          key: c.id,
          label: <Space>{c.title}<Tag>{dayjs(c.published_at).format('YYYY-MM-DD')}</Tag></Space>,
          children: caseFields.filter((f) => f !== 'title').map((f) => (
            <div key={f} style={{ marginBottom: 8 }}>
              <Typography.Text strong>{t(`teachingCase.field.${f}`)}</Typography.Text>
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{c.fields[f]}</Typography.Paragraph>
            </div>
          )),
        }))} />
      )}
    </>
  );
}

// TeachingCases: counselors draft, review and publish teaching cases and read the
// district's bank; district administrators and supervisors read the bank.
export default function TeachingCases() {
  const { t } = useTranslation();
  const { current } = useSession();
  const qc = useQueryClient();
  const counselor = current?.role === 'counselor';
  const base = `/api/v1/schools/${current?.school_id}`;
  const [open, setOpen] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const [file, setFile] = useState<string | undefined>();
  const drafts = useQuery({
    queryKey: ['teaching-cases', 'drafts', base],
    enabled: counselor,
    queryFn: () => api<{ items: Draft[] }>('GET', `${base}/teaching-case-drafts`),
  });
  const closed = useQuery({
    queryKey: ['teaching-cases', 'closed-files', base],
    enabled: picking,
    queryFn: () => api<Page<CatalogueEntry>>('GET', `${base}/case-files?status=closed&limit=200`),
  });
  const create = useMutation({
    mutationFn: (id: string) => api<Draft>('POST', `${base}/case-files/${id}/teaching-case`),
    onSuccess: (d) => { void qc.invalidateQueries({ queryKey: ['teaching-cases'] }); setPicking(false); setOpen(d.id); },
  });
  if (!counselor) {
    return <Card title={t('teachingCase.title')}><Bank path={`/api/v1/districts/${current?.district_id}/teaching-cases`} /></Card>;
  }
  const current_ = drafts.data?.items.find((d) => d.id === open);
  return (
    <Card title={t('teachingCase.title')}>
      <Tabs items={[
        { key: 'drafts', label: t('teachingCase.drafts'), children: (
          <>
            <Button data-testid="tc-new" type="primary" style={{ marginBottom: 12 }} onClick={() => setPicking(true)}>{t('teachingCase.new')}</Button>
            <ProblemAlert error={drafts.error} />
            {current_ ? (
              <>
                <a onClick={() => setOpen(null)}>{t('teachingCase.back')}</a>
                <Editor key={current_.id + current_.updated_at} base={base} draft={current_} onDone={() => setOpen(null)} />
              </>
            ) : (
              <List data-testid="tc-drafts" dataSource={drafts.data?.items ?? []} locale={{ emptyText: t('teachingCase.noDrafts') }}
                renderItem={(d) => (
                  <List.Item actions={[<a key="o" data-testid="tc-open" onClick={() => setOpen(d.id)}>{t('teachingCase.open')}</a>]}>
                    <List.Item.Meta title={d.fields.title} description={`${dayjs(d.updated_at).format('YYYY-MM-DD HH:mm')} · ${
                      caseFields.filter((f) => d.reviewed[f]).length}/${caseFields.length} ${t('teachingCase.reviewedLabel')}`} />
                  </List.Item>
                )} />
            )}
          </>
        ) },
        { key: 'bank', label: t('teachingCase.bank'), children: <Bank path={`${base}/teaching-cases`} /> },
      ]} />
      <Modal open={picking} title={t('teachingCase.new')} onCancel={() => setPicking(false)} onOk={() => file && create.mutate(file)}
        okButtonProps={{ disabled: !file }} confirmLoading={create.isPending} destroyOnHidden>
        <ProblemAlert error={closed.error || create.error} />
        <Typography.Paragraph type="secondary">{t('teachingCase.newHelp')}</Typography.Paragraph>
        <Select data-testid="tc-file" style={{ width: '100%' }} value={file} onChange={setFile} loading={closed.isLoading}
          options={(closed.data?.items ?? []).map((c) => ({ value: c.case_file_id, label: `${c.student_name} (${c.student_number}, ${c.homeroom_name})` }))} />
      </Modal>
    </Card>
  );
}
