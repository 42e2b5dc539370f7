import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useNavigate } from 'react-router-dom';
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, ConfigProvider, Spin } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { useTranslation } from 'react-i18next';
import { ApiError, api, setUnauthorizedHandler } from './api/client';
import { SessionProvider, signedOut, useSession } from './session';
import AppLayout from './AppLayout';
import { menuFor, type MenuKey } from './nav';
import Login from './pages/Login';
import MFAEnrol from './components/MFAEnrol';

const Home = lazy(() => import('./pages/Home'));
const Schools = lazy(() => import('./pages/Schools'));
const Users = lazy(() => import('./pages/Users'));
const OrgUnits = lazy(() => import('./pages/OrgUnits'));
const Staff = lazy(() => import('./pages/Staff'));
const Students = lazy(() => import('./pages/Students'));
const Audit = lazy(() => import('./pages/Audit'));
const CaseFiles = lazy(() => import('./pages/CaseFiles'));
const WarningList = lazy(() => import('./pages/WarningList'));
const Inbox = lazy(() => import('./pages/Inbox'));
const Concerns = lazy(() => import('./pages/Concerns'));
const Intake = lazy(() => import('./pages/Intake'));
const ConcernCategories = lazy(() => import('./pages/ConcernCategories'));
const EmergencyReviews = lazy(() => import('./pages/EmergencyReviews'));
const Retention = lazy(() => import('./pages/Retention'));
const Room = lazy(() => import('./pages/Room'));
const Library = lazy(() => import('./pages/Library'));
const TeachingCases = lazy(() => import('./pages/TeachingCases'));
const ClientFiles = lazy(() => import('./pages/ClientFiles'));
const PublicRequest = lazy(() => import('./pages/PublicRequest'));
const Instruments = lazy(() => import('./pages/Instruments'));
const Campaigns = lazy(() => import('./pages/Campaigns'));
const SchoolCampaigns = lazy(() => import('./pages/SchoolCampaigns'));
const ScreeningAlerts = lazy(() => import('./pages/ScreeningAlerts'));
const ScreeningEscalations = lazy(() => import('./pages/ScreeningEscalations'));
const StudentScreening = lazy(() => import('./pages/StudentScreening'));

const Crises = lazy(() => import('./pages/Crises'));
const Referrals = lazy(() => import('./pages/Referrals'));
const Institutions = lazy(() => import('./pages/Institutions'));
const CrisisSettings = lazy(() => import('./pages/CrisisSettings'));
const CrisisBoard = lazy(() => import('./pages/CrisisBoard'));
const ReferralLink = lazy(() => import('./pages/ReferralLink'));

// A partner institution's referral link /r/<token> is public too.
// isPublicPath: pages without an account (a student's questionnaire at /s/<code>, a school's
// public request page at /request/<school>). A 401 there must never send the visitor to the login page.
export function isPublicPath(pathname: string): boolean {
  return pathname.startsWith('/r/') || pathname.startsWith('/s/') || pathname.startsWith('/request/') || pathname.startsWith('/mailbox/');
}
const DistrictPlans = lazy(() => import('./pages/DistrictPlans'));
const Compliance = lazy(() => import('./pages/Compliance'));
const TermPlanReviews = lazy(() => import('./pages/TermPlanReviews'));
const OverdueTasks = lazy(() => import('./pages/OverdueTasks'));
const Liaisons = lazy(() => import('./pages/Liaisons'));
const Dashboard = lazy(() => import('./pages/Dashboard'));
const Jobs = lazy(() => import('./pages/Jobs'));
const Research = lazy(() => import('./pages/Research'));
const Programs = lazy(() => import('./pages/Programs'));
const Barometer = lazy(() => import('./pages/Barometer'));
const BarometerReports = lazy(() => import('./pages/BarometerReports'));
const MailboxInbox = lazy(() => import('./pages/MailboxInbox'));
const PublicMailbox = lazy(() => import('./pages/PublicMailbox'));
const TermSummaries = lazy(() => import('./pages/TermSummaries'));
const SummaryReviews = lazy(() => import('./pages/SummaryReviews'));
const Security = lazy(() => import('./pages/Security'));

// Client errors (4xx) are answers, not glitches: never retry them.
export function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status < 500) return false;
  return failures < 2;
}

