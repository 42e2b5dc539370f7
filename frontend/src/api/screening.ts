// Screening (心理测查, issue 4): the API types of SCREENING_API.md and the pure helpers the
// screens share (count display, answer completeness, trend shaping, error paths).
import { ApiError, readCookie } from './client';
import type { FieldError } from './types';
import newInstrument from './newInstrument.json';

export interface Text {
  zh: string;
  en: string;
}

export interface Option {
  value: number;
  label: Text;
}

export interface Item {
  code: string;
  text: Text;
  options?: Option[];
  reverse?: boolean;
}

export interface Definition {
  code: string;
  name: Text;
  stem: Text;
  options?: Option[];
  items: Item[];
  subscales?: { code: string; name: Text; items: string[] }[];
  bands: { code: string; min: number; max: number; label: Text }[];
  critical?: { item: string; min_value: number }[];
  validity?: { items: string[]; max_score: number };
  licensed?: boolean;
  reliable_change?: { sd: number; reliability: number };
}

export interface Instrument {
  id: string;
  code: string;
  version: number;
  name: Text;
  builtin: boolean;
  licensed: boolean;
  used: boolean;
  created_at: string;
  definition: Definition;
}

export interface Licence {
  id: string;
  instrument_code: string;
  holder: string;
  reference: string;
  valid_until: string;
  recorded_at: string;
}

export interface Enablement {
  school_id: string;
  school_name: string;
  instrument_code: string;
  enabled_at: string;
}

// alert_deadline_minutes after an alert is raised it goes to the school leaders, and
// leader_escalation_minutes later to the district supervisors.
export interface ScreeningSettings {
  alert_deadline_minutes: number;
  leader_escalation_minutes: number;
  thresholds: Record<string, string>;
  help_contacts: string;
}

export type ConsentRule = 'opt_in' | 'opt_out' | 'none';

export interface Campaign {
  id: string;
  title: string;
  instruments: { id: string; code: string; version: number; name: Text }[];
  school_ids: string[];
  // Grade names as in the schools' org trees ("七年级"); empty means every grade.
  grades: string[];
  opens_at: string;
  closes_at: string;
  consent_rule: ConsentRule;
  student_message: string;
  show_help_contacts: boolean;
  status: 'scheduled' | 'open' | 'closed';
  created_at: string;
  instrument_definitions?: Definition[];
}

// A suppressed count: "0", "<5" or a number of 5 or more, always a string.
export type Count = string;

export interface DistrictProgress {
  schools: { school_id: string; school_name: string; grades: { grade: string; eligible: Count; completed: Count }[] }[];
  bands: { instrument_code: string; band: string; count: Count }[];
}

export interface RosterRow {
  student_id: string;
  name: string;
  student_number: string;
  grade: string;
  homeroom_id: string;
  homeroom_name: string;
  consent: 'granted' | 'refused' | 'none';
  eligible: boolean;
  code: 'none' | 'issued' | 'used';
  completed: boolean;
}

export interface HomeroomProgress {
  homeroom_id: string;
  homeroom_name: string;
  grade: string;
  eligible: number;
  completed: number;
}

export interface CodeSlip {
  student_id: string;
  name: string;
  student_number: string;
  homeroom_name: string;
  code: string;
  url: string;
}

export interface Assessment {
  id: string;
  student_id: string;
  instrument_id: string;
  instrument_code: string;
  instrument_version: number;
  campaign_id?: string | null;
  source: 'code' | 'paper';
  taken_at: string;
  total: number;
  band: string;
  band_label: Text;
  subscales: Record<string, number>;
  valid: boolean;
  critical: string[];
  answers?: Record<string, number>;
}

export interface TrendPoint {
  at: string;
  total: number;
  band: string;
  rci?: number;
  reliable_change?: 'improved' | 'worsened' | 'none';
}

export interface Trend {
  instrument_code: string;
  points: TrendPoint[];
}

export interface Alert {
  id: string;
  student_id: string;
  student_name: string;
  student_number: string;
  homeroom_name: string;
  assessment_id: string;
  instrument_code: string;
  reason: 'critical_item' | 'band';
  band: string;
  suggested_tier: 'high' | 'elevated';
  created_at: string;
  due_at: string;
  overdue: boolean;
  escalation: 'none' | 'leader' | 'district';
  acknowledged_at?: string | null;
  acknowledged_by?: string | null;
  outcome?: string | null;
  case_file_id?: string | null;
}

export interface Escalation {
  alert_id: string;
  school_id: string;
  school_name: string;
  reason: 'critical_item' | 'band';
  created_at: string;
  due_at: string;
  escalated_at: string | null;
  acknowledged_at?: string | null;
}

// The questionnaire a student (or a counselor entering paper answers) fills in: every item
// carries its own options.
export interface SheetInstrument {
  id: string;
  code: string;
  name: Text;
  stem: Text;
  items: { code: string; text: Text; options: Option[] }[];
}

export interface PublicSheet {
  title: string;
  message: string;
  help_contacts?: string;
  instruments: SheetInstrument[];
}

export type Answers = Record<string, Record<string, number>>; // instrument id -> item code -> value

