import { useMemo, useState } from 'react';
import { Alert, Button, Card, Form, Input, Radio, Result, Select, Spin, Typography } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { api, isStatus } from '../api/client';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import LanguageSwitch from '../LanguageSwitch';
import { chinaInstant, requestableDays, type RoomClosure, type RoomWindow } from './room/time';

interface PublicRoom {
  school_name: string;
  opening_hours: RoomWindow[];
  closures: RoomClosure[];
  duration_minutes: number;
}

const weekdayKeys = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// PublicRequest is the school's public request page (预约申请), phone-sized and without an
// account: a student or guardian asks for a time in the room's opening hours. It asks for
// no confidential details, and its answer never says anything about other bookings.
export default function PublicRequest() {
  const { t } = useTranslation();
  const { schoolId } = useParams();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const [date, setDate] = useState<string | undefined>();
  const room = useQuery({
    queryKey: ['public-room', schoolId],
    queryFn: () => api<PublicRoom>('GET', `/api/v1/public/schools/${schoolId}/room`),
  });
  const days = useMemo(
    () => (room.data ? requestableDays(room.data.opening_hours, room.data.closures, room.data.duration_minutes, Date.now()) : []),
    [room.data],
  );
  const send = useMutation({
    mutationFn: (v: { requester_kind: string; name?: string; contact: string; date: string; time: string }) =>
      api('POST', `/api/v1/public/schools/${schoolId}/appointment-requests`, {
        requester_kind: v.requester_kind, name: v.name ?? '', contact: v.contact, starts_at: chinaInstant(v.date, v.time),
      }),
    onError: (e) => form.setFields(toFields(e)),
  });
  const wrap = (node: React.ReactNode) => (
    <div style={{ minHeight: '100vh', background: '#f5f8ff', display: 'flex', justifyContent: 'center', padding: 12 }}>
      <div style={{ width: '100%', maxWidth: 420 }}>
        <div style={{ display: 'flex', justifyContent: 'flex-end' }}><LanguageSwitch /></div>
        {node}
      </div>
    </div>
  );
  if (room.isLoading) return wrap(<Spin style={{ display: 'block', margin: 80 }} />);
  if (room.error) return wrap(<Result status="404" title={t('publicRequest.unknown')} />);
  if (send.isSuccess) {
    return wrap(
      <div data-testid="public-received">
        <Result status="success" title={t('publicRequest.received')} subTitle={t('publicRequest.receivedHelp')} />
      </div>,
    );
  }
  const r = room.data!;
  return wrap(
    <Card data-testid="public-request">
      <Typography.Title level={4} style={{ marginTop: 0 }}>{r.school_name}</Typography.Title>
      <Typography.Paragraph>{t('publicRequest.intro', { minutes: r.duration_minutes })}</Typography.Paragraph>
      <Typography.Paragraph type="secondary" data-testid="public-hours">
        {t('publicRequest.hours')}：
        {r.opening_hours.map((w) => `${t(`room.weekday.${weekdayKeys[w.weekday]}`)} ${w.start}–${w.end}`).join('；')}
      </Typography.Paragraph>
      <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('publicRequest.noDetails')} />
      {isStatus(send.error, 429) ? <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t('publicRequest.tooMany')} /> : <ProblemAlert error={send.error} />}
      <Form form={form} layout="vertical" initialValues={{ requester_kind: 'guardian' }} onFinish={(v) => send.mutate(v)}>
        <Form.Item name="requester_kind" label={t('publicRequest.iAm')} rules={[{ required: true }]}>
          <Radio.Group data-testid="public-kind" optionType="button"
            options={[{ value: 'student', label: t('publicRequest.student') }, { value: 'guardian', label: t('publicRequest.guardian') }]} />
        </Form.Item>
        <Form.Item name="name" label={t('publicRequest.name')} extra={t('publicRequest.nameHelp')}>
          <Input data-testid="public-name" maxLength={50} />
        </Form.Item>
        <Form.Item name="contact" label={t('publicRequest.contact')} rules={[{ required: true, message: t('publicRequest.contactRequired') }]}>
          <Input data-testid="public-contact" maxLength={100} inputMode="tel" />
        </Form.Item>
        <Form.Item name="date" label={t('publicRequest.date')} rules={[{ required: true }]}>
          <Select data-testid="public-date" options={days.map((d) => ({ value: d.date, label: d.date }))}
            onChange={(v: string) => { setDate(v); form.setFieldValue('time', undefined); }} />
        </Form.Item>
        <Form.Item name="time" label={t('publicRequest.time')} rules={[{ required: true }]}>
          <Select data-testid="public-time" disabled={!date} options={(days.find((d) => d.date === date)?.times ?? []).map((x) => ({ value: x, label: x }))} />
        </Form.Item>
        <Button data-testid="public-submit" type="primary" htmlType="submit" block loading={send.isPending}>{t('publicRequest.submit')}</Button>
      </Form>
    </Card>,
  );
}
