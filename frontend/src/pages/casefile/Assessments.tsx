import { lazy, Suspense, useState } from 'react';
import { Card, Drawer, Empty, Spin, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { pick, trendSeries, type Assessment, type Trend } from '../../api/screening';
import ProblemAlert from '../../components/ProblemAlert';
import { AssessmentSheet } from '../ScreeningAlerts';

// ECharts loads only when a student has a trend to draw.
const LineChart = lazy(() => import('../../components/LineChart'));

// markOf: a reliable worsening is drawn as an upward mark, an improvement downward.
function markOf(change?: 'improved' | 'worsened'): 'up' | 'down' | undefined {
  if (change === 'worsened') return 'up';
  if (change === 'improved') return 'down';
  return undefined;
}

// AssessmentHistory: a student's screening results across campaigns and sessions — the
// trend per instrument (reliable changes marked) and every sheet. Counselors only.
export default function AssessmentHistory({ school, studentId }: { school: string; studentId: string }) {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['assessments', school, studentId],
    queryFn: () => api<{ items: Assessment[]; trend: Trend[] }>('GET', `/api/v1/schools/${school}/students/${studentId}/assessments`),
  });
  const series = trendSeries(q.data?.trend ?? []);
  const changes = (q.data?.trend ?? []).flatMap((tr) => tr.points.filter((p) => p.reliable_change && p.reliable_change !== 'none').map((p) => ({ ...p, code: tr.instrument_code })));
  return (
    <div data-testid="assessment-history">
      <ProblemAlert error={q.error} />
      {q.data && q.data.items.length === 0 && <Empty description={t('screening.assessment.none')} />}
      {series.length > 0 && (
        <Card size="small" title={t('screening.assessment.trend')} style={{ marginBottom: 16 }} data-testid="assessment-trend">
          <Suspense fallback={<Spin />}>
          <LineChart
            series={series.map((s) => ({
              name: s.code.toUpperCase(),
              points: s.points.map((p) => ({ x: dayjs(p.at).format('YYYY-MM-DD'), y: p.total, mark: markOf(p.change) })),
            }))}
          />
          </Suspense>
          {changes.map((c) => (
            <Typography.Paragraph key={`${c.code}-${c.at}`} style={{ margin: 0 }} data-testid="reliable-change">
              <Tag color={c.reliable_change === 'worsened' ? 'red' : 'green'}>{t(`screening.assessment.change.${c.reliable_change}`)}</Tag>
              {c.code.toUpperCase()} · {dayjs(c.at).format('YYYY-MM-DD')}{c.rci !== undefined ? ` · RCI ${c.rci.toFixed(2)}` : ''}
            </Typography.Paragraph>
          ))}
        </Card>
      )}
      {q.data && q.data.items.length > 0 && (
        <Table
          size="small"
          rowKey="id"
          dataSource={q.data.items}
          pagination={false}
          onRow={(a) => ({ onClick: () => setOpen(a.id), style: { cursor: 'pointer' } })}
          columns={[
            { title: t('screening.assessment.takenAt'), dataIndex: 'taken_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
            { title: t('screening.alert.instrument'), dataIndex: 'instrument_code', render: (v: string, a: Assessment) => `${v.toUpperCase()} v${a.instrument_version}` },
            { title: t('screening.assessment.source'), dataIndex: 'source', render: (v: string) => t(`screening.assessment.sourceValue.${v}`) },
            { title: t('screening.assessment.total'), dataIndex: 'total' },
            { title: t('screening.assessment.band'), key: 'band', render: (_, a: Assessment) => pick(a.band_label, i18n.language) || a.band },
            {
              title: '',
              key: 'flags',
              render: (_, a: Assessment) => (
                <>
                  {a.critical?.length > 0 && <Tag color="red">{t('screening.assessment.criticalShort')}</Tag>}
                  {!a.valid && <Tag color="default">{t('screening.assessment.invalid')}</Tag>}
                </>
              ),
            },
          ]}
        />
      )}
      <Drawer open={!!open} width={520} title={t('screening.alert.sheet')} onClose={() => setOpen(null)} destroyOnHidden>
        {open && <AssessmentSheet school={school} id={open} />}
      </Drawer>
    </div>
  );
}
