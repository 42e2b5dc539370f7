import type { Membership, Role } from './api/types';
import { districtRoles } from './api/types';

export type MenuKey = 'home' | 'schools' | 'users' | 'orgUnits' | 'staff' | 'students' | 'caseFiles' | 'warningList' | 'audit' | 'inbox' | 'concerns' | 'intake' | 'concernCategories' | 'emergencyReviews' | 'retention' | 'room' | 'library' | 'teachingCases'
  | 'instruments' | 'campaigns' | 'schoolCampaigns' | 'screeningAlerts' | 'screeningEscalations'
  | 'districtPlans' | 'programs' | 'barometer' | 'barometerReports' | 'mailbox' | 'termSummaries' | 'summaryReviews' | 'clientFiles' | 'overdueTasks' | 'liaisons'
  | 'crises' | 'referrals' | 'institutions' | 'crisisSettings' | 'crisisBoard' | 'dashboard' | 'jobs' | 'research';

export const menuPaths: Record<MenuKey, string> = {
  home: '/', schools: '/schools', users: '/users', orgUnits: '/org-units', staff: '/staff', students: '/students',
  caseFiles: '/case-files', warningList: '/warning-list', audit: '/audit', inbox: '/inbox', concerns: '/concerns', intake: '/intake',
  concernCategories: '/concern-categories', emergencyReviews: '/emergency-reviews', retention: '/retention', room: '/room', library: '/library', teachingCases: '/teaching-cases',
  instruments: '/instruments', campaigns: '/campaigns', schoolCampaigns: '/screening', screeningAlerts: '/screening-alerts',
  screeningEscalations: '/screening-escalations',
  districtPlans: '/district-plans', programs: '/programs', barometer: '/barometer', barometerReports: '/barometer-reports', mailbox: '/mailbox-inbox', termSummaries: '/term-summaries', summaryReviews: '/summary-reviews',
  clientFiles: '/client-files', overdueTasks: '/overdue-tasks', liaisons: '/liaisons',
  crises: '/crises', referrals: '/referrals', institutions: '/institutions', crisisSettings: '/crisis-settings', crisisBoard: '/crisis-board',
  dashboard: '/dashboard', jobs: '/jobs', research: '/research',
};

// menuFor lists the screens of a role, in menu order.
export function menuFor(role: Role): MenuKey[] {
  switch (role) {
    case 'district_admin':
      return ['home', 'inbox', 'dashboard', 'schools', 'users', 'districtPlans', 'summaryReviews', 'overdueTasks', 'instruments', 'campaigns', 'concernCategories', 'library', 'teachingCases', 'emergencyReviews', 'retention', 'institutions', 'crisisSettings', 'crisisBoard', 'research', 'jobs', 'audit'];
    case 'school_leader':
      return ['home', 'inbox', 'programs', 'termSummaries', 'barometerReports', 'liaisons', 'orgUnits', 'staff', 'students', 'warningList', 'crises', 'schoolCampaigns', 'room', 'library', 'audit'];
    case 'counselor':
      return ['home', 'inbox', 'room', 'intake', 'mailbox', 'screeningAlerts', 'caseFiles', 'clientFiles', 'warningList', 'crises', 'referrals', 'schoolCampaigns', 'programs', 'termSummaries', 'barometerReports', 'liaisons', 'students', 'library', 'teachingCases'];
    case 'district_supervisor':
      return ['home', 'inbox', 'dashboard', 'districtPlans', 'summaryReviews', 'overdueTasks', 'campaigns', 'screeningEscalations', 'crisisBoard', 'institutions', 'crisisSettings', 'teachingCases'];
    case 'homeroom_teacher':
      return ['home', 'inbox', 'concerns', 'students', 'library'];
    case 'researcher':
      return ['home', 'inbox', 'dashboard', 'research'];
    case 'peer_liaison':
      return ['home', 'barometer', 'inbox'];
    default:
      return ['home'];
  }
}

// canWriteScreening: counselors run their school's campaigns (consent, codes, paper entry);
// school leaders only watch the progress.
export function canWriteScreening(role: Role): boolean {
  return role === 'counselor';
}

// canImportRoster: only school leaders import rosters; counselors and homeroom teachers read.
export function canImportRoster(role: Role): boolean {
  return role === 'school_leader';
}

// grantableRoles lists the roles an actor may grant (mirrors docs/permissions.md).
export function grantableRoles(role: Role): Role[] {
  if (role === 'district_admin')
    return ['district_admin', 'district_supervisor', 'researcher', 'school_leader', 'counselor', 'homeroom_teacher', 'peer_liaison'];
  if (role === 'school_leader') return ['homeroom_teacher', 'peer_liaison'];
  return [];
}

// scopeOfRole: district roles are granted in the district, the others in one school.
export function scopeOfRole(role: Role): 'district' | 'school' {
  return districtRoles.includes(role) ? 'district' : 'school';
}

// needsHomeroom: homeroom teachers and peer liaisons belong to one homeroom.
export function needsHomeroom(role: Role | undefined): boolean {
  return role === 'homeroom_teacher' || role === 'peer_liaison';
}

// grantBody builds the POST /memberships body for a role, leaving out what the scope forbids.
export function grantBody(userId: string, v: { role: Role; school_id?: string; homeroom_id?: string }) {
  const scope = scopeOfRole(v.role);
  return {
    user_id: userId,
    role: v.role,
    scope_type: scope,
    school_id: scope === 'school' ? v.school_id ?? null : null,
    homeroom_id: needsHomeroom(v.role) ? v.homeroom_id ?? null : null,
  };
}

export function scopeLabel(m: Membership): string {
  return m.scope_type === 'district' ? m.district_name : (m.school_name ?? '');
}

// inboxBase is the API path of the selected membership's own inbox: the school inbox for
// school roles, the district inbox for district roles.
export function inboxBase(m: Membership | undefined): string | null {
  if (!m) return null;
  if (m.scope_type === 'district') return `/api/v1/districts/${m.district_id}/inbox`;
  return m.school_id ? `/api/v1/schools/${m.school_id}/inbox` : null;
}
