import { useState } from 'react';
import { App, Button, Card, Form, Input, Modal, Popconfirm, Select, Table } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { MembershipView, OrgUnit, Page, Role } from '../api/types';
import { useSession } from '../session';
import { grantableRoles } from '../nav';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert, { fieldErrors } from '../components/ProblemAlert';

export default function Staff() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const school = current?.school_id ?? null;
  const path = school ? `/api/v1/schools/${school}/staff` : null;
  const list = useCursorList<MembershipView>(['staff', school], path);
  const units = useQuery({ queryKey: ['org-units', school], enabled: !!school, queryFn: () => api<Page<OrgUnit>>('GET', `/api/v1/schools/${school}/org-units`) });
  const homeroomName = (id: string | null) => units.data?.items.find((u) => u.id === id)?.name ?? '';
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const create = useMutation({
    mutationFn: (v: object) => api<MembershipView>('POST', path!, v),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['staff', school] });
      setOpen(false);
      form.resetFields();
      message.success(t('staff.created'));
    },
    onError: (e) => form.setFields(fieldErrors(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `${path}/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['staff', school] }),
  });
  const canWrite = current?.role === 'school_leader';
  return (
    <Card
      title={t('menu.staff')}
      extra={canWrite && <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>{t('staff.new')}</Button>}
    >
      <ProblemAlert error={list.error || revoke.error} />
      <Table
        data-testid="staff-table"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.items}
        pagination={false}
        columns={[
          { title: t('user.displayName'), dataIndex: 'display_name' },
          { title: t('user.username'), dataIndex: 'username' },
          { title: t('user.role'), dataIndex: 'role', render: (r: Role) => t(`role.${r}`) },
          { title: t('user.homeroom'), dataIndex: 'homeroom_id', render: homeroomName },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_, m) =>
              canWrite && grantableRoles('school_leader').includes(m.role) ? (
                <Popconfirm title={t('common.confirmRevoke')} onConfirm={() => revoke.mutate(m.id)}>
                  <a>{t('common.revoke')}</a>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      {list.hasNextPage && <Button onClick={() => list.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
      <Modal open={open} title={t('staff.new')} onCancel={() => setOpen(false)} onOk={() => form.submit()} confirmLoading={create.isPending} destroyOnHidden>
        <ProblemAlert error={create.error} />
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ role: 'homeroom_teacher' }}>
          <Form.Item name="role" label={t('user.role')} rules={[{ required: true }]}>
            <Select options={grantableRoles('school_leader').map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          <Form.Item name="homeroom_id" label={t('user.homeroom')} rules={[{ required: true }]}>
            <Select options={(units.data?.items ?? []).filter((u) => u.kind === 'homeroom').map((u) => ({ value: u.id, label: u.name }))} />
          </Form.Item>
          <Form.Item name="username" label={t('user.username')} rules={[{ required: true }]}><Input /></Form.Item>
          <Form.Item name="display_name" label={t('user.displayName')} rules={[{ required: true }]}><Input /></Form.Item>
          <Form.Item name="password" label={t('user.password')} extra={t('user.passwordHint')} rules={[{ required: true, min: 12 }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
