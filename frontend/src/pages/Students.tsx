import { lazy, Suspense, useState } from 'react';
import { Alert, App, Button, Card, Checkbox, Descriptions, Drawer, Input, Modal, Select, Space, Table, Tag, Typography, Upload } from 'antd';
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import { useOrgUnits } from '../api/hooks';
import type { FieldError, ImportResult, Student } from '../api/types';
import { useSession } from '../session';
import { canImportRoster } from '../nav';
import { useSearchList } from '../components/useCursorList';
import ProblemAlert from '../components/ProblemAlert';
import ImportErrors from '../components/ImportErrors';

// Screening results load only when a counselor opens a student.
const AssessmentHistory = lazy(() => import('./casefile/Assessments'));

const statusColor = { enrolled: 'green', graduated: 'default', transferred: 'orange' } as const;

export default function Students() {
  const { t } = useTranslation();
  const { current } = useSession();
  const school = current?.scope_type === 'school' ? current.school_id : null;
  const [q, setQ] = useState('');
  const [homeroom, setHomeroom] = useState<string | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const base = school ? `/api/v1/schools/${school}/students` : null;
  const list = useSearchList<Student>(['students', school], base, { q: q.trim() || undefined, homeroom_id: homeroom, status });
  const units = useOrgUnits(school);
  const gradeName = (id: string | null) => units.data?.find((u) => u.id === id)?.name;
  const [importing, setImporting] = useState(false);
  const [detail, setDetail] = useState<string | null>(null);
  const canImport = !!current && canImportRoster(current.role);
  return (
    <Card
      title={current?.school_name ? `${current.school_name} · ${t('menu.students')}` : t('menu.students')}
      extra={
        canImport && (
          <Space>
            <Button data-testid="import-template" icon={<DownloadOutlined />} href={`${base}/import-template`} download>
              {t('student.template')}
            </Button>
            <Button data-testid="import-open" type="primary" icon={<UploadOutlined />} onClick={() => setImporting(true)}>
              {t('student.import')}
            </Button>
          </Space>
        )
      }
    >
      {current?.role === 'homeroom_teacher' && (
        <Alert type="info" showIcon message={t('student.ownHomerooms')} style={{ marginBottom: 12 }} />
      )}
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search data-testid="student-search" placeholder={t('student.search')} allowClear onSearch={setQ} style={{ width: 260 }} />
        <Select allowClear showSearch optionFilterProp="label" placeholder={t('student.homeroom')} style={{ width: 200 }} value={homeroom} onChange={setHomeroom}
          options={(units.data ?? []).filter((u) => u.kind === 'homeroom').map((u) => ({
            value: u.id, label: [gradeName(u.parent_id), u.name].filter(Boolean).join(' / '),
          }))} />
        <Select allowClear placeholder={t('student.status')} style={{ width: 140 }} value={status} onChange={setStatus}
          options={(['enrolled', 'graduated', 'transferred'] as const).map((s) => ({ value: s, label: t(`student.statusValue.${s}`) }))} />
      </Space>
      <ProblemAlert error={list.error} />
      <Table<Student>
        data-testid="students-table"
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        onRow={(s) => ({ onClick: () => setDetail(s.id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('student.number'), dataIndex: 'student_number' },
          { title: t('student.name'), dataIndex: 'name' },
          { title: t('student.gender'), dataIndex: 'gender', render: (g: Student['gender']) => t(`student.${g}`) },
          { title: t('student.birthDate'), dataIndex: 'birth_date' },
          { title: t('student.grade'), dataIndex: 'grade_name' },
          { title: t('student.homeroom'), dataIndex: 'homeroom_name' },
          { title: t('student.status'), dataIndex: 'status', render: (s: Student['status']) => <Tag color={statusColor[s]}>{t(`student.statusValue.${s}`)}</Tag> },
          { title: t('student.guardians'), key: 'g', render: (_, s) => s.guardians.map((g) => g.name).join(t('common.listSeparator')) },
        ]}
      />
      <Space style={{ marginTop: 12 }}>
        {list.hasNextPage && (
          <Button data-testid="load-more" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        )}
        {!list.isLoading && <Typography.Text type="secondary">{t('common.shown', { n: list.items.length })}</Typography.Text>}
      </Space>
      {importing && base && school && <ImportDialog path={`${base}/import`} schoolId={school} onClose={() => setImporting(false)} />}
      <Drawer open={!!detail} width={520} title={t('student.detail')} onClose={() => setDetail(null)} destroyOnHidden>
        {detail && base && <StudentDetail path={`${base}/${detail}`} />}
        {/* Screening results are confidential to the school's counselors. */}
        {detail && school && current?.role === 'counselor' && (
          <>
            <Typography.Title level={5} style={{ marginTop: 16 }}>{t('screening.assessment.tab')}</Typography.Title>
            <Suspense fallback={null}><AssessmentHistory school={school} studentId={detail} /></Suspense>
          </>
        )}
      </Drawer>
    </Card>
  );
}

function StudentDetail({ path }: { path: string }) {
  const { t } = useTranslation();
  const s = useQuery({ queryKey: ['student', path], queryFn: () => api<Student>('GET', path) });
  if (s.error) return <ProblemAlert error={s.error} />;
  if (!s.data) return null;
  const d = s.data;
  return (
    <div data-testid="student-detail">
      <Descriptions column={1} bordered size="small">
        <Descriptions.Item label={t('student.number')}>{d.student_number}</Descriptions.Item>
        <Descriptions.Item label={t('student.name')}>{d.name}</Descriptions.Item>
        <Descriptions.Item label={t('student.gender')}>{t(`student.${d.gender}`)}</Descriptions.Item>
        <Descriptions.Item label={t('student.birthDate')}>{d.birth_date}</Descriptions.Item>
        <Descriptions.Item label={t('student.grade')}>{d.grade_name}</Descriptions.Item>
        <Descriptions.Item label={t('student.homeroom')}>{d.homeroom_name}</Descriptions.Item>
        <Descriptions.Item label={t('student.status')}>{t(`student.statusValue.${d.status}`)}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5} style={{ marginTop: 16 }}>{t('student.guardians')}</Typography.Title>
      <Table
        size="small"
        rowKey={(g) => `${g.name}-${g.phone}`}
        pagination={false}
        dataSource={d.guardians}
        columns={[
          { title: t('guardian.name'), dataIndex: 'name' },
          { title: t('guardian.relation'), dataIndex: 'relation' },
          { title: t('guardian.phone'), dataIndex: 'phone' },
        ]}
      />
    </div>
  );
}

