import { describe, expect, it } from 'vitest';
import { answersBody, countByKind, editable, groupBySchool, inboxKey, missingAnswers, type OverdueTask } from '../pages/programs/termplan';
import { zhCN, en } from '../locales';

const task = (school: string, kind: OverdueTask['kind']): OverdueTask => ({
  school_id: school, school_name: `学校${school}`, kind, plan_id: null, plan_title: '', term_id: 't', term_name: '学期', indicator_code: '', indicator_name: '',
  due_on: '2026-10-01', days_overdue: 3,
});

describe('term plans', () => {
  it('are edited while a draft or returned, never once submitted or accepted', () => {
    expect(editable('draft')).toBe(true);
    expect(editable('returned')).toBe(true);
    expect(editable('submitted')).toBe(false);
    expect(editable('accepted')).toBe(false);
  });

  it('list the indicators still lacking a planned date or an owner', () => {
    expect(missingAnswers([
      { indicator_code: 'a', planned_dates: ['2026-10-01'], owner_ids: ['u'], note: '' },
      { indicator_code: 'b', planned_dates: [], owner_ids: ['u'], note: '' },
      { indicator_code: 'c', planned_dates: ['2026-10-01'], owner_ids: [], note: '' },
    ])).toEqual(['b', 'c']);
  });

  it('send sorted unique dates, unique owners and trimmed notes', () => {
    expect(answersBody([{ indicator_code: 'a', planned_dates: ['2026-11-02', '2026-10-01', '2026-11-02'], owner_ids: ['u1', 'u1', 'u2'], note: ' 说明 ' }]))
      .toEqual([{ indicator_code: 'a', planned_dates: ['2026-10-01', '2026-11-02'], owner_ids: ['u1', 'u2'], note: '说明' }]);
  });
});

describe('overdue tasks', () => {
  it('are grouped per school in order and counted per kind', () => {
    const items = [task('1', 'term_plan_missing'), task('2', 'indicator_missed'), task('1', 'term_summary_missing')];
    const groups = groupBySchool(items);
    expect(groups.map((g) => [g.school_id, g.tasks.length])).toEqual([['1', 2], ['2', 1]]);
    expect(countByKind(items)).toEqual({ term_plan_missing: 1, indicator_overdue: 0, indicator_missed: 1, term_summary_missing: 1 });
  });
});

describe('the inbox text of a concern', () => {
  it('says a barometer concern came from the weekly barometer of its homeroom', () => {
    expect(inboxKey({ kind: 'concern_raised', params: { source: 'barometer', homeroom: '初一(1)班' } })).toBe('inbox.kind.concern_raised_barometer');
    expect(inboxKey({ kind: 'concern_raised', params: { urgency: 'soon' } })).toBe('inbox.kind.concern_raised');
    for (const tree of [zhCN, en]) {
      const text = ((tree.inbox as Record<string, Record<string, string>>).kind).concern_raised_barometer;
      expect(text).toContain('{{homeroom}}');
    }
  });
});
