import { useMemo, useState } from 'react';
import { Alert, Button, Card, Col, DatePicker, Row, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs, { type Dayjs } from 'dayjs';
import ReactECharts from 'echarts-for-react';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert from '../components/ProblemAlert';
import {
  categoryLabel, comparison, distribution, downloadHref, hasSuppressed, parseCell, queryString, tableRows, trend,
  type Measure, type Query, type Report, type TableRow,
} from './rollups/data';

// Hatching for suppressed cells, in the table and in the charts (decal).
const hatched = { background: 'repeating-linear-gradient(45deg, #fafafa, #fafafa 4px, #d9d9d9 4px, #d9d9d9 6px)', color: '#595959' };
const decal = { symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: -Math.PI / 4, color: 'rgba(0,0,0,0.35)' };

// barPoint is a bar of a chart: a suppressed cell is a hatched stub labelled "<5" or "*".
function barPoint(c: { suppressed: boolean; value: number | null; text: string }) {
  if (c.suppressed) return { value: 0, itemStyle: { color: '#d9d9d9', decal }, label: { show: true, position: 'top', formatter: c.text } };
  return { value: c.value };
}

// CellText marks a suppressed cell ("<5" or "*") with hatching and an explanation.
export function CellText({ label, threshold }: { label: string | undefined; threshold: number }) {
  const { t } = useTranslation();
  const c = parseCell(label);
  if (!c.suppressed) return <span>{c.text}</span>;
  return (
    <Tooltip title={c.text === '*' ? t('rollups.hiddenHint') : t('rollups.smallHint', { k: threshold })}>
      <Tag data-testid="suppressed-cell" style={hatched}>{c.text}</Tag>
    </Tooltip>
  );
}

// Dashboard is the district dashboard (统计看板): trends over periods, the distribution
// of one period and the comparison of the schools, as ECharts charts, from the published
// (suppressed) rollups; the table below is exactly what the CSV/XLSX downloads hold.
export default function Dashboard() {
  const { t } = useTranslation();
  const { current } = useSession();
  const district = current?.district_id ?? '';
  const [measure, setMeasure] = useState('sessions_channel');
  const [kind, setKind] = useState<Query['period_kind']>('month');
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().subtract(11, 'month').startOf('month'), dayjs()]);
  const query: Query = { measure, period_kind: kind, from: range[0].format('YYYY-MM-DD'), to: range[1].format('YYYY-MM-DD') };
  const measures = useQuery({
    queryKey: ['rollup-measures', district],
    queryFn: () => api<{ items: Measure[] }>('GET', `/api/v1/districts/${district}/rollup-measures`),
  });
  const report = useQuery({
    queryKey: ['rollups', district, queryString(query)],
    queryFn: () => api<Report>('GET', `/api/v1/districts/${district}/rollups?${queryString(query)}`),
  });
  const r = report.data;
  const label = (c: string) => (r ? categoryLabel(r, c, t) : c);
  const charts = useMemo(() => {
    if (!r) return null;
    const tr = trend(r);
    const dist = distribution(r);
    const cmp = comparison(r);
    const trendOption = {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: tr.periods },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        ...tr.series.map((s) => ({ name: label(s.category), type: 'line', connectNulls: false, data: s.values })),
        {
          name: t('rollups.suppressedLegend'), type: 'scatter', symbol: 'rect', symbolSize: 12, itemStyle: { color: '#bfbfbf', decal },
          label: { show: true, position: 'top', formatter: (p: { data: [number, number, string] }) => p.data[2] },
          data: tr.series.flatMap((s) => s.suppressed.map((j) => [j, 0, parseCell(r.periods[j].rows.find((x) => x.kind === 'district')?.cells[r.categories.indexOf(s.category)]).text])),
        },
      ],
      aria: { enabled: true, decal: { show: false } },
    };
    const distOption = {
      tooltip: { trigger: 'item' },
      grid: { left: 40, right: 16, top: 20, bottom: 60 },
      xAxis: { type: 'category', data: dist.map((d) => label(d.category)), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{
        type: 'bar',
        data: dist.map(barPoint),
      }],
    };
    const cmpOption = {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: cmp.schools.map((s) => s.label), axisLabel: { interval: 0, rotate: cmp.schools.length > 6 ? 30 : 0 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: cmp.series.map((s) => ({
        name: label(s.category), type: 'bar', stack: r.suppressed ? undefined : 'total',
        data: s.cells.map(barPoint),
      })),
    };
    return { trendOption, distOption, cmpOption, last: dist.length ? r.periods[r.periods.length - 1]?.start : undefined };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [r, t]);
  const rows = r ? tableRows(r) : [];
  const m = measures.data?.items.find((x) => x.name === measure);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Card title={t('rollups.title')}>
        <Space wrap>
          <Select data-testid="rollup-measure" style={{ width: 260 }} value={measure} onChange={setMeasure}
            options={(measures.data?.items ?? []).map((x) => ({ value: x.name, label: t(`rollups.measure.${x.name}`, { defaultValue: x.name }) }))} />
          <Select data-testid="rollup-period" style={{ width: 120 }} value={kind} onChange={setKind}
            options={(['week', 'month', 'term'] as const).map((k) => ({ value: k, label: t(`rollups.period.${k}`) }))} />
          <DatePicker.RangePicker value={range} allowClear={false} onChange={(v) => v && v[0] && v[1] && setRange([v[0], v[1]])} />
          <Button data-testid="rollup-csv" icon={<DownloadOutlined />} href={downloadHref(district, query, 'csv')} download>CSV</Button>
          <Button data-testid="rollup-xlsx" icon={<DownloadOutlined />} href={downloadHref(district, query, 'xlsx')} download>XLSX</Button>
        </Space>
        <ProblemAlert error={report.error ?? measures.error} />
        {r && (
          <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
            {m?.suppressed !== false ? t('rollups.suppressionNote', { k: r.threshold }) : t('rollups.notSuppressedNote')}
            {' '}{t(`rollups.unit.${r.unit}`, { defaultValue: r.unit })}
          </Typography.Paragraph>
        )}
        {r && hasSuppressed(r) && <Alert style={{ marginTop: 8 }} type="info" showIcon message={t('rollups.hasSuppressed', { k: r.threshold })} />}
      </Card>
      {charts && r && r.periods.length > 0 && (
        <Row gutter={16}>
          <Col xs={24} xl={24}>
            <Card size="small" title={t('rollups.trend')}>
              <div data-testid="chart-trend"><ReactECharts option={charts.trendOption} notMerge style={{ height: 300 }} /></div>
            </Card>
          </Col>
          <Col xs={24} xl={12} style={{ marginTop: 16 }}>
            <Card size="small" title={t('rollups.distribution', { period: charts.last })}>
              <div data-testid="chart-distribution"><ReactECharts option={charts.distOption} notMerge style={{ height: 300 }} /></div>
            </Card>
          </Col>
          <Col xs={24} xl={12} style={{ marginTop: 16 }}>
            <Card size="small" title={t('rollups.comparison', { period: charts.last })}>
              <div data-testid="chart-comparison"><ReactECharts option={charts.cmpOption} notMerge style={{ height: 300 }} /></div>
            </Card>
          </Col>
        </Row>
      )}
      {r && r.periods.length === 0 && !report.isLoading && <Alert type="info" message={t('rollups.empty')} />}
      <Card size="small" title={t('rollups.table')}>
        <Table<TableRow>
          data-testid="rollup-table"
          rowKey="key"
          size="small"
          loading={report.isLoading}
          dataSource={rows}
          pagination={{ pageSize: 50 }}
          scroll={{ x: true }}
          columns={[
            { title: t('rollups.periodCol'), dataIndex: 'period', fixed: 'left' },
            { title: t('rollups.rowCol'), key: 'row', render: (_: unknown, x) => (x.kind === 'district' ? t('rollups.district') : `${t(`rollups.rowKind.${x.kind}`)} · ${rowName(x, t)}`) },
            ...(r?.categories ?? []).map((c, i) => ({
              title: label(c), key: c, render: (_: unknown, x: TableRow) => <CellText label={x.cells[i]} threshold={r?.threshold ?? 5} />,
            })),
            ...(m?.additive_categories ? [{ title: t('rollups.total'), key: '#total', render: (_: unknown, x: TableRow) => <CellText label={x.total} threshold={r?.threshold ?? 5} /> }] : []),
          ]}
        />
      </Card>
    </Space>
  );
}

function rowName(x: TableRow, t: (k: string, o?: { defaultValue: string }) => string): string {
  if (x.kind === 'gender') return t(`rollups.gender.${x.label}`, { defaultValue: x.label });
  return x.label;
}
