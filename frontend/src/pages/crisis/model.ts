// Crisis intervention (危机干预) and referrals (转介): the API's JSON types, vocabularies
// and the pure helpers the screens share (timers, the rules' refusals, the referral loop).
import type { TFunction } from 'i18next';
import { ApiError } from '../../api/client';

export const levels = ['low', 'moderate', 'high', 'imminent'] as const;
export const methods = ['interview', 'suicide_risk_scale', 'consultation', 'other'] as const;
export const channels = ['phone', 'in_person', 'message', 'other'] as const;
export const outcomes = ['stabilised', 'referred_treatment', 'hospitalised', 'transferred', 'other'] as const;
export const stepKinds = ['risk_assessed', 'safety_actions', 'guardian_notified', 'follow_up_scheduled', 'follow_up_done', 'closed', 'addendum'] as const;
export const institutionKinds = ['hospital', 'clinic', 'hotline', 'other'] as const;
export const referralItems = ['basics', 'guardian_contact', 'risk_tier', 'crisis', 'screening'] as const;
export const referralLoop = ['sent', 'acknowledged', 'appointment', 'seen', 'feedback', 'closed'] as const;

export const levelColor: Record<string, string> = { low: 'blue', moderate: 'gold', high: 'orange', imminent: 'red' };

export interface CrisisStep {
  id: string;
  kind: string;
  actor_id: string | null;
  actor_name: string;
  occurred_at: string;
  recorded_at: string;
  level?: string;
  method?: string;
  guardian?: string;
  channel?: string;
  due_on?: string;
  ref_step?: string;
  referral_id?: string;
  note?: string;
  response?: string;
  outcome?: string;
  district_note?: string;
}

export interface DistrictNote {
  id: string;
  kind: 'comment' | 'follow_up';
  body: string;
  due_on: string | null;
  created_at: string;
  done_at: string | null;
}

export interface Crisis {
  id: string;
  case_file_id: string;
  student_id: string;
  student_name: string;
  student_number: string;
  homeroom_name: string;
  source: string;
  source_id: string | null;
  level: string;
  status: 'open' | 'closed';
  opened_at: string;
  ack_due_at: string;
  guardian_due_at: string;
  assessed_at: string | null;
  guardian_notified_at: string | null;
  escalation: string;
  closed_at: string | null;
  outcome: string | null;
  overdue: string[] | null;
  steps?: CrisisStep[];
  district_notes?: DistrictNote[];
}

export interface BoardEntry {
  crisis_id: string;
  school_id: string;
  school_name: string;
  grade: string;
  level: string;
  status: string;
  opened_at: string;
  ack_due_at: string;
  guardian_due_at: string;
  assessed_at: string | null;
  guardian_notified_at: string | null;
  escalated_at: string | null;
  closed_at: string | null;
  steps: string[] | null;
  notes?: DistrictNote[];
}

export interface Deadline {
  ack_minutes: number;
  guardian_minutes: number;
}

export interface CrisisSettings {
  deadlines: Record<string, Deadline>;
  leader_escalation_minutes: number;
  backdate_minutes: number;
  feedback_days: number;
}

export interface Institution {
  id: string;
  name: string;
  kind: string;
  services: string[];
  contact: string;
  accepts_direct: boolean;
  active: boolean;
}

export interface Referral {
  id: string;
  case_file_id: string;
  student_id: string;
  crisis_id: string | null;
  institution_id: string;
  institution_name: string;
  basis: 'consent' | 'imminent_danger';
  consent_id: string | null;
  items: string[];
  status: string;
  sent_at: string;
  link_expires_at: string | null;
  link_used_at: string | null;
  acknowledged_at: string | null;
  appointment_at: string | null;
  seen_at: string | null;
  feedback: string;
  feedback_at: string | null;
  feedback_due_at: string;
  feedback_overdue: boolean;
  declined_reason: string | null;
  closed_at: string | null;
  return_plan: string;
  return_date: string | null;
  link?: string;
}

export interface LinkView {
  reference: string;
  school: string;
  institution: string;
  sent_at: string;
  status: string;
}

