import { useState } from 'react';
import { App, Button, Card, DatePicker, Form, Input, Modal, Radio, Select, Space, Table, Tabs, Tag, Typography, Upload } from 'antd';
import type { UploadFile } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, search as searchList } from '../api/client';
import type { Student } from '../api/types';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

interface Copy { id: string; label: string; out: boolean }
interface Item {
  id: string;
  kind: 'document' | 'link' | 'book';
  title: string;
  author: string;
  summary: string;
  topics: string[];
  audiences: string[];
  url: string | null;
  isbn: string | null;
  publisher: string;
  owner_school_id: string | null;
  copies: Copy[];
}
interface Loan {
  id: string;
  copy_label: string;
  title: string;
  borrower_name: string;
  lent_at: string;
  due_on: string;
  returned_at: string | null;
  overdue: boolean;
}

const audiences = ['student', 'guardian', 'teacher', 'counselor'];

// Library is the resource library (心理健康图书资料): search the district's materials by
// words, topic and audience; counselors add entries, copies and lend them.
export default function Library() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.scope_type === 'district';
  const base = district ? `/api/v1/districts/${current?.district_id}` : `/api/v1/schools/${current?.school_id}`;
  const canAdd = current?.role === 'counselor' || current?.role === 'district_admin';
  const counselor = current?.role === 'counselor';
  const [filter, setFilter] = useState<{ q?: string; topic?: string; audience?: string; kind?: string }>({});
  const [adding, setAdding] = useState(false);
  const [copying, setCopying] = useState<Item | null>(null);
  const [lending, setLending] = useState<Copy | null>(null);
  const [studentQ, setStudentQ] = useState('');
  const [form] = Form.useForm();
  const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]).toString();
  const items = useQuery({
    queryKey: ['library', base, params],
    enabled: !!current,
    queryFn: () => api<{ items: Item[] }>('GET', `${base}/library${params ? `?${params}` : ''}`),
  });
  const loans = useQuery({
    queryKey: ['library-loans', base],
    enabled: counselor,
    queryFn: () => api<{ items: Loan[] }>('GET', `${base}/library-loans`),
  });
  const students = useQuery({
    queryKey: ['library-students', base, studentQ],
    enabled: !!lending,
    queryFn: () => searchList<Student>(`${base}/students`, { q: studentQ }, 20),
  });
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['library'] });
    void qc.invalidateQueries({ queryKey: ['library-loans'] });
    setAdding(false);
    setCopying(null);
    setLending(null);
    form.resetFields();
    message.success(t('library.saved'));
  };
  const save = useMutation({
    mutationFn: ({ path, body }: { path: string; body: unknown }) => api('POST', path, body),
    onSuccess: done,
    onError: (e) => form.setFields(toFields(e)),
  });
  const giveBack = useMutation({ mutationFn: (id: string) => api('POST', `${base}/library-loans/${id}/return`), onSuccess: done });
  const close = () => { setAdding(false); setCopying(null); setLending(null); save.reset(); };
  const submit = (v: Record<string, unknown>) => {
    if (adding && v.kind === 'document') {
      const fd = new FormData();
      const file = (v.file as UploadFile[] | undefined)?.[0]?.originFileObj;
      if (file) fd.append('file', file, file.name);
      fd.append('title', String(v.title ?? ''));
      fd.append('summary', String(v.summary ?? ''));
      fd.append('topics', ((v.topics as string[] | undefined) ?? []).join(','));
      fd.append('audiences', ((v.audiences as string[] | undefined) ?? []).join(','));
      save.mutate({ path: `${base}/library/documents`, body: fd });
    } else if (adding) {
      save.mutate({ path: `${base}/library`, body: {
        kind: v.kind, title: v.title, author: v.author ?? '', summary: v.summary ?? '', url: v.kind === 'link' ? v.url ?? '' : '',
        isbn: v.kind === 'book' ? v.isbn ?? '' : '', publisher: v.publisher ?? '', topics: v.topics ?? [], audiences: v.audiences ?? [],
      } });
    } else if (copying) {
      save.mutate({ path: `${base}/library/${copying.id}/copies`, body: { label: v.label } });
    } else if (lending) {
      save.mutate({ path: `${base}/library-loans`, body: { copy_id: lending.id, student_id: v.student_id, due_on: (v.due_on as dayjs.Dayjs).format('YYYY-MM-DD') } });
    }
  };
  const search = (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search data-testid="library-search" allowClear placeholder={t('library.searchPlaceholder')} style={{ width: 240 }}
          onSearch={(q) => setFilter({ ...filter, q })} />
        <Input allowClear placeholder={t('library.topic')} style={{ width: 140 }} onPressEnter={(e) => setFilter({ ...filter, topic: (e.target as HTMLInputElement).value })}
          onChange={(e) => !e.target.value && setFilter({ ...filter, topic: undefined })} />
        <Select allowClear placeholder={t('library.audience')} style={{ width: 140 }} onChange={(audience) => setFilter({ ...filter, audience })}
          options={audiences.map((a) => ({ value: a, label: t(`library.audienceValue.${a}`) }))} />
        <Select allowClear placeholder={t('library.kind')} style={{ width: 120 }} onChange={(kind) => setFilter({ ...filter, kind })}
          options={['document', 'link', 'book'].map((k) => ({ value: k, label: t(`library.kindValue.${k}`) }))} />
        {canAdd && <Button data-testid="library-add" type="primary" onClick={() => setAdding(true)}>{t('library.add')}</Button>}
      </Space>
      <ProblemAlert error={items.error} />
      <Table data-testid="library-table" rowKey="id" loading={items.isLoading} dataSource={items.data?.items ?? []} pagination={{ pageSize: 20 }}
        expandable={{ expandedRowRender: (it) => <Typography.Paragraph style={{ margin: 0 }}>{it.summary}</Typography.Paragraph>, rowExpandable: (it) => !!it.summary }}
        columns={[
          { title: t('library.title'), key: 'title', render: (_: unknown, it: Item) => {
            if (it.url) return <a href={it.url} target="_blank" rel="noreferrer noopener">{it.title}</a>;
            if (it.kind === 'document') return <a data-testid="library-download" href={`${base}/library/${it.id}/content`}>{it.title}</a>;
            return it.title;
          } },
          { title: t('library.kind'), dataIndex: 'kind', render: (k: string) => t(`library.kindValue.${k}`) },
          { title: t('library.author'), dataIndex: 'author' },
          { title: t('library.topics'), dataIndex: 'topics', render: (ts: string[]) => ts.map((x) => <Tag key={x}>{x}</Tag>) },
          { title: t('library.audiences'), dataIndex: 'audiences', render: (as: string[]) => as.map((a) => t(`library.audienceValue.${a}`)).join('、') },
          { title: t('library.source'), dataIndex: 'owner_school_id', render: (o: string | null) => (o ? t('library.fromSchool') : t('library.fromDistrict')) },
          ...(district ? [] : [{ title: t('library.copies'), key: 'copies', render: (_: unknown, it: Item) => (
            <Space size={4} wrap>
              {it.copies.map((c) => (
                <Tag key={c.id} color={c.out ? 'orange' : 'green'}>
                  {c.label} {c.out ? t('library.out') : t('library.available')}
                  {counselor && !c.out && <a data-testid="library-lend" style={{ marginLeft: 4 }} onClick={() => setLending(c)}>{t('library.lend')}</a>}
                </Tag>
              ))}
              {counselor && it.kind === 'book' && <a data-testid="library-add-copy" onClick={() => setCopying(it)}>{t('library.addCopy')}</a>}
            </Space>
          ) }]),
        ]}
      />
    </>
  );
  const loanTab = (
    <>
      <ProblemAlert error={loans.error || giveBack.error} />
      <Table data-testid="library-loans" rowKey="id" loading={loans.isLoading} dataSource={loans.data?.items ?? []} pagination={false}
        columns={[
          { title: t('library.title'), dataIndex: 'title' },
          { title: t('library.copy'), dataIndex: 'copy_label' },
          { title: t('library.borrower'), dataIndex: 'borrower_name' },
          { title: t('library.lentAt'), dataIndex: 'lent_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
          { title: t('library.dueOn'), dataIndex: 'due_on', render: (v: string, l: Loan) => (l.overdue ? <Tag color="red">{v} {t('library.overdue')}</Tag> : v) },
          { title: '', key: 'x', render: (_: unknown, l: Loan) => <a data-testid="library-return" onClick={() => giveBack.mutate(l.id)}>{t('library.return')}</a> },
        ]} />
    </>
  );
  const modalTitle = adding ? t('library.add') : copying ? t('library.addCopy') : t('library.lend');
  return (
    <Card title={t('library.pageTitle')}>
      {counselor ? (
        <Tabs items={[
          { key: 'search', label: t('library.searchTab'), children: search },
          { key: 'loans', label: <span data-testid="tab-loans">{t('library.loansTab')}</span>, children: loanTab },
        ]} />
      ) : search}
      <Modal open={adding || !!copying || !!lending} title={modalTitle} onCancel={close} onOk={() => form.submit()} confirmLoading={save.isPending} destroyOnHidden>
        <ProblemAlert error={save.error} />
        <Form form={form} layout="vertical" onFinish={submit} initialValues={{ kind: 'book', audiences: ['student'], due_on: dayjs().add(14, 'day') }}>
          {adding && (
            <>
              <Form.Item name="kind" label={t('library.kind')}>
                <Radio.Group options={['book', 'link', 'document'].map((k) => ({ value: k, label: t(`library.kindValue.${k}`) }))} />
              </Form.Item>
              <Form.Item name="title" label={t('library.title')} rules={[{ required: true }]}><Input maxLength={200} /></Form.Item>
              <Form.Item noStyle shouldUpdate={(a, b) => a.kind !== b.kind}>
                {({ getFieldValue }) => (getFieldValue('kind') === 'document'
                  ? (
                    <Form.Item name="file" label={t('library.file')} valuePropName="fileList" getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList}
                      rules={[{ required: true }]} extra={t('library.fileHelp')}>
                      <Upload beforeUpload={() => false} maxCount={1}><Button>{t('library.chooseFile')}</Button></Upload>
                    </Form.Item>
                  )
                  : getFieldValue('kind') === 'link'
                  ? <Form.Item name="url" label={t('library.url')} rules={[{ required: true }]}><Input placeholder="https://" /></Form.Item>
                  : (
                    <>
                      <Form.Item name="author" label={t('library.author')}><Input maxLength={100} /></Form.Item>
                      <Form.Item name="publisher" label={t('library.publisher')}><Input maxLength={100} /></Form.Item>
                      <Form.Item name="isbn" label="ISBN"><Input maxLength={17} /></Form.Item>
                    </>
                  ))}
              </Form.Item>
              <Form.Item name="topics" label={t('library.topics')}><Select mode="tags" maxCount={10} /></Form.Item>
              <Form.Item name="audiences" label={t('library.audiences')} rules={[{ required: true }]}>
                <Select mode="multiple" options={audiences.map((a) => ({ value: a, label: t(`library.audienceValue.${a}`) }))} />
              </Form.Item>
              <Form.Item name="summary" label={t('library.summary')}><Input.TextArea rows={3} maxLength={2000} /></Form.Item>
            </>
          )}
          {copying && <Form.Item name="label" label={t('library.copyLabel')} rules={[{ required: true }]}><Input maxLength={50} /></Form.Item>}
          {lending && (
            <>
              <Form.Item name="student_id" label={t('library.borrower')} rules={[{ required: true }]}>
                <Select data-testid="lend-student" showSearch filterOption={false} onSearch={setStudentQ}
                  options={(students.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.student_number}, ${s.homeroom_name})` }))} />
              </Form.Item>
              <Form.Item name="due_on" label={t('library.dueOn')} rules={[{ required: true }]}><DatePicker /></Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Card>
  );
}