export const queryClient = new QueryClient({
  defaultOptions: { queries: { refetchOnWindowFocus: false, retry: shouldRetry }, mutations: { retry: false } },
});

// UnauthorizedBridge sends the browser to the login page whenever any call answers 401.
function UnauthorizedBridge() {
  const navigate = useNavigate();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (isPublicPath(window.location.pathname)) return;
      signedOut(queryClient);
      if (window.location.pathname !== '/login') navigate('/login', { replace: true });
    });
    return () => setUnauthorizedHandler(() => {});
  }, [navigate]);
  return null;
}

// Allowed renders a screen only when the selected membership's menu has it.
function Allowed({ k, children }: { k: MenuKey; children: ReactNode }) {
  const { current } = useSession();
  if (!current || !menuFor(current.role).includes(k)) return <Navigate to="/" replace />;
  return <>{children}</>;
}

// EnrolmentGate is all a session in the enrolment-required stage shows: the server
// refuses every other route until MFA is set up.
function EnrolmentGate() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const logout = async () => {
    try {
      await api('POST', '/api/v1/auth/logout');
    } finally {
      signedOut(qc);
      navigate('/login', { replace: true });
    }
  };
  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: '#f5f7fb' }}>
      <Card style={{ width: 520 }} title={t('security.enrolRequiredTitle')} data-testid="enrolment-gate"
        extra={<Button size="small" onClick={logout}>{t('login.logout')}</Button>}>
        <Alert type="info" showIcon message={t('security.enrolRequiredHint')} style={{ marginBottom: 16 }} />
        <MFAEnrol onDone={() => {
          void qc.invalidateQueries({ queryKey: ['me'] });
          navigate('/', { replace: true });
        }} />
      </Card>
    </div>
  );
}

