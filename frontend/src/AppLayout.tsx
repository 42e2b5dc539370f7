import type { ReactNode } from 'react';
import { Button, Layout, Menu, Select, Space, Typography } from 'antd';
import {
  AuditOutlined, BankOutlined, HomeOutlined, LogoutOutlined, ApartmentOutlined, TeamOutlined, UserOutlined, IdcardOutlined,
} from '@ant-design/icons';
import { useLocation, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { api } from './api/client';
import { useSession } from './session';
import { menuFor, scopeLabel, type MenuKey } from './nav';
import LanguageSwitch from './LanguageSwitch';

const paths: Record<MenuKey, string> = {
  home: '/', schools: '/schools', users: '/users', orgUnits: '/org-units', staff: '/staff', students: '/students', audit: '/audit',
};
const icons: Record<MenuKey, ReactNode> = {
  home: <HomeOutlined />, schools: <BankOutlined />, users: <UserOutlined />, orgUnits: <ApartmentOutlined />,
  staff: <IdcardOutlined />, students: <TeamOutlined />, audit: <AuditOutlined />,
};

export default function AppLayout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { me, current, select } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const keys = current ? menuFor(current.role) : (['home'] as MenuKey[]);
  const selected = keys.find((k) => paths[k] === location.pathname) ?? 'home';
  const logout = async () => {
    try {
      await api('POST', '/api/v1/auth/logout');
    } finally {
      qc.clear();
      navigate('/login');
    }
  };
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={220}>
        <div style={{ padding: '20px 24px' }}>
          <Typography.Title level={4} style={{ margin: 0 }}>{t('app.name')}</Typography.Title>
          <Typography.Text type="secondary">{t('app.subtitle')}</Typography.Text>
        </div>
        <Menu
          data-testid="nav"
          mode="inline"
          selectedKeys={[selected]}
          items={keys.map((k) => ({ key: k, icon: icons[k], label: <span data-testid={`nav-${k}`}>{t(`menu.${k}`)}</span> }))}
          onClick={({ key }) => navigate(paths[key as MenuKey])}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 16 }}>
          <Space>
            {me && me.memberships.length > 0 && (
              <Select
                data-testid="scope-select"
                style={{ minWidth: 260 }}
                value={current?.id}
                onChange={(id) => {
                  select(id);
                  navigate('/');
                }}
                options={me.memberships.map((m) => ({ value: m.id, label: `${scopeLabel(m)} · ${t(`role.${m.role}`)}` }))}
              />
            )}
            <Typography.Text data-testid="current-user">{me?.user.display_name}</Typography.Text>
            <LanguageSwitch />
            <Button data-testid="logout" icon={<LogoutOutlined />} onClick={logout}>
              {t('login.logout')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
