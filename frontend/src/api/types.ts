// Types of the Xinqiao API (see internal/httpapi/openapi.json).
export type Role =
  | 'district_admin'
  | 'district_supervisor'
  | 'researcher'
  | 'school_leader'
  | 'counselor'
  | 'homeroom_teacher'
  | 'peer_liaison';

export const districtRoles: Role[] = ['district_admin', 'district_supervisor', 'researcher'];
export const schoolRoles: Role[] = ['school_leader', 'counselor', 'homeroom_teacher', 'peer_liaison'];

export interface UserRef {
  id: string;
  username: string;
  display_name: string;
  district_id: string;
}

export interface Membership {
  id: string;
  scope_type: 'district' | 'school';
  district_id: string;
  district_name: string;
  school_id: string | null;
  school_name: string | null;
  role: Role;
  homeroom_id: string | null;
}

export interface Me {
  user: UserRef;
  memberships: Membership[];
  // the session may only enrol in MFA until enrolment is confirmed
  mfa_enrolment_required?: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface School {
  id: string;
  district_id: string;
  name: string;
  code: string;
  kind: 'k12' | 'vocational';
  created_at: string;
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  district_id: string;
  disabled: boolean;
  created_at: string;
  mfa_enrolled?: boolean;
  sso_id?: string | null;
}

export interface MembershipView {
  id: string;
  user_id: string;
  username: string;
  display_name: string;
  scope_type: 'district' | 'school';
  district_id: string;
  school_id: string | null;
  school_name: string | null;
  role: Role;
  homeroom_id: string | null;
  created_at: string;
}

export interface OrgUnit {
  id: string;
  school_id: string;
  parent_id: string | null;
  kind: 'grade' | 'department' | 'homeroom';
  name: string;
  position: number;
}

export interface Guardian {
  name: string;
  relation: string;
  phone: string;
}

export interface Student {
  id: string;
  school_id: string;
  student_number: string;
  name: string;
  gender: 'male' | 'female';
  birth_date: string;
  grade_id: string;
  grade_name: string;
  homeroom_id: string;
  homeroom_name: string;
  status: 'enrolled' | 'graduated' | 'transferred';
  guardians: Guardian[];
}

export interface ImportResult {
  total: number;
  created: number;
  updated: number;
}

export interface AuditRow {
  id: string;
  seq: number;
  occurred_at: string;
  actor_id: string | null;
  actor_username: string;
  role: string;
  scope: string;
  action: string;
  object_type: string;
  object_id: string;
  outcome: 'allowed' | 'denied' | 'failed';
  request_id: string;
  client_ip: string;
  reason: string;
}

export interface FieldError {
  field?: string;
  row?: number;
  column?: string;
  code: string;
  message: string;
}

// Identity hardening (MFA, sessions, security settings).
export interface LoginResult {
  token: string;
  expires_at: string;
  mfa_required: boolean;
  challenge?: string;
  enrolment_required: boolean;
}

export interface MFAStatus {
  required: boolean;
  enrolled: boolean;
  recovery_codes_left: number;
}

export interface MFAEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_code_png: string;
}

export interface SessionInfo {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  client_ip: string;
  user_agent: string;
  method: 'password' | 'oidc';
  current: boolean;
}

export interface SecuritySettings {
  mfa_required: boolean;
  oidc_enabled: boolean;
  oidc_issuer: string;
  oidc_client_id: string;
  oidc_client_secret_env: string;
  oidc_claim: 'email' | 'sub';
  oidc_mfa_delegated: boolean;
  updated_at?: string | null;
}
