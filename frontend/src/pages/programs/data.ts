// Types and pure helpers of the district plans and school programs screens.

export interface Term { id: string; name: string; starts_on: string; ends_on: string }

export type IndicatorKind = 'activity_count' | 'percentage' | 'hours' | 'yes_no' | 'room_open_hours' | 'room_response_rate';

export interface Indicator {
  code: string;
  name: string;
  kind: IndicatorKind;
  activity_type?: string;
  metric?: string;
  target: number;
}

export interface Plan {
  id: string;
  term_id: string;
  term: Term;
  title: string;
  indicators: Indicator[];
  all_schools: boolean;
  school_ids: string[];
  status: 'draft' | 'published';
  version: number;
  published_at: string | null;
  updated_at: string;
  term_plan_due_on: string; // the deadline of the schools' term plans
}

export interface PlanVersion {
  version: number;
  title: string;
  indicators: Indicator[];
  note: string;
  published_by_name: string;
  published_at: string;
}

export type ComplianceStatus = 'met' | 'on_track' | 'at_risk' | 'missed';

export interface Cell { code: string; kind: IndicatorKind; value: number; target: number; status: ComplianceStatus }

export interface Row { school_id: string; school_name: string; cells: Cell[] }

export interface Matrix { plan: Plan; today: string; rows: Row[] }

export interface Evidence {
  id: string;
  activity_id: string | null;
  plan_id: string | null;
  indicator_code: string | null;
  title: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  uploaded_by_name: string;
  uploaded_at: string;
}

export interface Activity {
  id: string;
  term_id: string;
  type: string;
  title: string;
  held_on: string;
  audience: string;
  audience_size: number;
  attendance: number;
  hours: number | null;
  details: { theme?: string; sessions?: number; facilitators?: string[]; confidentiality_rule?: string };
  recorded_by_name: string;
  evidence: Evidence[];
}

export interface SchoolPlan { plan: Plan; cells: Cell[] }

export interface SchoolPlanDetail extends SchoolPlan { today: string; activities: Activity[]; evidence: Evidence[] }

export const indicatorKinds: IndicatorKind[] = ['activity_count', 'hours', 'percentage', 'yes_no', 'room_open_hours', 'room_response_rate'];
export const activityTypes = ['lecture', 'group_session', 'themed_month', 'parent_event', 'staff_training', 'room_hours'];
export const hourTypes = ['staff_training', 'room_hours'];
// Peer-liaison trainings and meetings (recorded in the liaison network) an indicator may count.
export const liaisonTypes = ['liaison_training', 'liaison_meeting'];
export const liaisonHourTypes = ['liaison_training'];
export const metrics = ['liaison_coverage', 'barometer_weeks'];
export const audiences = ['students', 'parents', 'staff', 'mixed'];

export const statusColor: Record<ComplianceStatus, string> = { met: 'green', on_track: 'blue', at_risk: 'orange', missed: 'red' };

// targetMax is the largest target an indicator kind takes (a week has 168 hours).
export function targetMax(kind: IndicatorKind | undefined): number | undefined {
  if (kind === 'percentage' || kind === 'room_response_rate') return 100;
  if (kind === 'room_open_hours') return 168;
  return undefined;
}

// activityTypesFor lists the activity types an indicator kind may count.
export function activityTypesFor(kind: IndicatorKind | undefined): string[] {
  if (kind === 'activity_count') return [...activityTypes, ...liaisonTypes];
  if (kind === 'hours') return [...hourTypes, ...liaisonHourTypes];
  return [];
}

// cleanIndicator keeps only the fields the indicator's kind uses (the server refuses the others).
export function cleanIndicator(i: Indicator): Indicator {
  const out: Indicator = { code: i.code, name: i.name, kind: i.kind, target: i.kind === 'yes_no' ? 1 : Number(i.target) };
  if (i.kind === 'activity_count' || i.kind === 'hours') out.activity_type = i.activity_type;
  if (i.kind === 'percentage') out.metric = i.metric;
  return out;
}

// formatCell shows a value against its target: "2 / 2", "85.5% / 95%", "是 / 否".
export function formatCell(c: Pick<Cell, 'kind' | 'value' | 'target'>, yes: string, no: string): string {
  if (c.kind === 'yes_no') return c.value >= 1 ? yes : no;
  if (c.kind === 'percentage' || c.kind === 'room_response_rate') return `${c.value}% / ${c.target}%`;
  if (c.kind === 'room_open_hours') return `${c.value}h / ${c.target}h`;
  if (c.kind === 'hours') return `${c.value}h / ${c.target}h`;
  return `${c.value} / ${c.target}`;
}

// countByStatus counts the cells of a matrix per status (the legend of the matrix).
export function countByStatus(rows: Row[]): Record<ComplianceStatus, number> {
  const out: Record<ComplianceStatus, number> = { met: 0, on_track: 0, at_risk: 0, missed: 0 };
  for (const r of rows) for (const c of r.cells) out[c.status] += 1;
  return out;
}

// fieldPath turns a server field name ("indicators[2].target") into an antd form path.
export function fieldPath(name: string): (string | number)[] {
  return name.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}
