import type { AuditRow, OrgUnit, School, Student } from '../api/types';

export interface Series {
  labels: string[];
  values: number[];
}

// studentsPerGrade counts students by grade (or department) in org-tree order; grades without
// students show 0, and students of a grade missing from the tree still count under its name.
export function studentsPerGrade(students: Student[], units: OrgUnit[]): Series {
  const top = units.filter((u) => !u.parent_id);
  const counts = new Map<string, number>(top.map((g) => [g.id, 0]));
  const extra = new Map<string, number>();
  for (const s of students) {
    if (counts.has(s.grade_id)) counts.set(s.grade_id, counts.get(s.grade_id)! + 1);
    else extra.set(s.grade_name, (extra.get(s.grade_name) ?? 0) + 1);
  }
  return {
    labels: [...top.map((g) => g.name), ...extra.keys()],
    values: [...top.map((g) => counts.get(g.id)!), ...extra.values()],
  };
}

// homeroomsPerGrade counts homerooms under each grade or department.
export function homeroomsPerGrade(units: OrgUnit[]): Series {
  const top = units.filter((u) => !u.parent_id);
  return { labels: top.map((g) => g.name), values: top.map((g) => units.filter((u) => u.parent_id === g.id).length) };
}

// auditPerDay counts audit events per local calendar day, oldest day first, including quiet days
// between the first and the last event.
export function auditPerDay(rows: AuditRow[]): Series {
  if (rows.length === 0) return { labels: [], values: [] };
  const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const counts = new Map<string, number>();
  let min = Infinity;
  let max = -Infinity;
  for (const r of rows) {
    const d = new Date(r.occurred_at);
    const k = day(d);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    const start = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    min = Math.min(min, start);
    max = Math.max(max, start);
  }
  const labels: string[] = [];
  const values: number[] = [];
  for (let t = new Date(min); t.getTime() <= max && labels.length < 366; t.setDate(t.getDate() + 1)) {
    const k = day(t);
    labels.push(k.slice(5));
    values.push(counts.get(k) ?? 0);
  }
  return { labels, values };
}

// schoolsPerKind counts schools by kind; labels are the kinds (translate them for display).
export function schoolsPerKind(schools: School[]): Series {
  const kinds: School['kind'][] = ['k12', 'vocational'];
  return { labels: kinds, values: kinds.map((k) => schools.filter((s) => s.kind === k).length) };
}
