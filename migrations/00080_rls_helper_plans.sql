-- +goose Up
-- Performance (issue 10): the helpers that row-level security policies call are
-- SECURITY DEFINER SQL functions, which PostgreSQL can neither inline nor keep a plan
-- for: every statement re-planned each helper body it touched (≈ 0.2 ms each, 8 of them
-- in a case-file read). The same bodies in PL/pgSQL keep their plans for the life of
-- the connection. Same names, arguments, results, owner, grants and security context.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_has_role(roles text[]) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.user_id = app_user_id()
      AND m.role = ANY (roles)
      AND CASE app_scope()
            WHEN 'school' THEN m.scope_type = 'school' AND m.school_id = app_school_id()
            WHEN 'district' THEN m.scope_type = 'district' AND m.district_id = app_district_id()
            ELSE false END);
END $$;

CREATE OR REPLACE FUNCTION app_homerooms() RETURNS uuid[] LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(m.homeroom_id), '{}') FROM memberships m
    WHERE m.user_id = app_user_id() AND m.school_id = app_school_id()
      AND m.role = 'homeroom_teacher' AND m.homeroom_id IS NOT NULL
      AND app_scope() = 'school');
END $$;

CREATE OR REPLACE FUNCTION caseload_open() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  RETURN NOT (app_scope() = 'school' AND app_has_role(ARRAY['counselor'])
    AND coalesce((SELECT caseload_only FROM school_settings WHERE school_id = app_school_id()), false));
END $$;

CREATE OR REPLACE FUNCTION case_file_assigned_to_me(p_school uuid, p_case_file uuid) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM case_file_counselors
    WHERE school_id = p_school AND case_file_id = p_case_file AND user_id = app_user_id());
END $$;

CREATE OR REPLACE FUNCTION case_file_emergency(p_school uuid, p_case_file uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM emergency_grants g
    WHERE g.grantee_id = app_user_id() AND g.school_id = p_school AND g.case_file_id = p_case_file
      AND g.expires_at > now() AND g.ended_at IS NULL
      AND CASE app_scope()
            WHEN 'school' THEN g.grantee_role = 'school_leader' AND p_school = app_school_id()
            WHEN 'district' THEN g.grantee_role = 'district_supervisor'
              AND EXISTS (SELECT 1 FROM schools s WHERE s.id = p_school AND s.district_id = app_district_id())
            ELSE false END
      AND app_has_role(ARRAY[g.grantee_role]));
END $$;

CREATE OR REPLACE FUNCTION student_emergency(p_school uuid, p_student uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = p_school AND c.student_id = p_student
    AND case_file_emergency(c.school_id, c.id));
END $$;

-- The two lookups behind every authenticated request.
CREATE OR REPLACE FUNCTION auth_session_lookup(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, district_id uuid, username text, display_name text, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT s.id, u.id, u.district_id, u.username, u.display_name, s.expires_at
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled;
END $$;

CREATE OR REPLACE FUNCTION auth_memberships(p_user_id uuid)
RETURNS TABLE (id uuid, scope_type text, district_id uuid, district_name text, school_id uuid, school_name text,
               role text, homeroom_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT m.id, m.scope_type, m.district_id, d.name, m.school_id, s.name, m.role, m.homeroom_id
  FROM memberships m JOIN districts d ON d.id = m.district_id LEFT JOIN schools s ON s.id = m.school_id
  WHERE m.user_id = p_user_id ORDER BY m.scope_type, s.name, m.role;
END $$;
-- The same for the session lookup of the identity hardening (00052).
CREATE OR REPLACE FUNCTION auth_session_resolve(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, district_id uuid, username text, display_name text,
               expires_at timestamptz, last_seen_at timestamptz, stage text, method text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT s.id, u.id, u.district_id, u.username, u.display_name, s.expires_at, s.last_seen_at, s.stage, s.method
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled;
END $$;
-- +goose StatementEnd

-- +goose Down
SELECT 1;
