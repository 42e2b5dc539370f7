// Types and pure helpers of school term plans (学校学期计划), the district's overdue tasks
// and the peer-liaison network.
import type { Plan } from './data';

export type TermPlanStatus = 'draft' | 'submitted' | 'accepted' | 'returned';
export type SubmissionStatus = 'not_submitted' | 'submitted' | 'accepted' | 'returned';

export interface Answer { indicator_code: string; planned_dates: string[]; owner_ids: string[]; note: string }

export interface StaffOption { user_id: string; name: string; role: string }

export interface TermPlan {
  school_id: string;
  school_name: string;
  plan_id: string;
  plan: Plan;
  status: TermPlanStatus;
  stored: boolean;
  plan_version: number;
  answers: Answer[];
  note: string;
  submitted_at: string | null;
  reviewed_at: string | null;
  review_reason: string;
  locked: boolean;
  due_on: string;
  staff: StaffOption[];
}

export interface Submission {
  school_id: string;
  school_name: string;
  status: SubmissionStatus;
  submitted_at: string | null;
  reviewed_at: string | null;
  overdue: boolean;
}

export interface Submissions { plan: Plan; due_on: string; today: string; items: Submission[]; not_submitted: number }

export type OverdueKind = 'term_plan_missing' | 'indicator_overdue' | 'indicator_missed' | 'term_summary_missing';

export interface OverdueTask {
  school_id: string;
  school_name: string;
  kind: OverdueKind;
  plan_id: string | null;
  plan_title: string;
  term_id: string;
  term_name: string;
  indicator_code: string;
  indicator_name: string;
  due_on: string;
  days_overdue: number;
}

export interface Liaison { user_id: string; name: string }

export interface RosterHomeroom { id: string; name: string; parent_id: string | null; parent: string; liaisons: Liaison[]; has_liaison: boolean }

export interface Roster { homerooms: RosterHomeroom[]; covered: number; missing: number }

export interface LiaisonEvent {
  id: string;
  kind: 'training' | 'meeting';
  held_on: string;
  topic: string;
  hours: number;
  attendees: Liaison[];
  notes: string;
  recorded_by_name: string;
  recorded_at: string;
}

export const termPlanStatusColor: Record<SubmissionStatus | TermPlanStatus, string> = {
  draft: 'default', not_submitted: 'default', submitted: 'blue', accepted: 'green', returned: 'orange',
};

// editable: the school changes its term plan while it is a draft or returned.
export function editable(status: TermPlanStatus): boolean {
  return status === 'draft' || status === 'returned';
}

// missingAnswers lists the codes of the indicators still lacking a planned date or an
// owner (the server refuses to submit until there are none).
export function missingAnswers(answers: Answer[]): string[] {
  return answers.filter((a) => a.planned_dates.length === 0 || a.owner_ids.length === 0).map((a) => a.indicator_code);
}

// answersBody turns the editor's rows into the API's answers: dates sorted, unique, and
// empty notes trimmed.
export function answersBody(answers: Answer[]): Answer[] {
  return answers.map((a) => ({
    indicator_code: a.indicator_code,
    planned_dates: [...new Set(a.planned_dates)].sort(),
    owner_ids: [...new Set(a.owner_ids)],
    note: (a.note ?? '').trim(),
  }));
}

// byKind counts overdue tasks per kind (the page's legend).
export function countByKind(items: OverdueTask[]): Record<OverdueKind, number> {
  const out: Record<OverdueKind, number> = { term_plan_missing: 0, indicator_overdue: 0, indicator_missed: 0, term_summary_missing: 0 };
  for (const x of items) out[x.kind] += 1;
  return out;
}

// groupBySchool groups overdue tasks per school, schools in the order they first appear.
export function groupBySchool(items: OverdueTask[]): { school_id: string; school_name: string; tasks: OverdueTask[] }[] {
  const out: { school_id: string; school_name: string; tasks: OverdueTask[] }[] = [];
  for (const x of items) {
    let g = out.find((o) => o.school_id === x.school_id);
    if (!g) {
      g = { school_id: x.school_id, school_name: x.school_name, tasks: [] };
      out.push(g);
    }
    g.tasks.push(x);
  }
  return out;
}

// inboxKey picks the locale key of an inbox item: a concern raised from the weekly
// barometer says so (and names the homeroom) instead of "a homeroom teacher raised".
export function inboxKey(it: { kind: string; params: Record<string, string> }): string {
  if (it.kind === 'concern_raised' && it.params?.source === 'barometer') return 'inbox.kind.concern_raised_barometer';
  return `inbox.kind.${it.kind}`;
}
