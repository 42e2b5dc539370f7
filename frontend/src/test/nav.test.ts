import { describe, expect, it } from 'vitest';
import { grantableRoles, menuFor } from '../nav';

describe('navigation by role', () => {
  it.each([
    ['district_admin', ['home', 'schools', 'users', 'audit']],
    ['school_leader', ['home', 'orgUnits', 'staff', 'students', 'audit']],
    ['counselor', ['home', 'students']],
    ['homeroom_teacher', ['home', 'students']],
    ['peer_liaison', ['home']],
    ['district_supervisor', ['home']],
    ['researcher', ['home']],
  ] as const)('%s sees %j', (role, menu) => {
    expect(menuFor(role)).toEqual(menu);
  });

  it('lets school leaders grant only homeroom roles', () => {
    expect(grantableRoles('school_leader')).toEqual(['homeroom_teacher', 'peer_liaison']);
    expect(grantableRoles('counselor')).toEqual([]);
    expect(grantableRoles('district_admin')).toContain('counselor');
  });
});
