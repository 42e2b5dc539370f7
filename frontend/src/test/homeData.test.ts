import { describe, expect, it } from 'vitest';
import { auditPerDay, homeroomsPerGrade, schoolsPerKind, studentsPerGrade } from '../pages/homeData';
import type { AuditRow, OrgUnit, School, Student } from '../api/types';

const unit = (id: string, name: string, parent: string | null = null, position = 0): OrgUnit =>
  ({ id, school_id: 's', parent_id: parent, kind: parent ? 'homeroom' : 'grade', name, position });
const student = (grade_id: string, grade_name: string) => ({ grade_id, grade_name }) as Student;

describe('dashboard data', () => {
  it('counts students per grade in tree order, with empty grades and unknown grades', () => {
    const units = [unit('g7', '七年级'), unit('g8', '八年级'), unit('h1', '七(1)班', 'g7')];
    const s = studentsPerGrade([student('g7', '七年级'), student('g7', '七年级'), student('gx', '九年级')], units);
    expect(s).toEqual({ labels: ['七年级', '八年级', '九年级'], values: [2, 0, 1] });
  });

  it('counts homerooms per grade', () => {
    const units = [unit('g7', '七年级'), unit('h1', '七(1)班', 'g7'), unit('h2', '七(2)班', 'g7'), unit('g8', '八年级')];
    expect(homeroomsPerGrade(units)).toEqual({ labels: ['七年级', '八年级'], values: [2, 0] });
  });

  it('counts audit events per day and fills quiet days', () => {
    const at = (d: string) => ({ occurred_at: new Date(d).toISOString() }) as AuditRow;
    const s = auditPerDay([at('2025-03-03T10:00:00'), at('2025-03-01T09:00:00'), at('2025-03-03T11:00:00')]);
    expect(s).toEqual({ labels: ['03-01', '03-02', '03-03'], values: [1, 0, 2] });
    expect(auditPerDay([])).toEqual({ labels: [], values: [] });
  });

  it('counts schools per kind', () => {
    const s = schoolsPerKind([{ kind: 'k12' }, { kind: 'k12' }, { kind: 'vocational' }] as School[]);
    expect(s).toEqual({ labels: ['k12', 'vocational'], values: [2, 1] });
  });
});