function Guarded() {
  const { me, loading } = useSession();
  if (loading) return <Spin data-testid="loading" style={{ display: 'block', margin: 80 }} />;
  if (!me) return <Navigate to="/login" replace />;
  if (me.mfa_enrolment_required) return <EnrolmentGate />;
  return (
    <AppLayout>
      <Suspense fallback={<Spin style={{ display: 'block', margin: 80 }} />}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/schools" element={<Allowed k="schools"><Schools /></Allowed>} />
          <Route path="/users" element={<Allowed k="users"><Users /></Allowed>} />
          <Route path="/org-units" element={<Allowed k="orgUnits"><OrgUnits /></Allowed>} />
          <Route path="/staff" element={<Allowed k="staff"><Staff /></Allowed>} />
          <Route path="/students" element={<Allowed k="students"><Students /></Allowed>} />
          <Route path="/audit" element={<Allowed k="audit"><Audit /></Allowed>} />
          <Route path="/case-files" element={<Allowed k="caseFiles"><CaseFiles /></Allowed>} />
          <Route path="/warning-list" element={<Allowed k="warningList"><WarningList /></Allowed>} />
          <Route path="/inbox" element={<Allowed k="inbox"><Inbox /></Allowed>} />
          <Route path="/concerns" element={<Allowed k="concerns"><Concerns /></Allowed>} />
          <Route path="/intake" element={<Allowed k="intake"><Intake /></Allowed>} />
          <Route path="/concern-categories" element={<Allowed k="concernCategories"><ConcernCategories /></Allowed>} />
          <Route path="/retention" element={<Allowed k="retention"><Retention /></Allowed>} />
          <Route path="/room" element={<Allowed k="room"><Room /></Allowed>} />
          <Route path="/library" element={<Allowed k="library"><Library /></Allowed>} />
          <Route path="/teaching-cases" element={<Allowed k="teachingCases"><TeachingCases /></Allowed>} />
          <Route path="/client-files" element={<Allowed k="clientFiles"><ClientFiles /></Allowed>} />
          <Route path="/emergency-reviews" element={<Allowed k="emergencyReviews"><EmergencyReviews /></Allowed>} />
          <Route path="/instruments" element={<Allowed k="instruments"><Instruments /></Allowed>} />
          <Route path="/campaigns" element={<Allowed k="campaigns"><Campaigns /></Allowed>} />
          <Route path="/screening" element={<Allowed k="schoolCampaigns"><SchoolCampaigns /></Allowed>} />
          <Route path="/screening-alerts" element={<Allowed k="screeningAlerts"><ScreeningAlerts /></Allowed>} />
          <Route path="/screening-escalations" element={<Allowed k="screeningEscalations"><ScreeningEscalations /></Allowed>} />
          <Route path="/district-plans" element={<Allowed k="districtPlans"><DistrictPlans /></Allowed>} />
          <Route path="/dashboard" element={<Allowed k="dashboard"><Dashboard /></Allowed>} />
          <Route path="/jobs" element={<Allowed k="jobs"><Jobs /></Allowed>} />
          <Route path="/research" element={<Allowed k="research"><Research /></Allowed>} />
          <Route path="/district-plans/:planId" element={<Allowed k="districtPlans"><Compliance /></Allowed>} />
          <Route path="/district-plans/:planId/term-plans" element={<Allowed k="districtPlans"><TermPlanReviews /></Allowed>} />
          <Route path="/overdue-tasks" element={<Allowed k="overdueTasks"><OverdueTasks /></Allowed>} />
          <Route path="/liaisons" element={<Allowed k="liaisons"><Liaisons /></Allowed>} />
          <Route path="/programs" element={<Allowed k="programs"><Programs /></Allowed>} />
          <Route path="/barometer" element={<Allowed k="barometer"><Barometer /></Allowed>} />
          <Route path="/barometer-reports" element={<Allowed k="barometerReports"><BarometerReports /></Allowed>} />
          <Route path="/mailbox-inbox" element={<Allowed k="mailbox"><MailboxInbox /></Allowed>} />
          <Route path="/term-summaries" element={<Allowed k="termSummaries"><TermSummaries /></Allowed>} />
          <Route path="/summary-reviews" element={<Allowed k="summaryReviews"><SummaryReviews /></Allowed>} />
          <Route path="/crises" element={<Allowed k="crises"><Crises /></Allowed>} />
          <Route path="/referrals" element={<Allowed k="referrals"><Referrals /></Allowed>} />
          <Route path="/institutions" element={<Allowed k="institutions"><Institutions /></Allowed>} />
          <Route path="/crisis-settings" element={<Allowed k="crisisSettings"><CrisisSettings /></Allowed>} />
          <Route path="/crisis-board" element={<Allowed k="crisisBoard"><CrisisBoard /></Allowed>} />
          <Route path="/security" element={<Security />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </Suspense>
    </AppLayout>
  );
}


export default function App() {
  const { t, i18n } = useTranslation();
  const zh = i18n.language !== 'en';
  dayjs.locale(zh ? 'zh-cn' : 'en');
  useEffect(() => {
    document.documentElement.lang = zh ? 'zh-CN' : 'en';
    document.title = t('app.title');
  }, [zh, t]);
  return (
    <ConfigProvider locale={zh ? zhCN : enUS} theme={{ token: { colorPrimary: '#1677ff' } }}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
            <UnauthorizedBridge />
            <Routes>
              {/* A partner institution's referral link: no account, no session lookup, no app layout. */}
              <Route path="/r/:token" element={<Suspense fallback={<Spin style={{ display: 'block', margin: 80 }} />}><ReferralLink /></Suspense>} />
              {/* The student questionnaire: no account, no session lookup, no app layout. */}
              <Route path="/s/:code" element={<Suspense fallback={<Spin style={{ display: 'block', margin: 80 }} />}><StudentScreening /></Suspense>} />
              {/* The public mailbox page: no session, no /me call, never sent to the login page. */}
              <Route path="/mailbox/:schoolId" element={<Suspense fallback={<Spin style={{ display: 'block', margin: 80 }} />}><PublicMailbox /></Suspense>} />
              {/* The school's public request page needs no account and no session. */}
              <Route path="/request/:schoolId" element={<Suspense fallback={<Spin style={{ display: 'block', margin: 80 }} />}><PublicRequest /></Suspense>} />
              <Route path="/*" element={
                <SessionProvider>
                  <Routes>
                    <Route path="/login" element={<Login />} />
                    <Route path="/*" element={<Guarded />} />
                  </Routes>
                </SessionProvider>
              } />
            </Routes>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
