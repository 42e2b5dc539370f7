-- +goose Up
-- Built-in Casbin policy: role, domain pattern, object, action.
-- Domains are "district:<id>" or "school:<id>"; role assignments (g rules) come from
-- memberships. "role:<name> grant" lets a role hand that role out within its domain.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  -- district administrator
  ('p', 'district_admin', 'district:*', 'schools', 'read'),
  ('p', 'district_admin', 'district:*', 'schools', 'write'),
  -- within a school of the district: its org tree only (never students)
  ('p', 'district_admin', 'district:*', 'school.org_units', 'read'),
  ('p', 'district_admin', 'district:*', 'school.org_units', 'write'),
  ('p', 'district_admin', 'district:*', 'users', 'read'),
  ('p', 'district_admin', 'district:*', 'users', 'write'),
  ('p', 'district_admin', 'district:*', 'memberships', 'read'),
  ('p', 'district_admin', 'district:*', 'memberships', 'write'),
  ('p', 'district_admin', 'district:*', 'audit', 'read'),
  ('p', 'district_admin', 'district:*', 'role:district_admin', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:district_supervisor', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:researcher', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:school_leader', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:counselor', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:homeroom_teacher', 'grant'),
  ('p', 'district_admin', 'district:*', 'role:peer_liaison', 'grant'),
  -- district supervisor and researcher: the school list only (their modules come later)
  ('p', 'district_supervisor', 'district:*', 'schools', 'read'),
  ('p', 'researcher', 'district:*', 'schools', 'read'),
  -- school leader
  ('p', 'school_leader', 'school:*', 'org_units', 'read'),
  ('p', 'school_leader', 'school:*', 'org_units', 'write'),
  ('p', 'school_leader', 'school:*', 'staff', 'read'),
  ('p', 'school_leader', 'school:*', 'staff', 'write'),
  ('p', 'school_leader', 'school:*', 'students', 'read'),
  ('p', 'school_leader', 'school:*', 'students', 'write'),
  ('p', 'school_leader', 'school:*', 'audit', 'read'),
  ('p', 'school_leader', 'school:*', 'role:homeroom_teacher', 'grant'),
  ('p', 'school_leader', 'school:*', 'role:peer_liaison', 'grant'),
  -- counselor
  ('p', 'counselor', 'school:*', 'org_units', 'read'),
  ('p', 'counselor', 'school:*', 'staff', 'read'),
  ('p', 'counselor', 'school:*', 'students', 'read'),
  -- homeroom teacher (own homerooms, enforced by RLS)
  ('p', 'homeroom_teacher', 'school:*', 'org_units', 'read'),
  ('p', 'homeroom_teacher', 'school:*', 'students', 'read'),
  -- peer liaison: the org tree only (barometers come later)
  ('p', 'peer_liaison', 'school:*', 'org_units', 'read');
