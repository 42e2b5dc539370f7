import { describe, expect, it } from 'vitest';
import { mergeTimeline, type CaseFileEvent, type Session } from '../pages/CaseFiles';

function session(id: string, at: string): Session {
  const s: unknown = { id, occurred_at: at };
  return s as Session;
}
const event = (kind: string, id: string, at: string): CaseFileEvent => ({ kind, id, at, actor_name: '', code: null });

describe('the case-file timeline', () => {
  it('shows sessions in full once and every other entry in time order', () => {
    const merged = mergeTimeline(
      [session('s2', '2026-03-02T08:00:00Z'), session('s1', '2026-03-01T08:00:00Z')],
      [event('session', 's1', '2026-03-01T08:00:00Z'), event('risk_tier', 'r1', '2026-03-01T09:00:00Z'), event('document', 'd1', '2026-02-28T10:00:00Z')],
    );
    expect(merged.map((x) => x.id)).toEqual(['d1', 's1', 'r1', 's2']);
    expect(merged.filter((x) => x.id === 's1')).toHaveLength(1);
  });
});
