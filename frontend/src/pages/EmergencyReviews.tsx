import { useState } from 'react';
import { App, Button, type ButtonProps, Card, Form, Input, Modal, Radio, Segmented, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import type { EmergencyGrant } from './EmergencyAccess';

export interface EmergencyReview extends EmergencyGrant {
  school_name: string;
  reason: string;
  reviewed_by: string | null;
  reviewer_name: string | null;
  review_comment: string | null;
}

// EmergencyReviews is the district administrator's review queue (紧急查阅审查): every
// emergency access in the district's schools, with the reason given, closed once with a
// verdict and a comment.
export default function EmergencyReviews() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.district_id;
  const [show, setShow] = useState<'open' | 'all'>('open');
  const [closing, setClosing] = useState<EmergencyReview | null>(null);
  const [form] = Form.useForm();
  const list = useQuery({
    queryKey: ['emergency-reviews', district],
    enabled: !!district,
    queryFn: () => api<{ items: EmergencyReview[] }>('GET', `/api/v1/districts/${district}/emergency-reviews`),
  });
  const close = useMutation({
    mutationFn: (v: { verdict: string; comment: string }) =>
      api<EmergencyReview>('POST', `/api/v1/districts/${district}/emergency-reviews/${closing!.id}`, v),
    onSuccess: () => {
      message.success(t('emergency.reviewed'));
      setClosing(null);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['emergency-reviews', district] });
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const items = (list.data?.items ?? []).filter((r) => show === 'all' || !r.verdict);
  const time = (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');
  return (
    <Card
      title={t('menu.emergencyReviews')}
      extra={
        <Segmented data-testid="review-filter" value={show} onChange={(v) => setShow(v as 'open' | 'all')}
          options={[{ value: 'open', label: t('emergency.showOpen') }, { value: 'all', label: t('emergency.showAll') }]} />
      }
    >
      <ProblemAlert error={list.error} />
      <Table
        data-testid="review-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={items}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: t('emergency.none') }}
        expandable={{
          expandedRowRender: (r) =>
            r.verdict ? (
              <Typography.Paragraph style={{ margin: 0 }}>
                {t('emergency.reviewedBy', { name: r.reviewer_name ?? '', time: time(r.reviewed_at) })}：{r.review_comment}
              </Typography.Paragraph>
            ) : null,
          rowExpandable: (r) => !!r.verdict,
        }}
        columns={[
          { title: t('emergency.school'), dataIndex: 'school_name' },
          {
            title: t('emergency.file'),
            key: 'file',
            render: (_: unknown, g: { client_file_id?: string | null }) => <Tag>{t(g.client_file_id ? 'emergency.fileClient' : 'emergency.fileStudent')}</Tag>,
          },
          { title: t('emergency.grantee'), dataIndex: 'grantee_name' },
          { title: t('emergency.role'), dataIndex: 'grantee_role', render: (r: string) => t(`role.${r}`) },
          { title: t('emergency.grantedAt'), dataIndex: 'granted_at', render: time },
          { title: t('emergency.expiresAt'), dataIndex: 'expires_at', render: time },
          { title: t('emergency.reads'), dataIndex: 'read_count' },
          { title: t('emergency.reason'), dataIndex: 'reason', render: (v: string) => <span data-testid="review-reason">{v}</span> },
          {
            title: t('emergency.review'),
            key: 'verdict',
            render: (_: unknown, r: EmergencyReview) =>
              r.verdict ? (
                <Tag data-testid="review-verdict" color={r.verdict === 'justified' ? 'green' : 'red'}>{t(`emergency.verdictValue.${r.verdict}`)}</Tag>
              ) : (
                <Button data-testid="review-close" size="small" type="primary" onClick={() => setClosing(r)}>{t('emergency.close')}</Button>
              ),
          },
        ]}
      />
      <Modal open={!!closing} title={t('emergency.close')} onCancel={() => { setClosing(null); close.reset(); }} onOk={() => form.submit()}
        okButtonProps={{ 'data-testid': 'review-submit' } as ButtonProps} confirmLoading={close.isPending} destroyOnHidden>
        {closing && (
          <Typography.Paragraph type="secondary">
            {closing.school_name} · {closing.grantee_name} · {time(closing.granted_at)}
            <br />
            {t('emergency.reason')}：{closing.reason}
          </Typography.Paragraph>
        )}
        <ProblemAlert error={close.error} formFields={['verdict', 'comment']} />
        <Form form={form} layout="vertical" onFinish={(v) => close.mutate(v)}>
          <Form.Item name="verdict" label={t('emergency.verdict')} rules={[{ required: true, message: t('emergency.verdictRequired') }]}>
            <Radio.Group data-testid="review-verdict-input">
              <Radio value="justified">{t('emergency.verdictValue.justified')}</Radio>
              <Radio value="not_justified">{t('emergency.verdictValue.not_justified')}</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="comment" label={t('emergency.comment')} rules={[{ required: true, whitespace: true, message: t('emergency.commentRequired') }, { max: 2000 }]}>
            <Input.TextArea data-testid="review-comment" rows={3} maxLength={2000} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