// pick chooses the text of the UI language, falling back to Chinese.
export function pick(t: Text | undefined, lang: string): string {
  if (!t) return '';
  return lang === 'en' ? t.en || t.zh : t.zh || t.en;
}

// sheetOf turns a definition into the questionnaire shape: items without options get the
// instrument's shared options.
export function sheetOf(d: Definition, id = d.code): SheetInstrument {
  return {
    id,
    code: d.code,
    name: d.name,
    stem: d.stem,
    items: (d.items ?? []).map((it) => ({ code: it.code, text: it.text, options: it.options?.length ? it.options : d.options ?? [] })),
  };
}

// missingItems lists "<instrument id>.<item code>" for every unanswered item, in order.
export function missingItems(instruments: SheetInstrument[], answers: Answers): string[] {
  const out: string[] = [];
  for (const ins of instruments) {
    for (const it of ins.items) {
      if (answers[ins.id]?.[it.code] === undefined) out.push(`${ins.id}.${it.code}`);
    }
  }
  return out;
}

// missingFromProblem reads the missing items of a 422 answer: fields "answers.<instrument>.<item>"
// (public page) or "answers.<item>" (paper entry, one instrument: instrumentId given).
export function missingFromProblem(e: unknown, instrumentId?: string): string[] {
  if (!(e instanceof ApiError) || e.status !== 422) return [];
  return e.errors
    .map((f) => f.field ?? '')
    .filter((f) => f.startsWith('answers.'))
    .map((f) => f.slice('answers.'.length))
    .map((f) => (instrumentId && !f.includes('.') ? `${instrumentId}.${f}` : f));
}

// isSuppressed tells whether a count is hidden below the threshold ("<5").
export function isSuppressed(c: Count | number | null | undefined): boolean {
  return typeof c === 'string' && c.trim().startsWith('<');
}

// countValue is a number for charts: a suppressed count counts as 0 (the table shows it).
export function countValue(c: Count | number | null | undefined): number {
  if (typeof c === 'number') return c;
  if (!c || isSuppressed(c)) return 0;
  const n = Number(c);
  return Number.isFinite(n) ? n : 0;
}

// completionRate is "completed / eligible" as a percentage, or null when either count is
// suppressed or eligible is 0 (a rate would reveal what the suppression hides).
export function completionRate(completed: Count | number, eligible: Count | number): number | null {
  if (isSuppressed(completed) || isSuppressed(eligible)) return null;
  const e = countValue(eligible);
  if (e <= 0) return null;
  return Math.round((countValue(completed) / e) * 100);
}

// gradeList shows a campaign's target grades, or allGrades when it names none.
export function gradeList(grades: string[] | null | undefined, sep: string, allGrades: string): string {
  return grades && grades.length ? grades.join(sep) : allGrades;
}

// gradeOrder sorts grade names by the order the campaign lists them, unknown ones after
// (in Chinese collation).
export function gradeOrder(campaignGrades: string[], seen: string[]): string[] {
  const all = [...new Set([...campaignGrades, ...seen])];
  const rank = (g: string) => (campaignGrades.includes(g) ? campaignGrades.indexOf(g) : campaignGrades.length);
  return all.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'zh-CN'));
}

// trendSeries shapes the trend of one student for a line chart: one series per
// instrument, points in time order, reliable changes marked.
export interface Series {
  code: string;
  points: { at: string; total: number; band: string; change?: 'improved' | 'worsened' }[];
}
export function trendSeries(trend: Trend[]): Series[] {
  return trend
    .filter((t) => t.points.length > 0)
    .map((t) => ({
      code: t.instrument_code,
      points: [...t.points]
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
        .map((p) => {
          const pt: Series['points'][number] = { at: p.at, total: p.total, band: p.band };
          if (p.reliable_change === 'improved' || p.reliable_change === 'worsened') pt.change = p.reliable_change;
          return pt;
        }),
    }));
}

// definitionFieldErrors maps the 422 of a definition (fields "definition.items[3].options")
// to paths inside the definition ("items[3].options").
export function definitionFieldErrors(e: unknown): FieldError[] {
  if (!(e instanceof ApiError)) return [];
  return e.errors.map((f) => ({ ...f, field: f.field?.replace(/^definition\.?/, '') }));
}

// parseDefinition reads the JSON editor's text; error is the parser's message.
export function parseDefinition(text: string): { definition?: Definition; error?: string } {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
    return { definition: v as Definition };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

// newDefinition is the starting point of a district-defined instrument (a fresh copy).
export function newDefinition(): Definition {
  return structuredClone(newInstrument) as Definition;
}

// download posts a body and saves the file the server answers (e.g. codes.xlsx).
export async function download(path: string, body: unknown, filename: string): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const token = readCookie('xq_csrf');
  if (token) headers['X-CSRF-Token'] = token;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' });
  if (!res.ok) {
    let data: object = {};
    try {
      data = (await res.json()) as object;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, data);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// studentUrl is the absolute address printed on a code slip.
export function studentUrl(url: string, origin: string): string {
  return /^https?:\/\//.test(url) ? url : origin.replace(/\/$/, '') + (url.startsWith('/') ? url : '/' + url);
}

export const consentRules: ConsentRule[] = ['opt_in', 'opt_out', 'none'];
export const outcomes = ['case_opened', 'monitoring', 'no_action_needed'] as const;
