import { App, Descriptions, Form, Input, Modal, Spin, Switch, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from './ProblemAlert';

export interface NotificationSettings {
  email: string | null;
  email_enabled: boolean;
  updated_at?: string | null;
}

const path = '/api/v1/me/notification-settings';

// looksLikeEmail is the client-side check; the server validates again.
export function looksLikeEmail(v: string): boolean {
  return v.length <= 254 && /^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(v);
}

// settingsBody turns the form into the PUT body: a blank address removes it.
export function settingsBody(v: { email?: string | null; email_enabled?: boolean }): NotificationSettings {
  const email = (v.email ?? '').trim();
  return { email: email === '' ? null : email, email_enabled: !!v.email_enabled };
}

// AccountDialog is "my account": who is signed in and the user's own e-mail notification
// settings. E-mails say only that there is something new in 心桥, with a link.
export default function AccountDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const settings = useQuery({ queryKey: ['notification-settings'], enabled: open, queryFn: () => api<NotificationSettings>('GET', path) });
  const save = useMutation({
    mutationFn: (v: NotificationSettings) => api<NotificationSettings>('PUT', path, v),
    onSuccess: (s) => {
      qc.setQueryData(['notification-settings'], s);
      message.success(t('common.saved'));
      onClose();
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  return (
    <Modal
      open={open}
      title={t('notifications.account')}
      okText={t('notifications.save')}
      cancelText={t('notifications.cancel')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      okButtonProps={{ 'data-testid': 'account-save' } as Record<string, string>}
      destroyOnHidden
    >
      <Descriptions column={1} size="small" style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('notifications.name')}>{me?.user.display_name}</Descriptions.Item>
        <Descriptions.Item label={t('notifications.username')}>{me?.user.username}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5}>{t('notifications.emailTitle')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('notifications.emailHint')}</Typography.Paragraph>
      <ProblemAlert error={settings.error || save.error} formFields={['email', 'email_enabled']} />
      {settings.isLoading ? (
        <Spin />
      ) : (
        <Form
          form={form}
          layout="vertical"
          onFinish={(v) => save.mutate(settingsBody(v))}
          initialValues={{ email: settings.data?.email ?? '', email_enabled: settings.data?.email_enabled ?? false }}
        >
          <Form.Item
            name="email"
            label={t('notifications.email')}
            rules={[
              { validator: (_, v: string) => (!v || looksLikeEmail(v.trim()) ? Promise.resolve() : Promise.reject(new Error(t('notifications.emailInvalid')))) },
            ]}
          >
            <Input data-testid="account-email" type="email" maxLength={254} placeholder="name@example.com" autoComplete="email" />
          </Form.Item>
          <Form.Item
            name="email_enabled"
            label={t('notifications.emailEnabled')}
            valuePropName="checked"
            dependencies={['email']}
            rules={[
              ({ getFieldValue }) => ({
                validator: (_, on: boolean) => (!on || (getFieldValue('email') ?? '').trim() ? Promise.resolve() : Promise.reject(new Error(t('notifications.emailNeeded')))),
              }),
            ]}
          >
            <Switch data-testid="account-email-enabled" />
          </Form.Item>
        </Form>
      )}
    </Modal>
  );
}
