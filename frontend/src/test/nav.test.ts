import { describe, expect, it } from 'vitest';
import { canImportRoster, grantableRoles, grantBody, menuFor, scopeOfRole } from '../nav';
import { chartFor } from '../pages/Home';
import type { Membership } from '../api/types';

describe('navigation by role', () => {
  it.each([
    ['district_admin', ['home', 'inbox', 'dashboard', 'schools', 'users', 'districtPlans', 'summaryReviews', 'overdueTasks', 'instruments', 'campaigns', 'concernCategories', 'library', 'teachingCases', 'emergencyReviews', 'retention', 'institutions', 'crisisSettings', 'crisisBoard', 'research', 'jobs', 'audit']],
    ['school_leader', ['home', 'inbox', 'programs', 'termSummaries', 'barometerReports', 'liaisons', 'orgUnits', 'staff', 'students', 'warningList', 'crises', 'schoolCampaigns', 'room', 'library', 'audit']],
    ['counselor', ['home', 'inbox', 'room', 'intake', 'mailbox', 'screeningAlerts', 'caseFiles', 'clientFiles', 'warningList', 'crises', 'referrals', 'schoolCampaigns', 'programs', 'termSummaries', 'barometerReports', 'liaisons', 'students', 'library', 'teachingCases']],
    ['homeroom_teacher', ['home', 'inbox', 'concerns', 'students', 'library']],
    ['peer_liaison', ['home', 'barometer', 'inbox']],
    ['district_supervisor', ['home', 'inbox', 'dashboard', 'districtPlans', 'summaryReviews', 'overdueTasks', 'campaigns', 'screeningEscalations', 'crisisBoard', 'institutions', 'crisisSettings', 'teachingCases']],
    ['researcher', ['home', 'inbox', 'dashboard', 'research']],
  ] as const)('%s sees %j', (role, menu) => {
    expect(menuFor(role)).toEqual(menu);
  });

  it('lets only school leaders import rosters', () => {
    expect(canImportRoster('school_leader')).toBe(true);
    expect(canImportRoster('counselor')).toBe(false);
    expect(canImportRoster('homeroom_teacher')).toBe(false);
  });

  it('lets school leaders grant only homeroom roles, district admins every role', () => {
    expect(grantableRoles('school_leader')).toEqual(['homeroom_teacher', 'peer_liaison']);
    expect(grantableRoles('counselor')).toEqual([]);
    expect(grantableRoles('district_admin')).toHaveLength(7);
  });

  it('builds grant bodies with the scope each role needs', () => {
    expect(scopeOfRole('researcher')).toBe('district');
    expect(grantBody('u1', { role: 'district_supervisor', school_id: 's1', homeroom_id: 'h1' })).toEqual({
      user_id: 'u1', role: 'district_supervisor', scope_type: 'district', school_id: null, homeroom_id: null,
    });
    expect(grantBody('u1', { role: 'counselor', school_id: 's1', homeroom_id: 'h1' })).toEqual({
      user_id: 'u1', role: 'counselor', scope_type: 'school', school_id: 's1', homeroom_id: null,
    });
    expect(grantBody('u1', { role: 'peer_liaison', school_id: 's1', homeroom_id: 'h1' })).toEqual({
      user_id: 'u1', role: 'peer_liaison', scope_type: 'school', school_id: 's1', homeroom_id: 'h1',
    });
  });

  it('picks a home chart from data the role may read', () => {
    const m = (role: Membership['role']) => ({ role }) as Membership;
    expect(chartFor(m('district_admin'))).toBe('auditPerDay');
    expect(chartFor(m('researcher'))).toBe('schoolsPerKind');
    expect(chartFor(m('peer_liaison'))).toBe('homeroomsPerGrade');
    expect(chartFor(m('counselor'))).toBe('studentsPerGrade');
  });
});
