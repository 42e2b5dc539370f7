import { useState } from 'react';
import { App, Button, Card, Form, Input, Modal, Popconfirm, Select, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useOrgUnits } from '../api/hooks';
import type { MembershipView, Role } from '../api/types';
import { useSession } from '../session';
import { grantableRoles } from '../nav';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import SchoolSettingsCard from './SchoolSettings';

const usernamePattern = /^[a-z0-9][a-z0-9._-]{2,63}$/;

export default function Staff() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const school = current?.school_id ?? null;
  const path = school ? `/api/v1/schools/${school}/staff` : null;
  const list = useCursorList<MembershipView>(['staff', school], path);
  const units = useOrgUnits(school);
  const unitName = (id: string | null) => units.data?.find((u) => u.id === id)?.name ?? '';
  const homerooms = (units.data ?? []).filter((u) => u.kind === 'homeroom');
  const homeroomLabel = (id: string) => {
    const h = units.data?.find((u) => u.id === id);
    return h ? [unitName(h.parent_id), h.name].filter(Boolean).join(' / ') : '';
  };
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const close = () => {
    setOpen(false);
    form.resetFields();
  };
  const create = useMutation({
    mutationFn: (v: { username: string; display_name: string; password: string; role: Role; homeroom_id: string }) =>
      api<MembershipView>('POST', path!, { ...v, username: v.username.trim(), display_name: v.display_name.trim() }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['staff', school] });
      close();
      message.success(t('staff.created'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `${path}/${id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['staff', school] });
      message.success(t('user.revoked'));
    },
  });
  const canWrite = current?.role === 'school_leader';
  const grantable = grantableRoles('school_leader');
  return (
    <>
    {school && <SchoolSettingsCard school={school} editable={current?.role === 'school_leader'} />}
    <Card
      title={t('menu.staff')}
      extra={canWrite && (
        <Button data-testid="staff-new" type="primary" icon={<PlusOutlined />} onClick={() => { form.setFieldsValue({ role: 'homeroom_teacher' }); setOpen(true); }}>
          {t('staff.new')}
        </Button>
      )}
    >
      <ProblemAlert error={list.error || revoke.error} />
      <Table<MembershipView>
        data-testid="staff-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        columns={[
          { title: t('user.displayName'), dataIndex: 'display_name' },
          { title: t('user.username'), dataIndex: 'username' },
          { title: t('user.role'), dataIndex: 'role', render: (r: Role) => <Tag color={grantable.includes(r) ? 'blue' : 'purple'}>{t(`role.${r}`)}</Tag> },
          { title: t('user.homeroom'), dataIndex: 'homeroom_id', render: (id: string | null) => (id ? homeroomLabel(id) : '—') },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_, m) =>
              canWrite && grantable.includes(m.role) ? (
                <Popconfirm title={t('common.confirmRevoke')} okButtonProps={{ danger: true }} onConfirm={() => revoke.mutate(m.id)}>
                  <Button type="link" size="small" danger>{t('common.revoke')}</Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      {list.hasNextPage && (
        <Button data-testid="load-more" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.loadMore')}
        </Button>
      )}
      <Modal open={open} title={t('staff.new')} onCancel={close} onOk={() => form.submit()} confirmLoading={create.isPending}
        okButtonProps={{ 'data-testid': 'staff-ok' }} forceRender>
        <ProblemAlert error={create.error} formFields={['role', 'homeroom_id', 'username', 'display_name', 'password']} />
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="role" label={t('user.role')} rules={[{ required: true }]}>
            <Select options={grantable.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          <Form.Item name="homeroom_id" label={t('user.homeroom')} rules={[{ required: true }]}>
            <Select showSearch optionFilterProp="label" loading={units.isLoading}
              options={homerooms.map((u) => ({ value: u.id, label: homeroomLabel(u.id) }))} />
          </Form.Item>
          <Form.Item name="username" label={t('user.username')} extra={t('user.usernameHint')}
            rules={[{ required: true }, { pattern: usernamePattern, message: t('user.usernameInvalid') }]}>
            <Input autoComplete="off" maxLength={64} />
          </Form.Item>
          <Form.Item name="display_name" label={t('user.displayName')} rules={[{ required: true, whitespace: true }, { max: 100 }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item name="password" label={t('user.password')} extra={t('user.passwordHint')}
            rules={[{ required: true }, { min: 12, message: t('user.passwordHint') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
    </>
  );
}