// Timer is one deadline of a crisis: which, when, how far off, and whether it is met.
export interface Timer {
  kind: 'ack' | 'guardian';
  due: string;
  met: boolean;
  overdue: boolean;
  left: string;
}

// countdown formats the time between now and due: "1天2:03:04", "2:03:04" or "3:04",
// with a leading "-" once it is past.
export function countdown(due: string, now: number): string {
  let ms = Date.parse(due) - now;
  const neg = ms < 0;
  ms = Math.abs(ms);
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  let out = h > 0 || d > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  if (d > 0) out = `${d}d ${out}`;
  return neg ? `-${out}` : out;
}

// timers lists the two deadlines of a crisis: acknowledgement (met by the risk assessment)
// and guardian notification (met by the guardian_notified step). Closed crises have no
// running timer.
export function timers(c: Pick<Crisis, 'ack_due_at' | 'guardian_due_at' | 'assessed_at' | 'guardian_notified_at' | 'status'>, now: number): Timer[] {
  const one = (kind: 'ack' | 'guardian', due: string, doneAt: string | null): Timer => {
    const met = !!doneAt || c.status === 'closed';
    return { kind, due, met, overdue: !met && Date.parse(due) <= now, left: countdown(due, now) };
  };
  return [one('ack', c.ack_due_at, c.assessed_at), one('guardian', c.guardian_due_at, c.guardian_notified_at)];
}

// isOverdue: a running deadline has passed.
export function isOverdue(c: Pick<Crisis, 'ack_due_at' | 'guardian_due_at' | 'assessed_at' | 'guardian_notified_at' | 'status'>, now: number): boolean {
  return timers(c, now).some((x) => x.overdue);
}

// pendingFollowUps: the follow-ups scheduled and not yet marked done.
export function pendingFollowUps(steps: CrisisStep[]): CrisisStep[] {
  const done = new Set(steps.filter((s) => s.kind === 'follow_up_done' && s.ref_step).map((s) => s.ref_step));
  return steps.filter((s) => s.kind === 'follow_up_scheduled' && !done.has(s.id));
}

// allowedKinds mirrors the server's workflow: risk assessment first, then safety actions,
// guardian notification and follow-ups; closing needs all of them; a closed crisis takes
// addenda only. The server stays the judge (409), this only guides the form.
export function allowedKinds(c: Pick<Crisis, 'status'>, steps: CrisisStep[]): string[] {
  if (c.status !== 'open') return ['addendum'];
  const has = (k: string) => steps.some((s) => s.kind === k);
  if (!has('risk_assessed')) return ['risk_assessed', 'addendum'];
  return ['risk_assessed', 'safety_actions', 'guardian_notified', 'follow_up_scheduled', 'follow_up_done', 'closed', 'addendum'];
}

// suggestedKind is the step the form offers first: what the workflow still needs next.
export function suggestedKind(c: Pick<Crisis, 'status'>, steps: CrisisStep[]): string {
  if (c.status !== 'open') return 'addendum';
  const has = (k: string) => steps.some((s) => s.kind === k);
  if (!has('risk_assessed')) return 'risk_assessed';
  if (!has('safety_actions')) return 'safety_actions';
  if (!has('guardian_notified')) return 'guardian_notified';
  if (pendingFollowUps(steps).length > 0) return 'follow_up_done';
  return 'closed';
}

// missingForClose lists what the rules still need before a crisis may be closed.
export function missingForClose(steps: CrisisStep[]): string[] {
  const has = (k: string) => steps.some((s) => s.kind === k);
  const out: string[] = [];
  if (!has('risk_assessed')) out.push('risk');
  if (!has('safety_actions')) out.push('safety');
  if (!has('guardian_notified')) out.push('guardian');
  if (pendingFollowUps(steps).length > 0) out.push('followUps');
  return out;
}

// The server's refusals (409/403/410), recognised by their wording and told in the user's
// language. Unknown messages are shown as the server wrote them.
const closeParts: Record<string, string> = {
  'risk assessment': 'risk',
  'immediate safety actions': 'safety',
  'guardian notification': 'guardian',
  'the scheduled follow-ups': 'followUps',
};

