import { describe, expect, it } from 'vitest';
import { chinaInstant, chinaParts, isoWeekday, requestableDays, startTimes, weekStart } from '../pages/room/time';

const hours = [
  { weekday: 1, start: '08:00', end: '12:00' },
  { weekday: 1, start: '13:30', end: '17:30' },
  { weekday: 3, start: '14:00', end: '15:00' },
];

describe('counseling-room times (China time whatever the browser zone)', () => {
  it('reads instants in China time and writes +08:00', () => {
    expect(chinaParts('2026-12-06T16:30:00Z')).toEqual({ date: '2026-12-07', time: '00:30' });
    expect(chinaInstant('2026-12-07', '09:15')).toBe('2026-12-07T09:15:00+08:00');
  });

  it('knows ISO weekdays and the Monday of a week', () => {
    expect(isoWeekday('2026-12-07')).toBe(1);
    expect(isoWeekday('2026-12-13')).toBe(7);
    expect(weekStart('2026-12-13')).toBe('2026-12-07');
  });

  it('offers start times whose whole appointment fits a window', () => {
    expect(startTimes(hours, '2026-12-09', 45)).toEqual(['14:00', '14:15']);
    const monday = startTimes(hours, '2026-12-07', 45);
    expect(monday[0]).toBe('08:00');
    expect(monday).toContain('11:15');
    expect(monday).not.toContain('11:30');
    expect(monday).toContain('13:30');
    expect(startTimes(hours, '2026-12-08', 45)).toEqual([]);
  });

  it('offers only open, unclosed days, an hour or more ahead', () => {
    const now = Date.parse('2026-12-07T10:50:00+08:00'); // Monday
    const closures = [{ id: 'c', counselor_id: null, starts_on: '2026-12-09', ends_on: '2026-12-09', label: '考试' }];
    const days = requestableDays(hours, closures, 45, now, 7);
    expect(days.map((d) => d.date)).toEqual(['2026-12-07', '2026-12-14']);
    expect(days[0].times[0]).toBe('13:30'); // 11:15 starts less than an hour from now
    const mine = [{ id: 'm', counselor_id: 'u1', starts_on: '2026-12-14', ends_on: '2026-12-14', label: 'x' }];
    expect(requestableDays(hours, mine, 45, now, 7).map((d) => d.date)).toContain('2026-12-14');
  });
});

describe('teaching cases', () => {
  it('publishes only once every field is reviewed', async () => {
    const { allReviewed, caseFields } = await import('../pages/TeachingCases');
    const all = Object.fromEntries(caseFields.map((f) => [f, true]));
    expect(allReviewed(all)).toBe(true);
    expect(allReviewed({ ...all, reflection: false })).toBe(false);
    expect(allReviewed({})).toBe(false);
  });
});
