import { lazy, Suspense, useEffect } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useNavigate } from 'react-router-dom';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, Spin } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { useTranslation } from 'react-i18next';
import { setUnauthorizedHandler } from './api/client';
import { SessionProvider, useSession } from './session';
import AppLayout from './AppLayout';
import Login from './pages/Login';

const Home = lazy(() => import('./pages/Home'));
const Schools = lazy(() => import('./pages/Schools'));
const Users = lazy(() => import('./pages/Users'));
const OrgUnits = lazy(() => import('./pages/OrgUnits'));
const Staff = lazy(() => import('./pages/Staff'));
const Students = lazy(() => import('./pages/Students'));
const Audit = lazy(() => import('./pages/Audit'));

const queryClient = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false } } });

function Guarded() {
  const { me, loading } = useSession();
  const navigate = useNavigate();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      queryClient.removeQueries();
      navigate('/login');
    });
  }, [navigate]);
  if (loading) return <Spin style={{ margin: 80 }} />;
  if (!me) return <Navigate to="/login" replace />;
  return (
    <AppLayout>
      <Suspense fallback={<Spin style={{ margin: 80 }} />}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/schools" element={<Schools />} />
          <Route path="/users" element={<Users />} />
          <Route path="/org-units" element={<OrgUnits />} />
          <Route path="/staff" element={<Staff />} />
          <Route path="/students" element={<Students />} />
          <Route path="/audit" element={<Audit />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </Suspense>
    </AppLayout>
  );
}

export default function App() {
  const { i18n } = useTranslation();
  const zh = i18n.language !== 'en';
  dayjs.locale(zh ? 'zh-cn' : 'en');
  return (
    <ConfigProvider locale={zh ? zhCN : enUS} theme={{ token: { colorPrimary: '#1677ff' } }}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <SessionProvider>
              <Routes>
                <Route path="/login" element={<Login />} />
                <Route path="/*" element={<Guarded />} />
              </Routes>
            </SessionProvider>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
