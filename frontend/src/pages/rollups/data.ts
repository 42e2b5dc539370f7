// Data shaping of the district dashboard (统计看板): the published rollups as the API
// serves them (already suppressed) turned into chart series and table rows. Suppressed
// cells ("<5", "*") never become numbers: charts draw them as marked gaps.

export interface Measure {
  name: string;
  additive_categories: boolean;
  additive_over_time: boolean;
  unit: string;
  suppressed: boolean;
}

export interface ReportRow {
  kind: 'district' | 'school' | 'grade' | 'gender';
  key: string;
  label: string;
  cells: string[];
  total?: string;
}

export interface ReportPeriod {
  start: string;
  rows: ReportRow[];
}

export interface Report {
  measure: string;
  period_kind: 'week' | 'month' | 'term';
  threshold: number;
  unit: string;
  suppressed: boolean;
  categories: string[];
  category_labels?: Record<string, string>;
  periods: ReportPeriod[];
}

export interface JobRun {
  id: string;
  task_type: string;
  district_id: string | null;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  attempts: number;
  error: string;
  started_at: string;
  finished_at: string | null;
}

// Cell is one published value: a number, or suppressed with the text to show.
export interface Cell {
  value: number | null;
  suppressed: boolean;
  text: string;
}

// parseCell reads a published label: "12" → 12; "<5" and "*" → suppressed.
export function parseCell(label: string | undefined): Cell {
  if (label === undefined || label === '') return { value: 0, suppressed: false, text: '0' };
  if (/^\d+$/.test(label)) return { value: Number(label), suppressed: false, text: label };
  return { value: null, suppressed: true, text: label };
}

// categoryLabel names a category for people: translated codes, campaign titles, the
// instrument:band pairs of screening.
export function categoryLabel(report: Pick<Report, 'category_labels'>, category: string, t: (k: string, o?: { defaultValue: string }) => string): string {
  const named = report.category_labels?.[category];
  if (named) {
    const [title, status] = splitLast(named);
    return status ? `${title} · ${t(`rollups.category.${status}`, { defaultValue: status })}` : named;
  }
  const [head, tail] = splitLast(category);
  if (tail) return `${head.toUpperCase()} · ${t(`rollups.category.${tail}`, { defaultValue: tail })}`;
  return t(`rollups.category.${category}`, { defaultValue: category });
}

function splitLast(s: string): [string, string] {
  const i = s.lastIndexOf(':');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

export interface Series {
  category: string;
  // One point per period; null where the cell is suppressed.
  values: (number | null)[];
  // Indexes of suppressed points (drawn as markers at the axis).
  suppressed: number[];
}

// rowOf finds a row (the district when kind is district) in a period.
export function rowOf(p: ReportPeriod, kind: ReportRow['kind'], key = ''): ReportRow | undefined {
  return p.rows.find((r) => r.kind === kind && (kind === 'district' || r.key === key));
}

// trend is the district row (or another row) of every period, one series per category.
export function trend(report: Report, kind: ReportRow['kind'] = 'district', key = ''): { periods: string[]; series: Series[] } {
  const periods = report.periods.map((p) => p.start);
  const series = report.categories.map((category, i) => {
    const values: (number | null)[] = [];
    const suppressed: number[] = [];
    report.periods.forEach((p, j) => {
      const c = parseCell(rowOf(p, kind, key)?.cells[i]);
      values.push(c.value);
      if (c.suppressed) suppressed.push(j);
    });
    return { category, values, suppressed };
  });
  return { periods, series };
}

export interface Slice {
  category: string;
  value: number | null;
  text: string;
  suppressed: boolean;
}

// distribution is one period's district row by category (the last period by default).
export function distribution(report: Report, start?: string): Slice[] {
  const p = start ? report.periods.find((x) => x.start === start) : report.periods[report.periods.length - 1];
  if (!p) return [];
  const row = rowOf(p, 'district');
  return report.categories.map((category, i) => {
    const c = parseCell(row?.cells[i]);
    return { category, value: c.value, text: c.text, suppressed: c.suppressed };
  });
}

export interface Comparison {
  schools: { key: string; label: string }[];
  // Per category: one cell per school.
  series: { category: string; cells: Cell[] }[];
}

// comparison lines the schools up in one period, per category.
export function comparison(report: Report, start?: string): Comparison {
  const p = start ? report.periods.find((x) => x.start === start) : report.periods[report.periods.length - 1];
  const rows = (p?.rows ?? []).filter((r) => r.kind === 'school');
  return {
    schools: rows.map((r) => ({ key: r.key, label: r.label })),
    series: report.categories.map((category, i) => ({ category, cells: rows.map((r) => parseCell(r.cells[i])) })),
  };
}

// hasSuppressed tells whether anything in the report is suppressed.
export function hasSuppressed(report: Report): boolean {
  return report.periods.some((p) => p.rows.some((r) => r.cells.some((c) => parseCell(c).suppressed) || parseCell(r.total).suppressed));
}

export interface TableRow {
  key: string;
  period: string;
  kind: ReportRow['kind'];
  label: string;
  cells: string[];
  total?: string;
}

// tableRows flattens the report exactly as the CSV/XLSX download does: period, row,
// categories, total.
export function tableRows(report: Report): TableRow[] {
  return report.periods.flatMap((p) =>
    p.rows.map((r) => ({ key: `${p.start}|${r.kind}|${r.key}`, period: p.start, kind: r.kind, label: r.label, cells: r.cells, total: r.total })),
  );
}

export interface Query {
  measure: string;
  period_kind: 'week' | 'month' | 'term';
  from: string;
  to: string;
}

export function queryString(q: Query): string {
  return new URLSearchParams({ measure: q.measure, period_kind: q.period_kind, from: q.from, to: q.to }).toString();
}

// downloadHref is the download of exactly what the dashboard shows.
export function downloadHref(district: string, q: Query, format: 'csv' | 'xlsx'): string {
  return `/api/v1/districts/${district}/rollups.${format}?${queryString(q)}`;
}

// hoursPerWeek turns the room_hours cells (open minutes, school days) into opening hours
// per five-day week; null when either is unknown or no school day counted.
export function hoursPerWeek(report: Report, row: ReportRow | undefined): number | null {
  if (!row) return null;
  const m = parseCell(row.cells[report.categories.indexOf('open_minutes')]);
  const d = parseCell(row.cells[report.categories.indexOf('school_days')]);
  if (m.value === null || d.value === null || d.value === 0) return null;
  return Math.round((m.value / d.value) * 5 / 6) / 10;
}

// jobStatusColor colours a job run's status tag.
export const jobStatusColor: Record<JobRun['status'], string> = { queued: 'default', running: 'processing', done: 'success', failed: 'error' };

// jobCounts counts runs by status.
export function jobCounts(runs: JobRun[]): Record<JobRun['status'], number> {
  const out = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of runs) out[r.status]++;
  return out;
}
