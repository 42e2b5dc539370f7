import { useState, type ReactNode } from 'react';
import { Button, Layout, Menu, Select, Space, Tag, Typography } from 'antd';
import {
  ApartmentOutlined, AlertOutlined, AuditOutlined, FolderOpenOutlined, BankOutlined, HomeOutlined, IdcardOutlined, InboxOutlined, FlagOutlined, SolutionOutlined, LogoutOutlined, FieldTimeOutlined, SafetyCertificateOutlined, CalendarOutlined, ReadOutlined, BookOutlined, TagsOutlined, TeamOutlined, UserOutlined, FormOutlined, ScheduleOutlined, BellOutlined, RiseOutlined, ProjectOutlined, CloudOutlined, MailOutlined, FileDoneOutlined, FileSearchOutlined, ContactsOutlined,
  ThunderboltOutlined, SendOutlined, MedicineBoxOutlined, SettingOutlined, EyeOutlined, ClockCircleOutlined, UsergroupAddOutlined, BarChartOutlined, DashboardOutlined, ExperimentOutlined,
} from '@ant-design/icons';
import { useLocation, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { api } from './api/client';
import { signedOut, useSession } from './session';
import { menuFor, menuPaths, scopeLabel, type MenuKey } from './nav';
import LanguageSwitch from './LanguageSwitch';
import NotificationBell from './components/NotificationBell';
import AccountDialog from './components/AccountDialog';

const icons: Record<MenuKey, ReactNode> = {
  home: <HomeOutlined />, schools: <BankOutlined />, users: <UserOutlined />, orgUnits: <ApartmentOutlined />,
  staff: <IdcardOutlined />, students: <TeamOutlined />, caseFiles: <FolderOpenOutlined />, warningList: <AlertOutlined />,
  audit: <AuditOutlined />, inbox: <InboxOutlined />, concerns: <FlagOutlined />, intake: <SolutionOutlined />, concernCategories: <TagsOutlined />, emergencyReviews: <SafetyCertificateOutlined />, retention: <FieldTimeOutlined />, room: <CalendarOutlined />, library: <ReadOutlined />, teachingCases: <BookOutlined />,
  instruments: <FormOutlined />, campaigns: <ScheduleOutlined />, schoolCampaigns: <ScheduleOutlined />, screeningAlerts: <BellOutlined />,
  screeningEscalations: <RiseOutlined />,
  districtPlans: <ProjectOutlined />, programs: <CalendarOutlined />, barometer: <CloudOutlined />, barometerReports: <CloudOutlined />, mailbox: <MailOutlined />, termSummaries: <FileDoneOutlined />, summaryReviews: <FileSearchOutlined />,
  clientFiles: <ContactsOutlined />,
  crises: <ThunderboltOutlined />, referrals: <SendOutlined />, institutions: <MedicineBoxOutlined />, crisisSettings: <SettingOutlined />, crisisBoard: <EyeOutlined />,
  overdueTasks: <ClockCircleOutlined />, liaisons: <UsergroupAddOutlined />,
  dashboard: <BarChartOutlined />, jobs: <DashboardOutlined />, research: <ExperimentOutlined />,
};

export default function AppLayout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { me, current, select } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const [leaving, setLeaving] = useState(false);
  const [account, setAccount] = useState(false);
  const keys = current ? menuFor(current.role) : (['home'] as MenuKey[]);
  const selected = keys.find((k) => menuPaths[k] === location.pathname) ?? 'home';
  const memberships = me?.memberships ?? [];
  const logout = async () => {
    setLeaving(true);
    try {
      await api('POST', '/api/v1/auth/logout');
    } catch {
      /* the session may already be gone; forget it here either way */
    } finally {
      signedOut(qc);
      setLeaving(false);
      navigate('/login', { replace: true });
    }
  };
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={220} style={{ borderRight: '1px solid #f0f0f0' }}>
        <div style={{ padding: '20px 24px' }}>
          <Typography.Title level={4} style={{ margin: 0, color: '#1677ff' }}>{t('app.name')}</Typography.Title>
          <Typography.Text type="secondary">{t('app.subtitle')}</Typography.Text>
        </div>
        <Menu
          data-testid="nav"
          mode="inline"
          style={{ borderInlineEnd: 'none' }}
          selectedKeys={[selected]}
          items={keys.map((k) => ({ key: k, icon: icons[k], label: <span data-testid={`nav-${k}`}>{t(`menu.${k}`)}</span> }))}
          onClick={({ key }) => navigate(menuPaths[key as MenuKey])}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 16, borderBottom: '1px solid #f0f0f0', paddingInline: 24 }}
        >
          <Space size="middle" wrap>
            {memberships.length > 1 ? (
              <Space size={4}>
                <Typography.Text type="secondary">{t('scope.select')}</Typography.Text>
                <Select
                  data-testid="scope-select"
                  style={{ minWidth: 260 }}
                  value={current?.id}
                  aria-label={t('scope.select')}
                  onChange={(id: string) => {
                    select(id);
                    navigate('/');
                  }}
                  options={memberships.map((m) => ({ value: m.id, label: `${scopeLabel(m)} · ${t(`role.${m.role}`)}` }))}
                />
              </Space>
            ) : (
              current && (
                <span data-testid="scope-label">
                  {scopeLabel(current)} <Tag color={current.scope_type === 'district' ? 'purple' : 'blue'}>{t(`role.${current.role}`)}</Tag>
                </span>
              )
            )}
            <NotificationBell />
            <Button type="text" data-testid="current-user" aria-label={t('notifications.account')} onClick={() => setAccount(true)}>
              <Typography.Text strong>
                <UserOutlined /> {me?.user.display_name}
              </Typography.Text>
            </Button>
            <Button type="text" data-testid="nav-security" icon={<SafetyCertificateOutlined />} aria-label={t('security.menu')} title={t('security.menu')} onClick={() => navigate('/security')} />
            <LanguageSwitch />
            <Button data-testid="logout" icon={<LogoutOutlined />} onClick={logout} loading={leaving}>
              {t('login.logout')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>{children}</Layout.Content>
        <AccountDialog open={account} onClose={() => setAccount(false)} />
      </Layout>
    </Layout>
  );
}
