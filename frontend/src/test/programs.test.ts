import { describe, expect, it } from 'vitest';
import dayjs from 'dayjs';
import { activityTypesFor, cleanIndicator, countByStatus, fieldPath, formatCell, indicatorKinds, targetMax } from '../pages/programs/data';
import { activityBody } from '../pages/Programs';

describe('district plans and school programs', () => {
  it('offers the activity types each indicator kind may count', () => {
    expect(activityTypesFor('activity_count')).toContain('lecture');
    expect(activityTypesFor('hours')).toEqual(['staff_training', 'room_hours', 'liaison_training']);
    expect(activityTypesFor('activity_count')).toContain('liaison_meeting');
    expect(activityTypesFor('percentage')).toEqual([]);
    expect(activityTypesFor('yes_no')).toEqual([]);
  });

  it('sends only the fields an indicator kind uses', () => {
    expect(cleanIndicator({ code: 'yn', name: '制度', kind: 'yes_no', activity_type: 'lecture', metric: 'x', target: 5 })).toEqual({
      code: 'yn', name: '制度', kind: 'yes_no', target: 1,
    });
    expect(cleanIndicator({ code: 'p', name: '覆盖', kind: 'percentage', activity_type: 'lecture', metric: 'liaison_coverage', target: 90 })).toEqual({
      code: 'p', name: '覆盖', kind: 'percentage', metric: 'liaison_coverage', target: 90,
    });
  });

  it('formats a cell by its kind and counts statuses', () => {
    expect(formatCell({ kind: 'activity_count', value: 2, target: 2 }, '是', '否')).toBe('2 / 2');
    expect(formatCell({ kind: 'percentage', value: 85.5, target: 95 }, '是', '否')).toBe('85.5% / 95%');
    expect(formatCell({ kind: 'hours', value: 8, target: 8 }, '是', '否')).toBe('8h / 8h');
    expect(formatCell({ kind: 'yes_no', value: 0, target: 1 }, '是', '否')).toBe('否');
    expect(countByStatus([{ school_id: 's', school_name: 'S', cells: [
      { code: 'a', kind: 'yes_no', value: 1, target: 1, status: 'met' },
      { code: 'b', kind: 'hours', value: 0, target: 8, status: 'at_risk' },
    ] }])).toEqual({ met: 1, on_track: 0, at_risk: 1, missed: 0 });
  });

  it('offers the counseling-room kinds with their own targets and formats', () => {
    expect(indicatorKinds).toEqual(expect.arrayContaining(['room_open_hours', 'room_response_rate']));
    expect(activityTypesFor('room_open_hours')).toEqual([]);
    expect(cleanIndicator({ code: 'room', name: '开放', kind: 'room_open_hours', activity_type: 'room_hours', metric: 'x', target: 20 })).toEqual({
      code: 'room', name: '开放', kind: 'room_open_hours', target: 20,
    });
    expect(targetMax('room_open_hours')).toBe(168);
    expect(targetMax('room_response_rate')).toBe(100);
    expect(formatCell({ kind: 'room_open_hours', value: 36.5, target: 40 }, '是', '否')).toBe('36.5h / 40h');
    expect(formatCell({ kind: 'room_response_rate', value: 100, target: 90 }, '是', '否')).toBe('100% / 90%');
  });

  it('maps server field names onto form paths', () => {
    expect(fieldPath('indicators[2].target')).toEqual(['indicators', 2, 'target']);
    expect(fieldPath('title')).toEqual(['title']);
  });

  it('builds an activity body with group details only for group sessions', () => {
    const common = { title: 'T', held_on: dayjs('2026-10-01'), audience: 'students', audience_size: 12, attendance: 10 };
    expect(activityBody('t1', { ...common, type: 'lecture' })).toEqual({
      term_id: 't1', type: 'lecture', title: 'T', held_on: '2026-10-01', audience: 'students', audience_size: 12, attendance: 10,
    });
    const g = activityBody('t1', { ...common, type: 'group_session', theme: '人际', sessions: 6, facilitators: '王老师，李老师', confidentiality_rule: '不外传' });
    expect(g.details).toEqual({ theme: '人际', sessions: 6, facilitators: ['王老师', '李老师'], confidentiality_rule: '不外传' });
  });
});

describe('barometer', () => {
  it('knows when this week has been filed', async () => {
    const { filedThisWeek } = await import('../pages/Barometer');
    const r = { id: 'r', homeroom_id: 'h', homeroom_name: 'H', mood: 3, concerns: [], named: false, submitted_at: '' };
    expect(filedThisWeek({ week_start: '2026-11-30', reports: [] })).toBe(false);
    expect(filedThisWeek({ week_start: '2026-11-30', reports: [{ ...r, week_start: '2026-11-23' }] })).toBe(false);
    expect(filedThisWeek({ week_start: '2026-11-30', reports: [{ ...r, week_start: '2026-11-30' }] })).toBe(true);
    expect(filedThisWeek(undefined)).toBe(false);
  });
});

describe('public mailbox', () => {
  it('sends no name with an anonymous message', async () => {
    const { mailboxBody } = await import('../pages/PublicMailbox');
    expect(mailboxBody({ anonymous: true, name: '小明', homeroom: '七(1)班', body: '你好' })).toEqual({ anonymous: true, body: '你好' });
    expect(mailboxBody({ anonymous: false, name: '小明', body: '你好' })).toEqual({ anonymous: false, name: '小明', homeroom: '', body: '你好' });
  });
});

describe('term summaries', () => {
  it('offers the district the verdicts a status allows', async () => {
    const { reviewActions, exportPath } = await import('../pages/programs/summary');
    expect(reviewActions('submitted')).toEqual(['approve', 'return']);
    expect(reviewActions('approved')).toEqual(['reopen']);
    expect(reviewActions('draft')).toEqual([]);
    expect(reviewActions('returned')).toEqual([]);
    expect(exportPath('s', 't', 'pdf')).toBe('/api/v1/schools/s/term-summaries/t/export?format=pdf');
  });
});
