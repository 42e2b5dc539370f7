import { useState } from 'react';
import { App, Button, Card, Drawer, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api, fetchAll } from '../api/client';
import { useOrgUnits } from '../api/hooks';
import type { MembershipView, Role, School, User } from '../api/types';
import { useSession } from '../session';
import { grantableRoles, grantBody, needsHomeroom, scopeOfRole } from '../nav';
import { useSearchList } from '../components/useCursorList';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { SecuritySettingsModal, UserSecurity } from '../components/UserSecurity';

const usernamePattern = /^[a-z0-9][a-z0-9._-]{2,63}$/;

export default function Users() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const base = district ? `/api/v1/districts/${district}` : null;
  const [q, setQ] = useState('');
  const users = useSearchList<User>(['users', district], base && `${base}/users`, { q: q.trim() || undefined });
  const [creating, setCreating] = useState(false);
  const [userForm] = Form.useForm();
  const [selected, setSelected] = useState<User | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const closeCreate = () => {
    setCreating(false);
    userForm.resetFields();
  };
  const createUser = useMutation({
    mutationFn: (v: { username: string; display_name: string; password: string }) =>
      api<User>('POST', `${base}/users`, { username: v.username.trim(), display_name: v.display_name.trim(), password: v.password }),
    onSuccess: (u) => {
      void qc.invalidateQueries({ queryKey: ['users', district] });
      closeCreate();
      setSelected(u);
      message.success(t('user.created'));
    },
    onError: (e) => userForm.setFields(toFields(e)),
  });
  return (
    <>
      <Card
        title={t('menu.users')}
        extra={<Space>
          <Button data-testid="security-settings" onClick={() => setSettingsOpen(true)}>{t('security.settings')}</Button>
          <Button data-testid="user-new" type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>{t('user.new')}</Button>
        </Space>}
      >
        <Input.Search data-testid="user-search" placeholder={t('user.search')} allowClear onSearch={setQ} style={{ maxWidth: 320, marginBottom: 12 }} />
        <ProblemAlert error={users.error} />
        <Table<User>
          data-testid="users-table"
          rowKey="id"
          loading={users.isLoading}
          dataSource={users.items}
          pagination={false}
          columns={[
            { title: t('user.username'), dataIndex: 'username' },
            { title: t('user.displayName'), dataIndex: 'display_name' },
            { title: t('common.createdAt'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
            { title: t('security.userMfa'), key: 'mfa', render: (_, u) => (u.mfa_enrolled ? <Tag color="green">{t('security.enrolled')}</Tag> : <Tag>{t('security.notEnrolled')}</Tag>) },
            { title: t('user.state'), key: 'state', render: (_, u) => (u.disabled ? <Tag>{t('user.disabled')}</Tag> : <Tag color="green">{t('user.active')}</Tag>) },
            {
              title: t('common.actions'),
              key: 'a',
              render: (_, u) => (
                <Button type="link" size="small" data-testid={`memberships-${u.username}`} onClick={() => setSelected(u)}>
                  {t('user.memberships')}
                </Button>
              ),
            },
          ]}
        />
        {users.hasNextPage && (
          <Button data-testid="load-more" onClick={() => users.fetchNextPage()} loading={users.isFetchingNextPage} style={{ marginTop: 12 }}>
            {t('common.loadMore')}
          </Button>
        )}
      </Card>
      <Modal open={creating} title={t('user.new')} onCancel={closeCreate} onOk={() => userForm.submit()} confirmLoading={createUser.isPending}
        okButtonProps={{ 'data-testid': 'user-ok' }} forceRender>
        <ProblemAlert error={createUser.error} formFields={['username', 'display_name', 'password']} />
        <Form form={userForm} layout="vertical" onFinish={(v) => createUser.mutate(v)}>
          <Form.Item name="username" label={t('user.username')} extra={t('user.usernameHint')}
            rules={[{ required: true }, { pattern: usernamePattern, message: t('user.usernameInvalid') }]}>
            <Input data-testid="new-username" autoComplete="off" maxLength={64} />
          </Form.Item>
          <Form.Item name="display_name" label={t('user.displayName')} rules={[{ required: true, whitespace: true }, { max: 100 }]}>
            <Input data-testid="new-display-name" maxLength={100} />
          </Form.Item>
          <Form.Item name="password" label={t('user.password')} extra={t('user.passwordHint')}
            rules={[{ required: true }, { min: 12, message: t('user.passwordHint') }]}>
            <Input.Password data-testid="new-password" autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
      <Drawer
        open={!!selected}
        width={680}
        title={t('user.drawerTitle', { name: selected?.display_name ?? '', username: selected?.username ?? '' })}
        onClose={() => setSelected(null)}
        destroyOnHidden
        data-testid="memberships-drawer"
      >
        {selected && base && current && <Memberships base={base} user={selected} actorRole={current.role} />}
        {selected && base && <UserSecurity base={base} user={selected} />}
      </Drawer>
      {base && <SecuritySettingsModal base={base} open={settingsOpen} onClose={() => setSettingsOpen(false)} />}
    </>
  );
}

function HomeroomName({ schoolId, homeroomId }: { schoolId: string; homeroomId: string }) {
  const units = useOrgUnits(schoolId);
  const u = units.data?.find((x) => x.id === homeroomId);
  return <>{u?.name ?? '…'}</>;
}

function Memberships({ base, user, actorRole }: { base: string; user: User; actorRole: Role }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const key = ['memberships', user.id];
  const list = useQuery({
    queryKey: key,
    queryFn: () => fetchAll<MembershipView>(`${base}/memberships?user_id=${encodeURIComponent(user.id)}`),
  });
  const schools = useQuery({ queryKey: ['schools-all', base], queryFn: () => fetchAll<School>(`${base}/schools`) });
  const [form] = Form.useForm();
  const role: Role | undefined = Form.useWatch('role', form);
  const schoolId: string | undefined = Form.useWatch('school_id', form);
  const homeroomNeeded = needsHomeroom(role);
  const units = useOrgUnits(homeroomNeeded ? schoolId : null);
  const grant = useMutation({
    mutationFn: (v: { role: Role; school_id?: string; homeroom_id?: string }) => api('POST', `${base}/memberships`, grantBody(user.id, v)),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key });
      form.resetFields();
      message.success(t('user.granted'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `${base}/memberships/${id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key });
      message.success(t('user.revoked'));
    },
  });
  const grantable = grantableRoles(actorRole);
  return (
    <>
      <ProblemAlert error={list.error || revoke.error} />
      <Table<MembershipView>
        data-testid="memberships-table"
        rowKey="id"
        size="small"
        pagination={false}
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        locale={{ emptyText: t('user.noMemberships') }}
        columns={[
          { title: t('user.role'), dataIndex: 'role', render: (r: Role) => t(`role.${r}`) },
          { title: t('user.scopeType'), key: 's', render: (_, m) => m.school_name ?? t('scope.district') },
          {
            title: t('user.homeroom'),
            key: 'h',
            render: (_, m) => (m.homeroom_id && m.school_id ? <HomeroomName schoolId={m.school_id} homeroomId={m.homeroom_id} /> : '—'),
          },
          { title: t('common.createdAt'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_, m) =>
              grantable.includes(m.role) && (
                <Popconfirm title={t('common.confirmRevoke')} okButtonProps={{ danger: true }} onConfirm={() => revoke.mutate(m.id)}>
                  <Button type="link" size="small" danger data-testid={`revoke-${m.role}`}>{t('common.revoke')}</Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      <Card size="small" title={t('user.grant')} style={{ marginTop: 16 }}>
        <ProblemAlert error={grant.error} formFields={['role', 'school_id', 'homeroom_id']} />
        <Form form={form} layout="vertical" onFinish={(v) => grant.mutate(v)}>
          <Form.Item name="role" label={t('user.role')} rules={[{ required: true }]}>
            <Select
              data-testid="grant-role"
              onChange={() => form.setFieldsValue({ homeroom_id: undefined })}
              options={grantable.map((r) => ({ value: r, label: t('user.roleOption', { role: t(`role.${r}`), scope: t(`scope.${scopeOfRole(r)}`) }) }))}
            />
          </Form.Item>
          {role && scopeOfRole(role) === 'school' && (
            <Form.Item name="school_id" label={t('user.school')} rules={[{ required: true }]}>
              <Select
                data-testid="grant-school"
                loading={schools.isLoading}
                onChange={() => form.setFieldsValue({ homeroom_id: undefined })}
                options={(schools.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
              />
            </Form.Item>
          )}
          {homeroomNeeded && (
            <Form.Item name="homeroom_id" label={t('user.homeroom')} rules={[{ required: true }]}>
              <Select
                data-testid="grant-homeroom"
                disabled={!schoolId}
                loading={units.isLoading}
                options={(units.data ?? []).filter((u) => u.kind === 'homeroom').map((u) => ({ value: u.id, label: u.name }))}
              />
            </Form.Item>
          )}
          <Button data-testid="grant-submit" type="primary" htmlType="submit" loading={grant.isPending}>{t('user.grant')}</Button>
        </Form>
      </Card>
    </>
  );
}
