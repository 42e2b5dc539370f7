import { useState } from 'react';
import { Alert, App, Button, Card, Checkbox, Input, Modal, Select, Space, Table, Tag, Upload } from 'antd';
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import type { FieldError, ImportResult, OrgUnit, Page, Student } from '../api/types';
import { useSession } from '../session';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert from '../components/ProblemAlert';
import ImportErrors from '../components/ImportErrors';

export default function Students() {
  const { t } = useTranslation();
  const { current } = useSession();
  const school = current?.school_id ?? null;
  const [q, setQ] = useState('');
  const [homeroom, setHomeroom] = useState<string | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const base = school ? `/api/v1/schools/${school}/students` : null;
  const list = useCursorList<Student>(['students', school], base, { q: q || undefined, homeroom_id: homeroom, status });
  const units = useQuery({ queryKey: ['org-units', school], enabled: !!school, queryFn: () => api<Page<OrgUnit>>('GET', `/api/v1/schools/${school}/org-units`) });
  const [importing, setImporting] = useState(false);
  const canImport = current?.role === 'school_leader';
  return (
    <Card
      title={t('menu.students')}
      extra={
        <Space>
          <Button icon={<DownloadOutlined />} href={`${base}/import-template`} download>{t('student.template')}</Button>
          {canImport && <Button data-testid="import-open" type="primary" icon={<UploadOutlined />} onClick={() => setImporting(true)}>{t('student.import')}</Button>}
        </Space>
      }
    >
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search data-testid="student-search" placeholder={t('student.search')} allowClear onSearch={setQ} style={{ width: 260 }} />
        <Select allowClear placeholder={t('student.homeroom')} style={{ width: 180 }} value={homeroom} onChange={setHomeroom}
          options={(units.data?.items ?? []).filter((u) => u.kind === 'homeroom').map((u) => ({ value: u.id, label: u.name }))} />
        <Select allowClear placeholder={t('student.status')} style={{ width: 140 }} value={status} onChange={setStatus}
          options={['enrolled', 'graduated', 'transferred'].map((s) => ({ value: s, label: t(`student.statusValue.${s}`) }))} />
      </Space>
      <ProblemAlert error={list.error} />
      <Table
        data-testid="students-table"
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        columns={[
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'name' },
          { title: t('student.gender'), dataIndex: 'gender', render: (g: string) => t(`student.${g}`) },
          { title: t('student.birthDate'), dataIndex: 'birth_date' },
          { title: t('student.grade'), dataIndex: 'grade_name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('student.status'), dataIndex: 'status', render: (s: string) => <Tag>{t(`student.statusValue.${s}`)}</Tag> },
          { title: t('student.guardians'), key: 'g', render: (_, s) => s.guardians.map((g) => `${g.name} ${g.phone}`).join('；') },
        ]}
      />
      {list.hasNextPage && <Button data-testid="load-more" onClick={() => list.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
      {importing && base && <ImportDialog path={`${base}/import`} schoolId={school!} onClose={() => setImporting(false)} />}
    </Card>
  );
}

function ImportDialog({ path, schoolId, onClose }: { path: string; schoolId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [createMissing, setCreateMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [rowErrors, setRowErrors] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const submit = async () => {
    if (!file) return;
    setBusy(true);
    setResult(null);
    setRowErrors([]);
    setError(null);
    const form = new FormData();
    form.append('file', file);
    if (createMissing) form.append('create_missing_units', 'true');
    try {
      const r = await api<ImportResult>('POST', path, form);
      setResult(r);
      message.success(t('student.importOk', { ...r }));
      void qc.invalidateQueries({ queryKey: ['students', schoolId] });
      void qc.invalidateQueries({ queryKey: ['org-units', schoolId] });
    } catch (e) {
      if (e instanceof ApiError && e.errors.some((f) => f.row)) setRowErrors(e.errors);
      else setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open width={760} title={t('student.import')} onCancel={onClose} onOk={submit} okButtonProps={{ disabled: !file, loading: busy, id: 'import-submit' }}>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Upload
          accept=".xlsx,.csv"
          maxCount={1}
          beforeUpload={(f) => {
            setFile(f);
            return false;
          }}
          onRemove={() => setFile(null)}
        >
          <Button data-testid="import-choose" icon={<UploadOutlined />}>{t('student.chooseFile')}</Button>
        </Upload>
        <Checkbox checked={createMissing} onChange={(e) => setCreateMissing(e.target.checked)}>{t('student.createMissing')}</Checkbox>
        <ProblemAlert error={error} />
        {result && <Alert data-testid="import-ok" type="success" showIcon message={t('student.importOk', { ...result })} />}
        {rowErrors.length > 0 && (
          <>
            <Alert data-testid="import-failed" type="error" showIcon message={t('student.importFailed')} />
            <ImportErrors errors={rowErrors} />
          </>
        )}
      </Space>
    </Modal>
  );
}
