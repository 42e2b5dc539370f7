import type { Membership, Role } from './api/types';

export type MenuKey = 'home' | 'schools' | 'users' | 'orgUnits' | 'staff' | 'students' | 'audit';

// menuFor lists the screens of a role, in menu order.
export function menuFor(role: Role): MenuKey[] {
  switch (role) {
    case 'district_admin':
      return ['home', 'schools', 'users', 'audit'];
    case 'school_leader':
      return ['home', 'orgUnits', 'staff', 'students', 'audit'];
    case 'counselor':
    case 'homeroom_teacher':
      return ['home', 'students'];
    default:
      return ['home'];
  }
}

// grantableRoles lists the roles an actor may grant (mirrors docs/permissions.md).
export function grantableRoles(role: Role): Role[] {
  if (role === 'district_admin')
    return ['district_admin', 'district_supervisor', 'researcher', 'school_leader', 'counselor', 'homeroom_teacher', 'peer_liaison'];
  if (role === 'school_leader') return ['homeroom_teacher', 'peer_liaison'];
  return [];
}

export function scopeKey(m: Membership): string {
  return m.id;
}

export function scopeLabel(m: Membership): string {
  return m.scope_type === 'district' ? m.district_name : (m.school_name ?? '');
}
