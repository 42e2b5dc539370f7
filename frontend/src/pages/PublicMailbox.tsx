import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Result, Switch, Typography } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api } from '../api/client';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import LanguageSwitch from '../LanguageSwitch';

interface Reply { status: string; answer: string; answered_at: string | null; sent_at: string }

// mailboxBody builds the message a student sends: an anonymous one carries no name at all.
export function mailboxBody(v: { anonymous: boolean; name?: string; homeroom?: string; body: string }) {
  if (v.anonymous) return { anonymous: true, body: v.body };
  return { anonymous: false, name: v.name ?? '', homeroom: v.homeroom ?? '', body: v.body };
}

// PublicMailbox is the counseling mailbox page of a school (心理辅导信箱): no account, no
// address kept; the student gets a reply code to read the answer later.
export default function PublicMailbox() {
  const { t } = useTranslation();
  const { schoolId } = useParams();
  const toFields = useFieldErrors();
  const [form] = Form.useForm();
  const [code, setCode] = useState<string | null>(null);
  const [lookup, setLookup] = useState('');
  const base = `/api/v1/public/mailbox/${schoolId}`;
  const school = useQuery({ queryKey: ['mailbox-school', schoolId], queryFn: () => api<{ name: string }>('GET', base) });
  const send = useMutation({
    mutationFn: (v: { anonymous: boolean; name?: string; homeroom?: string; body: string }) => api<{ reply_code: string }>('POST', base, mailboxBody(v)),
    onSuccess: (r) => {
      setCode(r.reply_code);
      form.resetFields();
    },
    onError: (e) => form.setFields(toFields(e) as never),
  });
  const reply = useMutation({ mutationFn: (c: string) => api<Reply>('GET', `${base}/replies/${encodeURIComponent(c.trim())}`) });
  return (
    <div style={{ maxWidth: 480, margin: '24px auto', padding: 12 }}>
      <div style={{ textAlign: 'right' }}><LanguageSwitch /></div>
      <Card title={`${school.data?.name ?? ''} ${t('mailbox.title')}`}>
        <ProblemAlert error={school.error || send.error} formFields={['name', 'homeroom', 'body']} />
        <Typography.Paragraph type="secondary">{t('mailbox.intro')}</Typography.Paragraph>
        {code ? (
          <Result status="success" title={t('mailbox.sent')} subTitle={t('mailbox.keepCode')}
            extra={[
              <Typography.Title key="c" level={3} copyable data-testid="mailbox-code">{code}</Typography.Title>,
              <Button key="again" onClick={() => setCode(null)}>{t('mailbox.another')}</Button>,
            ]} />
        ) : (
          <Form form={form} layout="vertical" initialValues={{ anonymous: true }} onFinish={(v) => send.mutate(v)}>
            <Form.Item name="anonymous" label={t('mailbox.anonymous')} valuePropName="checked">
              <Switch data-testid="mailbox-anonymous" />
            </Form.Item>
            <Form.Item noStyle shouldUpdate={(a, b) => a.anonymous !== b.anonymous}>
              {({ getFieldValue }) => !getFieldValue('anonymous') && (
                <>
                  <Form.Item name="name" label={t('mailbox.name')} rules={[{ required: true, max: 40 }]}><Input data-testid="mailbox-name" /></Form.Item>
                  <Form.Item name="homeroom" label={t('mailbox.homeroom')} rules={[{ max: 40 }]}><Input data-testid="mailbox-homeroom" /></Form.Item>
                </>
              )}
            </Form.Item>
            <Form.Item name="body" label={t('mailbox.body')} rules={[{ required: true, whitespace: true, max: 3000 }]}>
              <Input.TextArea data-testid="mailbox-body" rows={6} maxLength={3000} showCount />
            </Form.Item>
            <Button data-testid="mailbox-send" type="primary" htmlType="submit" block size="large" loading={send.isPending}>{t('mailbox.send')}</Button>
          </Form>
        )}
      </Card>
      <Card size="small" title={t('mailbox.readReply')} style={{ marginTop: 16 }}>
        <Input.Search data-testid="mailbox-lookup" value={lookup} onChange={(e) => setLookup(e.target.value)} enterButton={t('mailbox.look')}
          onSearch={(v) => v.trim() && reply.mutate(v)} loading={reply.isPending} />
        {reply.isError && <Alert style={{ marginTop: 12 }} type="warning" showIcon message={t('mailbox.noSuchCode')} />}
        {reply.data && (
          <Alert data-testid="mailbox-reply" style={{ marginTop: 12 }} type={reply.data.status === 'answered' ? 'success' : 'info'} showIcon
            message={reply.data.status === 'answered' ? reply.data.answer : t('mailbox.notYet')} />
        )}
      </Card>
      <Typography.Paragraph type="secondary" style={{ marginTop: 16, fontSize: 12 }}>{t('mailbox.urgent')}</Typography.Paragraph>
    </div>
  );
}
