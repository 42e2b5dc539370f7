import { useState } from 'react';
import { App, Button, Card, Col, Drawer, Form, Input, Modal, Popconfirm, Row, Select, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { MembershipView, OrgUnit, Page, Role, School, User } from '../api/types';
import { districtRoles } from '../api/types';
import { useSession } from '../session';
import { grantableRoles } from '../nav';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert, { fieldErrors } from '../components/ProblemAlert';

export default function Users() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const base = district ? `/api/v1/districts/${district}` : null;
  const [q, setQ] = useState('');
  const users = useCursorList<User>(['users', district], base && `${base}/users`, { q: q || undefined });
  const [creating, setCreating] = useState(false);
  const [userForm] = Form.useForm();
  const [selected, setSelected] = useState<User | null>(null);
  const createUser = useMutation({
    mutationFn: (v: object) => api<User>('POST', `${base}/users`, v),
    onSuccess: (u) => {
      void qc.invalidateQueries({ queryKey: ['users', district] });
      setCreating(false);
      userForm.resetFields();
      setSelected(u);
      message.success(t('common.saved'));
    },
    onError: (e) => userForm.setFields(fieldErrors(e)),
  });
  return (
    <Row gutter={16}>
      <Col span={24}>
        <Card
          title={t('menu.users')}
          extra={<Button data-testid="user-new" type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>{t('user.new')}</Button>}
        >
          <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ maxWidth: 320, marginBottom: 12 }} />
          <ProblemAlert error={users.error} />
          <Table
            data-testid="users-table"
            rowKey="id"
            loading={users.isLoading}
            dataSource={users.items}
            pagination={false}
            columns={[
              { title: t('user.username'), dataIndex: 'username' },
              { title: t('user.displayName'), dataIndex: 'display_name' },
              { title: '', key: 'state', render: (_, u) => u.disabled && <Tag>{t('user.disabled')}</Tag> },
              { title: t('common.actions'), key: 'a', render: (_, u) => <a data-testid={`memberships-${u.username}`} onClick={() => setSelected(u)}>{t('user.memberships')}</a> },
            ]}
          />
          {users.hasNextPage && <Button onClick={() => users.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
        </Card>
      </Col>
      <Modal open={creating} title={t('user.new')} onCancel={() => setCreating(false)} onOk={() => userForm.submit()} confirmLoading={createUser.isPending} destroyOnHidden>
        <ProblemAlert error={createUser.error} />
        <Form form={userForm} layout="vertical" onFinish={(v) => createUser.mutate(v)}>
          <Form.Item name="username" label={t('user.username')} rules={[{ required: true }]}><Input data-testid="new-username" /></Form.Item>
          <Form.Item name="display_name" label={t('user.displayName')} rules={[{ required: true }]}><Input data-testid="new-display-name" /></Form.Item>
          <Form.Item name="password" label={t('user.password')} extra={t('user.passwordHint')} rules={[{ required: true, min: 12 }]}>
            <Input.Password data-testid="new-password" autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
      <Drawer open={!!selected} width={640} title={`${selected?.display_name ?? ''} · ${t('user.memberships')}`} onClose={() => setSelected(null)} destroyOnHidden>
        {selected && base && current && <Memberships base={base} user={selected} actorRole={current.role} />}
      </Drawer>
    </Row>
  );
}

function Memberships({ base, user, actorRole }: { base: string; user: User; actorRole: Role }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const key = ['memberships', user.id];
  const list = useQuery({ queryKey: key, queryFn: () => api<Page<MembershipView>>('GET', `${base}/memberships?user_id=${user.id}&limit=200`) });
  const schools = useQuery({ queryKey: ['schools-all', base], queryFn: () => api<Page<School>>('GET', `${base}/schools?limit=200`) });
  const [form] = Form.useForm();
  const role: Role | undefined = Form.useWatch('role', form);
  const schoolId: string | undefined = Form.useWatch('school_id', form);
  const needsHomeroom = role === 'homeroom_teacher' || role === 'peer_liaison';
  const isDistrictRole = role ? districtRoles.includes(role) : false;
  const homerooms = useQuery({
    queryKey: ['org-units', schoolId],
    enabled: !!schoolId && needsHomeroom,
    queryFn: () => api<Page<OrgUnit>>('GET', `/api/v1/schools/${schoolId}/org-units`),
  });
  const grant = useMutation({
    mutationFn: (v: { role: Role; school_id?: string; homeroom_id?: string }) =>
      api('POST', `${base}/memberships`, {
        user_id: user.id,
        role: v.role,
        scope_type: districtRoles.includes(v.role) ? 'district' : 'school',
        school_id: districtRoles.includes(v.role) ? null : v.school_id,
        homeroom_id: needsHomeroom ? v.homeroom_id : null,
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key });
      form.resetFields();
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(fieldErrors(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `${base}/memberships/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      <ProblemAlert error={list.error || revoke.error} />
      <Table
        data-testid="memberships-table"
        rowKey="id"
        size="small"
        pagination={false}
        dataSource={list.data?.items ?? []}
        columns={[
          { title: t('user.role'), dataIndex: 'role', render: (r: Role) => t(`role.${r}`) },
          { title: t('user.scopeType'), key: 's', render: (_, m) => m.school_name ?? t('scope.district') },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_, m) => (
              <Popconfirm title={t('common.confirmRevoke')} onConfirm={() => revoke.mutate(m.id)}>
                <a>{t('common.revoke')}</a>
              </Popconfirm>
            ),
          },
        ]}
      />
      <Card size="small" title={t('user.grant')} style={{ marginTop: 16 }}>
        <ProblemAlert error={grant.error} />
        <Form form={form} layout="vertical" onFinish={(v) => grant.mutate(v)}>
          <Form.Item name="role" label={t('user.role')} rules={[{ required: true }]}>
            <Select data-testid="grant-role" options={grantableRoles(actorRole).map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          {role && !isDistrictRole && (
            <Form.Item name="school_id" label={t('user.school')} rules={[{ required: true }]}>
              <Select data-testid="grant-school" options={(schools.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))} />
            </Form.Item>
          )}
          {needsHomeroom && (
            <Form.Item name="homeroom_id" label={t('user.homeroom')} rules={[{ required: true }]}>
              <Select options={(homerooms.data?.items ?? []).filter((u) => u.kind === 'homeroom').map((u) => ({ value: u.id, label: u.name }))} />
            </Form.Item>
          )}
          <Button data-testid="grant-submit" type="primary" htmlType="submit" loading={grant.isPending}>{t('user.grant')}</Button>
        </Form>
      </Card>
    </>
  );
}
