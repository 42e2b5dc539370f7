import { Card, Col, List, Row, Tag, Typography } from 'antd';
import ReactECharts from 'echarts-for-react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { AuditRow, OrgUnit, Page, Student } from '../api/types';
import { useSession } from '../session';
import { scopeLabel } from '../nav';

export default function Home() {
  const { t } = useTranslation();
  const { me, current } = useSession();
  const schoolId = current?.scope_type === 'school' ? current.school_id : null;
  const readsStudents = current && ['school_leader', 'counselor', 'homeroom_teacher'].includes(current.role);
  const students = useQuery({
    queryKey: ['home-students', schoolId],
    enabled: !!schoolId && !!readsStudents,
    queryFn: () => api<Page<Student>>('GET', `/api/v1/schools/${schoolId}/students?limit=200`),
  });
  const units = useQuery({
    queryKey: ['org-units', schoolId],
    enabled: !!schoolId,
    queryFn: () => api<Page<OrgUnit>>('GET', `/api/v1/schools/${schoolId}/org-units`),
  });
  const auditPath =
    current?.role === 'district_admin'
      ? `/api/v1/districts/${current.district_id}/audit?limit=200`
      : current?.role === 'school_leader'
        ? `/api/v1/schools/${schoolId}/audit?limit=200`
        : null;
  const audit = useQuery({ queryKey: ['home-audit', auditPath], enabled: !!auditPath, queryFn: () => api<Page<AuditRow>>('GET', auditPath!) });

  let chart: { labels: string[]; values: number[]; title: string } | null = null;
  if (students.data && units.data) {
    const grades = units.data.items.filter((u) => !u.parent_id);
    chart = {
      title: t('home.studentsPerGrade'),
      labels: grades.map((g) => g.name),
      values: grades.map((g) => students.data.items.filter((s) => s.grade_id === g.id).length),
    };
  } else if (audit.data) {
    const perDay = new Map<string, number>();
    for (const r of audit.data.items) {
      const d = r.occurred_at.slice(0, 10);
      perDay.set(d, (perDay.get(d) ?? 0) + 1);
    }
    const days = [...perDay.keys()].sort();
    chart = { title: t('home.auditPerDay'), labels: days, values: days.map((d) => perDay.get(d) ?? 0) };
  }
  return (
    <Row gutter={[16, 16]}>
      <Col span={24}>
        <Typography.Title level={3} data-testid="welcome">{t('home.welcome', { name: me?.user.display_name })}</Typography.Title>
      </Col>
      <Col xs={24} lg={10}>
        <Card title={t('home.memberships')}>
          <List
            dataSource={me?.memberships ?? []}
            renderItem={(m) => (
              <List.Item>
                <span>{scopeLabel(m)}</span>
                <Tag color={m.scope_type === 'district' ? 'purple' : 'blue'}>{t(`role.${m.role}`)}</Tag>
              </List.Item>
            )}
          />
        </Card>
        <Card title={t('home.laterTitle')} style={{ marginTop: 16 }}>
          <Typography.Paragraph type="secondary">{t('home.later')}</Typography.Paragraph>
        </Card>
      </Col>
      <Col xs={24} lg={14}>
        {chart && (
          <Card title={chart.title}>
            <ReactECharts
              style={{ height: 320 }}
              option={{
                tooltip: {},
                xAxis: { type: 'category', data: chart.labels },
                yAxis: { type: 'value', minInterval: 1 },
                series: [{ type: 'bar', data: chart.values, itemStyle: { color: '#1677ff' } }],
              }}
            />
          </Card>
        )}
      </Col>
    </Row>
  );
}
