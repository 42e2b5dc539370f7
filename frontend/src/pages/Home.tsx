import { lazy, Suspense } from 'react';
import { Alert, Card, Col, Empty, List, Row, Skeleton, Statistic, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { fetchAll } from '../api/client';
import { useOrgUnits } from '../api/hooks';
import type { AuditRow, Membership, School, Student } from '../api/types';
import { useSession } from '../session';
import { scopeLabel } from '../nav';
import ProblemAlert from '../components/ProblemAlert';
import { auditPerDay, homeroomsPerGrade, schoolsPerKind, studentsPerGrade, type Series } from './homeData';

const BarChart = lazy(() => import('../components/BarChart'));

type ChartKind = 'studentsPerGrade' | 'auditPerDay' | 'schoolsPerKind' | 'homeroomsPerGrade';

// chartFor picks the dashboard chart of a membership: data the role may read anyway.
export function chartFor(m: Membership): ChartKind {
  switch (m.role) {
    case 'district_admin':
      return 'auditPerDay';
    case 'district_supervisor':
    case 'researcher':
      return 'schoolsPerKind';
    case 'peer_liaison':
      return 'homeroomsPerGrade';
    default:
      return 'studentsPerGrade';
  }
}

export default function Home() {
  const { t } = useTranslation();
  const { me, current } = useSession();
  if (!me || !current) return null;
  return (
    <Row gutter={[16, 16]}>
      <Col span={24}>
        <Typography.Title level={3} data-testid="welcome" style={{ marginTop: 0 }}>
          {t('home.welcome', { name: me.user.display_name })}
        </Typography.Title>
        <Typography.Text type="secondary">
          {t('home.scope', { scope: scopeLabel(current), role: t(`role.${current.role}`) })}
        </Typography.Text>
      </Col>
      <Col xs={24} lg={10}>
        <Card title={t('home.memberships')} data-testid="memberships">
          <List
            dataSource={me.memberships}
            renderItem={(m) => (
              <List.Item>
                <span>{scopeLabel(m)}</span>
                <Tag color={m.scope_type === 'district' ? 'purple' : 'blue'}>{t(`role.${m.role}`)}</Tag>
              </List.Item>
            )}
          />
        </Card>
      </Col>
      <Col xs={24} lg={14}>
        <Dashboard m={current} />
      </Col>
    </Row>
  );
}

function ChartCard({ title, series, loading, error, note, total }: {
  title: string; series?: Series; loading: boolean; error: unknown; note?: string; total?: { label: string; value: number };
}) {
  const { t } = useTranslation();
  return (
    <Card title={title} data-testid="home-chart" extra={total && <Statistic value={total.value} suffix={total.label} valueStyle={{ fontSize: 16 }} />}>
      <ProblemAlert error={error} />
      {loading ? (
        <Skeleton active />
      ) : series && series.labels.length > 0 ? (
        <Suspense fallback={<Skeleton active />}>
          <BarChart labels={series.labels} values={series.values} seriesName={title} />
        </Suspense>
      ) : (
        !error && <Empty description={t('common.empty')} />
      )}
      {note && <Alert type="info" showIcon message={note} style={{ marginTop: 8 }} />}
    </Card>
  );
}

function Dashboard({ m }: { m: Membership }) {
  const { t } = useTranslation();
  const kind = chartFor(m);
  const schoolId = m.scope_type === 'school' ? m.school_id : null;
  const units = useOrgUnits(kind === 'studentsPerGrade' || kind === 'homeroomsPerGrade' ? schoolId : null);
  const students = useQuery({
    queryKey: ['home-students', schoolId],
    enabled: kind === 'studentsPerGrade' && !!schoolId,
    staleTime: 5 * 60_000,
    queryFn: () => fetchAll<Student>(`/api/v1/schools/${schoolId}/students?status=enrolled`, 5),
  });
  const audit = useQuery({
    queryKey: ['home-audit', m.district_id],
    enabled: kind === 'auditPerDay',
    staleTime: 60_000,
    queryFn: () => fetchAll<AuditRow>(`/api/v1/districts/${m.district_id}/audit`, 1),
  });
  const schools = useQuery({
    queryKey: ['home-schools', m.district_id],
    enabled: kind === 'schoolsPerKind',
    staleTime: 5 * 60_000,
    queryFn: () => fetchAll<School>(`/api/v1/districts/${m.district_id}/schools`, 5),
  });
  switch (kind) {
    case 'studentsPerGrade': {
      const series = students.data && units.data ? studentsPerGrade(students.data.items, units.data) : undefined;
      return (
        <ChartCard
          title={t('home.studentsPerGrade')}
          series={series}
          loading={students.isLoading || units.isLoading}
          error={students.error || units.error}
          total={students.data && { label: t('home.studentsUnit'), value: students.data.items.length }}
          note={students.data?.truncated ? t('home.truncated', { n: students.data.items.length }) : undefined}
        />
      );
    }
    case 'auditPerDay':
      return (
        <ChartCard
          title={t('home.auditPerDay')}
          series={audit.data && auditPerDay(audit.data.items)}
          loading={audit.isLoading}
          error={audit.error}
          note={audit.data ? t('home.auditNote', { n: audit.data.items.length }) : undefined}
        />
      );
    case 'schoolsPerKind': {
      const s = schools.data && schoolsPerKind(schools.data.items);
      return (
        <ChartCard
          title={t('home.schoolsPerKind')}
          series={s && { labels: s.labels.map((k) => t(`school.kind.${k}`)), values: s.values }}
          loading={schools.isLoading}
          error={schools.error}
          total={schools.data && { label: t('home.schoolsUnit'), value: schools.data.items.length }}
        />
      );
    }
    case 'homeroomsPerGrade':
      return (
        <ChartCard
          title={t('home.homeroomsPerGrade')}
          series={units.data && homeroomsPerGrade(units.data)}
          loading={units.isLoading}
          error={units.error}
        />
      );
  }
}