export function ruleMessage(t: TFunction, e: unknown): string | undefined {
  if (!(e instanceof ApiError)) return undefined;
  const d = (e.detail ?? '').trim();
  let m: RegExpMatchArray | null;
  if (d === 'assess the risk first') return t('crisis.rule.assessFirst');
  if (d === 'assess the risk before referring') return t('crisis.rule.assessBeforeReferring');
  if (d.startsWith('the crisis is closed')) return t('crisis.rule.closed');
  if ((m = d.match(/^the crisis cannot be closed before (.+)$/))) {
    const parts = m[1].split(', ').map((p) => (closeParts[p] ? t(`crisis.missing.${closeParts[p]}`) : p));
    return t('crisis.rule.cannotClose', { what: parts.join('、') });
  }
  if (d === 'this student already has an open crisis') return t('crisis.rule.alreadyOpen');
  if (d === 'this follow-up is already done') return t('crisis.rule.followUpDone');
  if (d === 'the case file is archived') return t('crisis.rule.archived');
  if (d === 'imminent danger needs a crisis') return t('crisis.rule.dangerNeedsCrisis');
  if ((m = d.match(/^no active referral consent covers (.+?): /))) return t('crisis.rule.noConsent', { name: m[1] });
  if (d === 'a referral cannot be declined after the student was seen') return t('crisis.rule.noDeclineAfterSeen');
  if ((m = d.match(/^a referral moves forward only: it is (\w+)$/))) return t('crisis.rule.forwardOnly', { status: t(`referral.status.${m[1]}`) });
  if (d.startsWith('close a referral once the student was seen')) return t('crisis.rule.closeAfterSeen');
  if (d === 'the referral was declined') return t('crisis.rule.declined');
  if ((m = d.match(/^the referral is (\w+)$/))) return t('crisis.rule.referralIs', { status: t(`referral.status.${m[1]}`) });
  if (d === 'this link is not known') return t('referral.link.unknown');
  if (d === 'this link has already been used') return t('referral.link.used');
  if (d === 'this link has expired') return t('referral.link.expired');
  return undefined;
}

// loopIndex is the referral's position on the status stepper (declined stops where it was).
export function loopIndex(r: Pick<Referral, 'status' | 'acknowledged_at' | 'appointment_at' | 'seen_at'>): number {
  const i = (referralLoop as readonly string[]).indexOf(r.status);
  if (i >= 0) return i;
  if (r.seen_at) return 3;
  if (r.appointment_at) return 2;
  if (r.acknowledged_at) return 1;
  return 0;
}

// nextStatuses are the moves a counselor may record from a status (forward only; declined
// only before the student was seen; closed once seen).
export function nextStatuses(status: string): string[] {
  const i = (referralLoop as readonly string[]).indexOf(status);
  if (i < 0 || status === 'closed') return [];
  const out = referralLoop.slice(i + 1).filter((s) => s !== 'closed' || i >= 3) as string[];
  if (i < 3) out.push('declined');
  return out;
}

// fullLink turns the API's "/r/<token>" into the address to give the institution.
export function fullLink(link: string, origin: string): string {
  return origin.replace(/\/$/, '') + link;
}

// stepBody builds the POST body of a step from the form's values, leaving out what the
// kind does not take.
export function stepBody(kind: string, v: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { kind };
  const copy = (...keys: string[]) => keys.forEach((k) => v[k] !== undefined && v[k] !== null && v[k] !== '' && (body[k] = v[k]));
  switch (kind) {
    case 'risk_assessed': copy('level', 'method', 'note'); break;
    case 'safety_actions': copy('note'); break;
    case 'guardian_notified': copy('guardian', 'channel', 'response', 'note'); break;
    case 'follow_up_scheduled': copy('due_on', 'note'); break;
    case 'follow_up_done': copy('ref_step', 'district_note', 'note'); break;
    case 'closed': copy('outcome', 'note'); break;
    case 'addendum': copy('ref_step', 'note'); break;
  }
  if (kind !== 'addendum' && v.occurred_at) body.occurred_at = v.occurred_at;
  return body;
}
