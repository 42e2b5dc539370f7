import { useState, type HTMLAttributes } from 'react';
import { App, Button, type ButtonProps, Card, Descriptions, Drawer, Form, Modal, Radio, Segmented, Space, Table, Tag, Typography } from 'antd';
import { ExclamationCircleOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { outcomes, pick, type Alert, type Assessment } from '../api/screening';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { tierColor } from './WarningList';
import { OpenCrisisButton } from './Crises';

// sortAlerts: open before acknowledged, overdue first, then by deadline.
export function sortAlerts(items: Alert[]): Alert[] {
  const rank = (a: Alert) => (a.acknowledged_at ? 2 : a.overdue ? 0 : 1);
  return [...items].sort((a, b) => rank(a) - rank(b) || Date.parse(a.due_at) - Date.parse(b.due_at));
}

// alertRowProps marks a row for tests and highlights an open alert past its deadline.
function alertRowProps(a: Alert): HTMLAttributes<HTMLElement> {
  const late = a.overdue && !a.acknowledged_at;
  const props: Record<string, unknown> = { 'data-testid': 'alert-row' };
  if (late) {
    props['data-overdue'] = 'true';
    props.style = { background: '#fff1f0' };
  }
  return props as HTMLAttributes<HTMLElement>;
}

// ScreeningAlerts is the counselor's screening alert queue (预警): every sheet with a
// critical item or a band at or above the district's threshold, with a deadline. Acknowledge
// with an outcome, or open the student's case file in one step.
export default function ScreeningAlerts() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const toFields = useFieldErrors();
  const school = current?.school_id;
  const base = `/api/v1/schools/${school}`;
  const [show, setShow] = useState<'open' | 'all'>('open');
  const [acking, setAcking] = useState<Alert | null>(null);
  const [reading, setReading] = useState<Alert | null>(null);
  const [form] = Form.useForm();
  const list = useQuery({
    queryKey: ['screening-alerts', school, show],
    enabled: !!school,
    refetchInterval: 60_000,
    queryFn: async () => (await api<{ items: Alert[] }>('GET', `${base}/screening-alerts?status=${show}`)).items,
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['screening-alerts', school] });
  const ack = useMutation({
    mutationFn: (v: { alert: Alert; outcome: string; open_case_file: boolean }) =>
      api<Alert>('POST', `${base}/screening-alerts/${v.alert.id}/acknowledge`, { outcome: v.outcome, open_case_file: v.open_case_file }),
    onSuccess: (a, v) => {
      refresh();
      setAcking(null);
      form.resetFields();
      if (v.open_case_file && a.case_file_id) {
        navigate(`/case-files?open=${a.case_file_id}`);
        return;
      }
      message.success(t('screening.alert.acknowledged'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const time = (v?: string | null) => (v ? <span style={{ whiteSpace: 'nowrap' }}>{dayjs(v).format('MM-DD HH:mm')}</span> : '—');
  return (
    <Card
      title={t('menu.screeningAlerts')}
      extra={
        <Segmented data-testid="alert-filter" value={show} onChange={(v) => setShow(v as 'open' | 'all')}
          options={[{ value: 'open', label: t('screening.alert.open') }, { value: 'all', label: t('screening.alert.all') }]} />
      }
    >
      <Typography.Paragraph type="secondary">{t('screening.alert.hint')}</Typography.Paragraph>
      <ProblemAlert error={list.error || ack.error} />
      <Table
        data-testid="alerts-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={sortAlerts(list.data ?? [])}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: t('screening.alert.none') }}
        onRow={alertRowProps}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('screening.alert.raisedAt'), dataIndex: 'created_at', render: time },
          { title: t('student.name'), dataIndex: 'student_name', render: (v: string, a: Alert) => (
            <span data-testid="alert-student" style={{ whiteSpace: 'nowrap' }}>
              {v}<br /><Typography.Text type="secondary" style={{ fontSize: 12 }}>{a.student_number} · {a.homeroom_name}</Typography.Text>
            </span>
          ) },
          { title: t('screening.alert.instrument'), dataIndex: 'instrument_code', render: (v: string) => v.toUpperCase() },
          {
            title: t('screening.alert.reason'),
            dataIndex: 'reason',
            render: (v: string) => <Tag data-testid="alert-reason" color={v === 'critical_item' ? 'red' : 'orange'} icon={v === 'critical_item' ? <ExclamationCircleOutlined /> : undefined}>{t(`screening.alert.reasonValue.${v}`)}</Tag>,
          },
          { title: t('screening.alert.suggestedTier'), dataIndex: 'suggested_tier', render: (v: string) => <Tag color={tierColor[v]}>{t(`caseFile.tierValue.${v}`)}</Tag> },
          {
            title: t('screening.alert.due'),
            dataIndex: 'due_at',
            render: (v: string, a: Alert) => (
              <Space size={4} wrap>
                {time(v)}
                {a.overdue && !a.acknowledged_at && <Tag data-testid="alert-overdue" color="red">{t('screening.alert.overdue')}</Tag>}
                {a.escalation !== 'none' && <Tag color="volcano">{t(`screening.alert.escalation.${a.escalation}`)}</Tag>}
              </Space>
            ),
          },
          {
            title: t('screening.alert.status'),
            key: 'status',
            render: (_, a: Alert) =>
              a.acknowledged_at ? (
                <Space direction="vertical" size={0}>
                  <Tag data-testid="alert-acknowledged" color="green">{a.outcome ? t(`screening.alert.outcome.${a.outcome}`) : t('screening.alert.acknowledged')}</Tag>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>{time(a.acknowledged_at)}</Typography.Text>
                </Space>
              ) : (
                <Tag color="orange">{t('screening.alert.pending')}</Tag>
              ),
          },
          {
            title: '',
            key: 'a',
            render: (_, a: Alert) => (
              <Space wrap>
                <a onClick={() => setReading(a)}>{t('screening.alert.viewSheet')}</a>
                {!a.acknowledged_at && (
                  <>
                    <Button data-testid="alert-ack" size="small" onClick={() => setAcking(a)}>{t('screening.alert.acknowledge')}</Button>
                    <Button data-testid="alert-open-case" size="small" type="primary" loading={ack.isPending && ack.variables?.alert.id === a.id}
                      onClick={() => ack.mutate({ alert: a, outcome: 'case_opened', open_case_file: true })}>
                      {t('screening.alert.openCaseFile')}
                    </Button>
                    <OpenCrisisButton base={base} onOpened={(c) => { void qc.invalidateQueries({ queryKey: ['screening-alerts'] }); navigate(`/crises?crisis=${c.id}`); }}
                      from={{ source: 'screening_alert', source_id: a.id, label: `${a.student_name}（${a.student_number}）· ${a.instrument_code.toUpperCase()} · ${t(`screening.alert.reasonValue.${a.reason}`)}` }} />
                  </>
                )}
                {a.acknowledged_at && a.case_file_id && <a onClick={() => navigate(`/case-files?open=${a.case_file_id}`)}>{t('inbox.openCaseFile')}</a>}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={!!acking} title={t('screening.alert.acknowledge')} onCancel={() => setAcking(null)} onOk={() => form.submit()}
        confirmLoading={ack.isPending} destroyOnHidden okButtonProps={{ 'data-testid': 'ack-submit' } as ButtonProps}>
        {acking && (
          <Typography.Paragraph type="secondary">
            {acking.student_name} · {acking.homeroom_name} · {t(`screening.alert.reasonValue.${acking.reason}`)}
          </Typography.Paragraph>
        )}
        <Form form={form} layout="vertical" initialValues={{ outcome: 'monitoring' }}
          onFinish={(v: { outcome: string }) => acking && ack.mutate({ alert: acking, outcome: v.outcome, open_case_file: v.outcome === 'case_opened' })}>
          <Form.Item name="outcome" label={t('screening.alert.outcomeLabel')} rules={[{ required: true }]}>
            <Radio.Group data-testid="ack-outcome">
              <Space direction="vertical">
                {outcomes.map((o) => <Radio key={o} value={o}>{t(`screening.alert.outcome.${o}`)}</Radio>)}
              </Space>
            </Radio.Group>
          </Form.Item>
        </Form>
      </Modal>
      <Drawer open={!!reading} width={560} title={t('screening.alert.sheet')} onClose={() => setReading(null)} destroyOnHidden>
        {reading && school && <AssessmentSheet school={school} id={reading.assessment_id} />}
      </Drawer>
    </Card>
  );
}

// AssessmentSheet: one scored sheet with its answers (confidential: counselors only).
export function AssessmentSheet({ school, id }: { school: string; id: string }) {
  const { t, i18n } = useTranslation();
  const a = useQuery({ queryKey: ['assessment', school, id], queryFn: () => api<Assessment>('GET', `/api/v1/schools/${school}/assessments/${id}`) });
  if (a.error) return <ProblemAlert error={a.error} />;
  if (!a.data) return null;
  const d = a.data;
  return (
    <div data-testid="assessment-sheet">
      <Descriptions column={1} bordered size="small">
        <Descriptions.Item label={t('screening.alert.instrument')}>{d.instrument_code.toUpperCase()} v{d.instrument_version}</Descriptions.Item>
        <Descriptions.Item label={t('screening.assessment.takenAt')}>{dayjs(d.taken_at).format('YYYY-MM-DD HH:mm')}</Descriptions.Item>
        <Descriptions.Item label={t('screening.assessment.source')}>{t(`screening.assessment.sourceValue.${d.source}`)}</Descriptions.Item>
        <Descriptions.Item label={t('screening.assessment.total')}>{d.total}</Descriptions.Item>
        <Descriptions.Item label={t('screening.assessment.band')}>{pick(d.band_label, i18n.language) || d.band}</Descriptions.Item>
        {Object.keys(d.subscales ?? {}).length > 0 && (
          <Descriptions.Item label={t('screening.assessment.subscales')}>
            {Object.entries(d.subscales).map(([k, v]) => `${k}: ${v}`).join('；')}
          </Descriptions.Item>
        )}
        <Descriptions.Item label={t('screening.assessment.valid')}>{d.valid ? t('screening.yes') : <Tag color="red">{t('screening.assessment.invalid')}</Tag>}</Descriptions.Item>
        <Descriptions.Item label={t('screening.assessment.critical')}>
          {d.critical?.length ? d.critical.map((c) => <Tag key={c} color="red">{t('screening.assessment.item', { code: c })}</Tag>) : '—'}
        </Descriptions.Item>
      </Descriptions>
      {d.answers && (
        <Table
          style={{ marginTop: 16 }}
          size="small"
          rowKey="item"
          pagination={false}
          dataSource={Object.entries(d.answers).map(([item, value]) => ({ item, value }))}
          columns={[
            { title: t('screening.assessment.itemCol'), dataIndex: 'item', render: (v: string) => <span style={{ color: d.critical?.includes(v) ? '#cf1322' : undefined }}>{v}</span> },
            { title: t('screening.assessment.answer'), dataIndex: 'value' },
          ]}
        />
      )}
    </div>
  );
}
