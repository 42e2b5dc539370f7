import { describe, expect, it } from 'vitest';
import {
  categoryLabel, comparison, distribution, downloadHref, hasSuppressed, hoursPerWeek, jobCounts, parseCell, tableRows, trend,
  type JobRun, type Report,
} from '../pages/rollups/data';

const report: Report = {
  measure: 'sessions_channel',
  period_kind: 'month',
  threshold: 5,
  unit: 'students',
  suppressed: true,
  categories: ['phone', 'walk_in'],
  periods: [
    {
      start: '2026-09-01',
      rows: [
        { kind: 'district', key: '', label: '', cells: ['12', '<5'], total: '*' },
        { kind: 'school', key: 's1', label: '一中', cells: ['7', '<5'], total: '*' },
        { kind: 'school', key: 's2', label: '二小', cells: ['5', '0'], total: '5' },
      ],
    },
    {
      start: '2026-10-01',
      rows: [
        { kind: 'district', key: '', label: '', cells: ['*', '9'], total: '20' },
        { kind: 'school', key: 's1', label: '一中', cells: ['<5', '9'], total: '*' },
      ],
    },
  ],
};

describe('district dashboard data', () => {
  it('reads published labels: numbers are values, "<5" and "*" are suppressed, never a number', () => {
    expect(parseCell('12')).toEqual({ value: 12, suppressed: false, text: '12' });
    expect(parseCell('<5')).toEqual({ value: null, suppressed: true, text: '<5' });
    expect(parseCell('*')).toEqual({ value: null, suppressed: true, text: '*' });
    expect(parseCell(undefined)).toEqual({ value: 0, suppressed: false, text: '0' });
  });

  it('draws the district trend with gaps and markers where cells are suppressed', () => {
    const t = trend(report);
    expect(t.periods).toEqual(['2026-09-01', '2026-10-01']);
    expect(t.series).toEqual([
      { category: 'phone', values: [12, null], suppressed: [1] },
      { category: 'walk_in', values: [null, 9], suppressed: [0] },
    ]);
    // A school's own trend.
    expect(trend(report, 'school', 's2').series[0].values).toEqual([5, 0]);
  });

  it('shows the distribution of the last period (or a chosen one) with suppressed slices marked', () => {
    expect(distribution(report)).toEqual([
      { category: 'phone', value: null, text: '*', suppressed: true },
      { category: 'walk_in', value: 9, text: '9', suppressed: false },
    ]);
    expect(distribution(report, '2026-09-01')[1]).toEqual({ category: 'walk_in', value: null, text: '<5', suppressed: true });
    expect(distribution({ ...report, periods: [] })).toEqual([]);
  });

  it('compares the schools of one period, category by category', () => {
    const c = comparison(report, '2026-09-01');
    expect(c.schools).toEqual([{ key: 's1', label: '一中' }, { key: 's2', label: '二小' }]);
    expect(c.series[0].cells.map((x) => x.text)).toEqual(['7', '5']);
    expect(c.series[1].cells.map((x) => x.suppressed)).toEqual([true, false]);
  });

  it('tabulates exactly what the download holds, and links the downloads to the same query', () => {
    const rows = tableRows(report);
    expect(rows).toHaveLength(5);
    expect(rows[1]).toEqual({ key: '2026-09-01|school|s1', period: '2026-09-01', kind: 'school', label: '一中', cells: ['7', '<5'], total: '*' });
    expect(hasSuppressed(report)).toBe(true);
    const plain = { ...report, periods: [{ start: '2026-09-01', rows: [{ kind: 'district' as const, key: '', label: '', cells: ['12', '9'], total: '21' }] }] };
    expect(hasSuppressed(plain)).toBe(false);
    expect(downloadHref('d1', { measure: 'sessions_channel', period_kind: 'month', from: '2026-09-01', to: '2026-10-31' }, 'csv'))
      .toBe('/api/v1/districts/d1/rollups.csv?measure=sessions_channel&period_kind=month&from=2026-09-01&to=2026-10-31');
  });

  it('names categories: translated codes, instrument bands, campaign titles', () => {
    const t = (k: string, o?: { defaultValue: string }) => ({ 'rollups.category.phone': '电话', 'rollups.category.mild': '轻度', 'rollups.category.completed': '已完成' } as Record<string, string>)[k] ?? o?.defaultValue ?? k;
    expect(categoryLabel(report, 'phone', t)).toBe('电话');
    expect(categoryLabel(report, 'phq9:mild', t)).toBe('PHQ9 · 轻度');
    expect(categoryLabel({ category_labels: { 'c1:completed': '秋季测查:completed' } }, 'c1:completed', t)).toBe('秋季测查 · 已完成');
  });

  it('turns open minutes and school days into opening hours per week', () => {
    const room: Report = { ...report, measure: 'room_hours', categories: ['open_minutes', 'school_days'], periods: [] };
    expect(hoursPerWeek(room, { kind: 'school', key: 's1', label: '', cells: ['960', '4'] })).toBe(20);
    expect(hoursPerWeek(room, { kind: 'school', key: 's1', label: '', cells: ['960', '0'] })).toBeNull();
    expect(hoursPerWeek(room, undefined)).toBeNull();
  });

  it('counts job runs by status', () => {
    const run = (status: JobRun['status']): JobRun => ({ id: status, task_type: 'rollup:refresh', district_id: null, status, progress: 0, attempts: 1, error: '', started_at: '', finished_at: null });
    expect(jobCounts([run('queued'), run('done'), run('done'), run('failed')])).toEqual({ queued: 1, running: 0, done: 2, failed: 1 });
  });
});
