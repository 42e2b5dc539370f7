import { App, Alert, Button, Card, Checkbox, Form, Input, List, Radio, Select, Space, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';

export interface BarometerReport {
  id: string;
  homeroom_id: string;
  homeroom_name: string;
  week_start: string;
  mood: number;
  concerns: string[];
  named: boolean;
  submitted_at: string;
}

interface BarometerForm {
  week_start: string;
  homerooms: { id: string; name: string }[];
  concerns: string[];
  classmates: { id: string; name: string; homeroom_id: string }[];
  reports: BarometerReport[];
}

export const moods = [1, 2, 3, 4, 5];
export const moodColor = ['', 'red', 'orange', 'gold', 'cyan', 'green'];

// filedThisWeek tells whether the liaison's homeroom already has this week's report.
export function filedThisWeek(f: Pick<BarometerForm, 'week_start' | 'reports'> | undefined): boolean {
  return !!f && f.reports.some((r) => r.week_start === f.week_start);
}

// Barometer is the peer liaison's weekly form (晴雨表), laid out for a phone: the mood of
// the homeroom, common concerns, and optionally a classmate who worries them — who goes to
// the school's counselors only.
export default function Barometer() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const base = `/api/v1/schools/${current?.school_id}`;
  const data = useQuery({ queryKey: ['barometer-form', current?.school_id], queryFn: () => api<BarometerForm>('GET', `${base}/barometer/form`) });
  const submit = useMutation({
    mutationFn: (v: { mood: number; concerns?: string[]; student_id?: string; note?: string }) =>
      api<BarometerReport>('POST', `${base}/barometer/form`, { mood: v.mood, concerns: v.concerns ?? [], student_id: v.student_id ?? null, note: v.note ?? '' }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['barometer-form'] });
      form.resetFields();
      message.success(t('barometer.submitted'));
    },
    onError: (e) => form.setFields(toFields(e) as never),
  });
  const filed = filedThisWeek(data.data);
  return (
    <div style={{ maxWidth: 440, margin: '0 auto' }}>
      <Card title={t('barometer.title')} extra={data.data && <Typography.Text type="secondary">{t('barometer.week', { date: data.data.week_start })}</Typography.Text>}>
        <ProblemAlert error={data.error || submit.error} formFields={['mood', 'concerns', 'student_id', 'note']} />
        {filed ? (
          <Alert data-testid="barometer-filed" type="success" showIcon message={t('barometer.filed')} />
        ) : (
          <Form form={form} layout="vertical" onFinish={(v) => submit.mutate(v)}>
            <Typography.Paragraph type="secondary">{data.data?.homerooms.map((h) => h.name).join('、')}</Typography.Paragraph>
            <Form.Item name="mood" label={t('barometer.mood')} rules={[{ required: true, message: t('fieldError.required') }]}>
              <Radio.Group data-testid="barometer-mood" optionType="button" buttonStyle="solid" style={{ display: 'flex' }}>
                {moods.map((m) => (
                  <Radio.Button key={m} value={m} data-testid={`mood-${m}`} style={{ flex: 1, textAlign: 'center', padding: 0 }}>{t(`barometer.moodValue.${m}`)}</Radio.Button>
                ))}
              </Radio.Group>
            </Form.Item>
            <Form.Item name="concerns" label={t('barometer.concerns')}>
              <Checkbox.Group data-testid="barometer-concerns" style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 8 }}
                options={(data.data?.concerns ?? []).map((c) => ({ value: c, label: t(`barometer.concernValue.${c}`) }))} />
            </Form.Item>
            <Form.Item name="student_id" label={t('barometer.named')} extra={t('barometer.namedHelp')}>
              <Select data-testid="barometer-student" allowClear showSearch optionFilterProp="label"
                options={(data.data?.classmates ?? []).map((c) => ({ value: c.id, label: c.name }))} />
            </Form.Item>
            <Form.Item noStyle shouldUpdate={(a, b) => a.student_id !== b.student_id}>
              {({ getFieldValue }) => getFieldValue('student_id') && (
                <Form.Item name="note" label={t('barometer.note')}>
                  <Input.TextArea data-testid="barometer-note" rows={3} maxLength={1000} />
                </Form.Item>
              )}
            </Form.Item>
            <Button data-testid="barometer-submit" type="primary" htmlType="submit" block size="large" loading={submit.isPending}>{t('barometer.submit')}</Button>
          </Form>
        )}
      </Card>
      <Card size="small" title={t('barometer.mine')} style={{ marginTop: 16 }}>
        <List
          dataSource={data.data?.reports ?? []}
          locale={{ emptyText: t('barometer.none') }}
          renderItem={(r) => (
            <List.Item data-testid="barometer-report">
              <Space wrap>
                <span>{r.week_start}</span>
                <Tag color={moodColor[r.mood]}>{t(`barometer.moodValue.${r.mood}`)}</Tag>
                {r.concerns.map((c) => <Tag key={c}>{t(`barometer.concernValue.${c}`)}</Tag>)}
                {r.named && <Tag color="purple">{t('barometer.namedSent')}</Tag>}
              </Space>
            </List.Item>
          )}
        />
      </Card>
    </div>
  );
}