// ImportOutcome classifies the answer of a roster upload for display.
export type ImportOutcome =
  | { kind: 'ok'; result: ImportResult }
  | { kind: 'rows'; errors: FieldError[] }
  | { kind: 'unsupported' }
  | { kind: 'problem'; error: unknown };

export function importOutcome(e: unknown): ImportOutcome {
  if (e instanceof ApiError && e.status === 415) return { kind: 'unsupported' };
  if (e instanceof ApiError && e.status === 422 && e.errors.some((f) => f.row !== undefined || f.column !== undefined || !f.field))
    return { kind: 'rows', errors: e.errors.filter((f) => !f.field || f.row !== undefined) };
  return { kind: 'problem', error: e };
}

export function ImportDialog({ path, schoolId, onClose }: { path: string; schoolId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [createMissing, setCreateMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const submit = async () => {
    if (!file) return;
    setBusy(true);
    setOutcome(null);
    const form = new FormData();
    form.append('file', file);
    if (createMissing) form.append('create_missing_units', 'true');
    try {
      const result = await api<ImportResult>('POST', path, form);
      setOutcome({ kind: 'ok', result });
      message.success(t('student.importOk', { ...result }));
      void qc.invalidateQueries({ queryKey: ['students', schoolId] });
      void qc.invalidateQueries({ queryKey: ['home-students', schoolId] });
      if (createMissing) void qc.invalidateQueries({ queryKey: ['org-units', schoolId] });
    } catch (e) {
      setOutcome(importOutcome(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      width={760}
      title={t('student.import')}
      onCancel={onClose}
      onOk={submit}
      okText={t('student.upload')}
      cancelText={t('common.close')}
      okButtonProps={{ disabled: !file, loading: busy, id: 'import-submit', 'data-testid': 'import-submit' }}
      cancelButtonProps={{ 'data-testid': 'import-close' }}
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>{t('student.importHelp')}</Typography.Paragraph>
        <Upload
          accept=".xlsx,.csv"
          maxCount={1}
          beforeUpload={(f) => {
            setFile(f);
            setOutcome(null);
            return false;
          }}
          onRemove={() => {
            setFile(null);
            setOutcome(null);
          }}
        >
          <Button data-testid="import-choose" icon={<UploadOutlined />}>{t('student.chooseFile')}</Button>
        </Upload>
        <Checkbox checked={createMissing} onChange={(e) => setCreateMissing(e.target.checked)}>{t('student.createMissing')}</Checkbox>
        {outcome?.kind === 'ok' && (
          <Alert data-testid="import-ok" type="success" showIcon message={t('student.importOk', { ...outcome.result })} />
        )}
        {outcome?.kind === 'unsupported' && (
          <Alert data-testid="import-unsupported" type="error" showIcon message={t('problem.415')} description={t('student.unsupported')} />
        )}
        {outcome?.kind === 'problem' && <ProblemAlert error={outcome.error} />}
        {outcome?.kind === 'rows' && (
          <>
            <Alert data-testid="import-failed" type="error" showIcon
              message={t('student.importFailed')} description={t('student.importFailedCount', { n: outcome.errors.length })} />
            <ImportErrors errors={outcome.errors} />
          </>
        )}
      </Space>
    </Modal>
  );
}
