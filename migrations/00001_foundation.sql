-- +goose Up
-- Foundation: districts, schools (tenants), org trees, users, memberships, students,
-- sessions, login throttling, Casbin policy, append-only hash-chained audit log.
--
-- Migrations run as the owner role (xinqiao_owner). The application connects as
-- xinqiao_app, which owns nothing, is not superuser, has no BYPASSRLS and gets only
-- the privileges granted below. Every table holding school data has RLS ENABLED and
-- FORCED; policies read transaction-local settings (app.user_id, app.district_id,
-- app.school_id, app.scope) and match nothing when they are absent.

-- Request context, from transaction-local settings. NULL when unset or empty.
-- +goose StatementBegin
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;
CREATE FUNCTION app_district_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.district_id', true), '')::uuid
$$;
CREATE FUNCTION app_school_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.school_id', true), '')::uuid
$$;
CREATE FUNCTION app_scope() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.scope', true), '')
$$;
-- +goose StatementEnd

CREATE TABLE districts (
  id         uuid PRIMARY KEY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{2,32}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
  id          uuid PRIMARY KEY,
  district_id uuid NOT NULL REFERENCES districts (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  code        text NOT NULL CHECK (code ~ '^[a-z0-9-]{2,32}$'),
  kind        text NOT NULL CHECK (kind IN ('k12', 'vocational')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (district_id, code),
  UNIQUE (district_id, id)
);

-- A school's org tree: grade (K-12) or department (vocational) -> homeroom.
CREATE TABLE org_units (
  school_id   uuid NOT NULL,
  id          uuid NOT NULL,
  district_id uuid NOT NULL,
  parent_id   uuid,
  kind        text NOT NULL CHECK (kind IN ('grade', 'department', 'homeroom')),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  position    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (school_id, parent_id) REFERENCES org_units (school_id, id),
  CHECK ((kind = 'homeroom') = (parent_id IS NOT NULL)),
  UNIQUE NULLS NOT DISTINCT (school_id, parent_id, name)
);
CREATE INDEX org_units_parent ON org_units (school_id, parent_id);

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  district_id   uuid NOT NULL REFERENCES districts (id),
  username      text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 64),
  password_hash text NOT NULL,
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (username),
  UNIQUE (district_id, id)
);

CREATE TABLE memberships (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL,
  district_id uuid NOT NULL,
  scope_type  text NOT NULL CHECK (scope_type IN ('district', 'school')),
  school_id   uuid,
  role        text NOT NULL CHECK (role IN ('district_admin', 'district_supervisor', 'researcher',
                                            'school_leader', 'counselor', 'homeroom_teacher', 'peer_liaison')),
  homeroom_id uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid,
  FOREIGN KEY (district_id, user_id) REFERENCES users (district_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (school_id, homeroom_id) REFERENCES org_units (school_id, id),
  CHECK ((scope_type = 'district') = (school_id IS NULL)),
  CHECK ((scope_type = 'district') = (role IN ('district_admin', 'district_supervisor', 'researcher'))),
  CHECK (homeroom_id IS NULL OR role IN ('homeroom_teacher', 'peer_liaison')),
  UNIQUE NULLS NOT DISTINCT (user_id, school_id, role)
);
CREATE INDEX memberships_school ON memberships (school_id, role);
CREATE INDEX memberships_district ON memberships (district_id, scope_type);

CREATE TABLE students (
  school_id      uuid NOT NULL,
  id             uuid NOT NULL,
  student_number text NOT NULL CHECK (length(student_number) BETWEEN 1 AND 32),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  gender         text NOT NULL CHECK (gender IN ('male', 'female')),
  birth_date     date NOT NULL,
  grade_id       uuid NOT NULL,
  homeroom_id    uuid NOT NULL,
  status         text NOT NULL DEFAULT 'enrolled' CHECK (status IN ('enrolled', 'graduated', 'transferred')),
  guardians      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(guardians) = 'array'),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, student_number),
  FOREIGN KEY (school_id, grade_id) REFERENCES org_units (school_id, id),
  FOREIGN KEY (school_id, homeroom_id) REFERENCES org_units (school_id, id)
);
CREATE INDEX students_homeroom ON students (school_id, homeroom_id, student_number);
CREATE INDEX students_name ON students (school_id, name);

CREATE TABLE sessions (
  id           uuid PRIMARY KEY,
  token_hash   bytea NOT NULL UNIQUE,
  user_id      uuid NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  client_ip    text NOT NULL DEFAULT '',
  user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Login throttling, keyed by "user:<name>" and "ip:<addr>". Holds no school data.
CREATE TABLE login_throttle (
  key           text PRIMARY KEY,
  failures      integer NOT NULL DEFAULT 0,
  window_start  timestamptz NOT NULL DEFAULT now(),
  locked_until  timestamptz
);

-- Built-in Casbin policy (p rules). Role assignments (g rules) come from memberships.
CREATE TABLE casbin_rule (
  id    bigserial PRIMARY KEY,
  ptype text NOT NULL,
  v0    text NOT NULL DEFAULT '',
  v1    text NOT NULL DEFAULT '',
  v2    text NOT NULL DEFAULT '',
  v3    text NOT NULL DEFAULT '',
  v4    text NOT NULL DEFAULT '',
  v5    text NOT NULL DEFAULT '',
  UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- Append-only audit log, one hash chain per school ("school:<id>") or district
-- ("district:<id>"), plus "system" for requests without a tenant.
CREATE TABLE audit_log (
  chain          text NOT NULL,
  seq            bigint NOT NULL,
  id             uuid NOT NULL UNIQUE,
  occurred_at    timestamptz NOT NULL,
  district_id    uuid,
  school_id      uuid,
  actor_id       uuid,
  actor_username text NOT NULL DEFAULT '',
  role           text NOT NULL DEFAULT '',
  scope          text NOT NULL DEFAULT '',
  action         text NOT NULL,
  object_type    text NOT NULL DEFAULT '',
  object_id      text NOT NULL DEFAULT '',
  outcome        text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
  request_id     text NOT NULL DEFAULT '',
  client_ip      text NOT NULL DEFAULT '',
  reason         text NOT NULL DEFAULT '',
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  PRIMARY KEY (chain, seq),
  UNIQUE (school_id, chain, seq)
);
CREATE INDEX audit_log_school ON audit_log (school_id, occurred_at DESC) WHERE school_id IS NOT NULL;
CREATE INDEX audit_log_district ON audit_log (district_id, occurred_at DESC) WHERE school_id IS NULL;

CREATE TABLE audit_chain_heads (
  chain     text PRIMARY KEY,
  last_seq  bigint NOT NULL,
  last_hash text NOT NULL
);

-- The canonical content of an audit row: every field length-prefixed, so no field can
-- bleed into another. internal/audit computes the same bytes in Go to verify chains.
-- +goose StatementBegin
CREATE FUNCTION audit_canonical(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(octet_length(f)::text || ':' || f, '|' ORDER BY i)
  FROM unnest(ARRAY[
    a.chain, a.seq::text, a.id::text,
    to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce(a.district_id::text, ''), coalesce(a.school_id::text, ''), coalesce(a.actor_id::text, ''),
    a.actor_username, a.role, a.scope, a.action, a.object_type, a.object_id, a.outcome,
    a.request_id, a.client_ip, a.reason, a.prev_hash
  ]) WITH ORDINALITY AS t(f, i)
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
  head audit_chain_heads%ROWTYPE;
BEGIN
  NEW.chain := CASE
    WHEN NEW.school_id IS NOT NULL THEN 'school:' || NEW.school_id
    WHEN NEW.district_id IS NOT NULL THEN 'district:' || NEW.district_id
    ELSE 'system' END;
  NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
  INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (NEW.chain, 0, repeat('0', 64))
    ON CONFLICT (chain) DO NOTHING;
  SELECT * INTO head FROM audit_chain_heads WHERE chain = NEW.chain FOR UPDATE;
  NEW.seq := head.last_seq + 1;
  NEW.prev_hash := head.last_hash;
  NEW.hash := encode(sha256(convert_to(audit_canonical(NEW), 'UTF8')), 'hex');
  UPDATE audit_chain_heads SET last_seq = NEW.seq, last_hash = NEW.hash WHERE chain = NEW.chain;
  RETURN NEW;
END
$$;

CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- Does the current user hold one of these roles in the current scope? Reads memberships
-- as the owner so policies on memberships do not recurse. Policies call it inside a
-- scalar sub-select so it runs once per statement, not once per row.
-- +goose StatementBegin
CREATE FUNCTION app_has_role(roles text[]) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.user_id = app_user_id()
      AND m.role = ANY (roles)
      AND CASE app_scope()
            WHEN 'school' THEN m.scope_type = 'school' AND m.school_id = app_school_id()
            WHEN 'district' THEN m.scope_type = 'district' AND m.district_id = app_district_id()
            ELSE false END)
$$;

-- Homerooms the current user is homeroom teacher of, in the current school.
CREATE FUNCTION app_homerooms() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg(m.homeroom_id), '{}') FROM memberships m
  WHERE m.user_id = app_user_id() AND m.school_id = app_school_id()
    AND m.role = 'homeroom_teacher' AND m.homeroom_id IS NOT NULL
    AND app_scope() = 'school'
$$;

-- Login and token lookups run before any request context exists.
CREATE FUNCTION auth_login_lookup(p_username text)
RETURNS TABLE (user_id uuid, district_id uuid, password_hash text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.district_id, u.password_hash, u.disabled FROM users u WHERE u.username = lower(p_username)
$$;

CREATE FUNCTION auth_session_lookup(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, district_id uuid, username text, display_name text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, u.id, u.district_id, u.username, u.display_name, s.expires_at
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled
$$;

-- The actor's memberships, needed to resolve the scope of a request.
CREATE FUNCTION auth_memberships(p_user_id uuid)
RETURNS TABLE (id uuid, scope_type text, district_id uuid, district_name text, school_id uuid, school_name text,
               role text, homeroom_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.id, m.scope_type, m.district_id, d.name, m.school_id, s.name, m.role, m.homeroom_id
  FROM memberships m JOIN districts d ON d.id = m.district_id LEFT JOIN schools s ON s.id = m.school_id
  WHERE m.user_id = p_user_id ORDER BY m.scope_type, s.name, m.role
$$;

-- Every Casbin policy line: built-in p rules plus one g rule per membership.
CREATE FUNCTION casbin_policy_lines()
RETURNS TABLE (ptype text, v0 text, v1 text, v2 text, v3 text, v4 text, v5 text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.ptype, r.v0, r.v1, r.v2, r.v3, r.v4, r.v5 FROM casbin_rule r
  UNION ALL
  SELECT 'g', 'user:' || m.user_id, m.role,
         CASE m.scope_type WHEN 'district' THEN 'district:' || m.district_id ELSE 'school:' || m.school_id END,
         '', '', ''
  FROM memberships m
$$;

CREATE FUNCTION casbin_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('xinqiao_policy', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER memberships_policy AFTER INSERT OR UPDATE OR DELETE ON memberships
  FOR EACH STATEMENT EXECUTE FUNCTION casbin_policy_changed();
CREATE TRIGGER casbin_rule_policy AFTER INSERT OR UPDATE OR DELETE ON casbin_rule
  FOR EACH STATEMENT EXECUTE FUNCTION casbin_policy_changed();

-- Row-level security. With no settings present every predicate is NULL: nothing matches.
ALTER TABLE districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE districts FORCE ROW LEVEL SECURITY;
CREATE POLICY districts_tenant ON districts USING (id = app_district_id());

ALTER TABLE schools ENABLE ROW LEVEL SECURITY;
ALTER TABLE schools FORCE ROW LEVEL SECURITY;
CREATE POLICY schools_read ON schools FOR SELECT
  USING (district_id = app_district_id() AND (app_scope() = 'district' OR id = app_school_id()));
CREATE POLICY schools_insert ON schools FOR INSERT
  WITH CHECK (district_id = app_district_id() AND app_scope() = 'district');
CREATE POLICY schools_update ON schools FOR UPDATE
  USING (district_id = app_district_id() AND app_scope() = 'district');

ALTER TABLE org_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_units FORCE ROW LEVEL SECURITY;
CREATE POLICY org_units_tenant ON org_units
  USING ((app_scope() = 'school' AND school_id = app_school_id())
      OR (app_scope() = 'district' AND district_id = app_district_id()));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_read ON users FOR SELECT
  USING (district_id = app_district_id()
    AND (app_scope() = 'district' OR id = app_user_id()
         OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.school_id = app_school_id())));
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (district_id = app_district_id());
CREATE POLICY users_update ON users FOR UPDATE
  USING (district_id = app_district_id() AND (app_scope() = 'district' OR id = app_user_id()));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON memberships FOR SELECT
  USING (district_id = app_district_id()
    AND (app_scope() = 'district' OR school_id = app_school_id() OR user_id = app_user_id()));
CREATE POLICY memberships_insert ON memberships FOR INSERT
  WITH CHECK (district_id = app_district_id()
    AND (app_scope() = 'district' OR (school_id = app_school_id() AND role IN ('homeroom_teacher', 'peer_liaison'))));
CREATE POLICY memberships_delete ON memberships FOR DELETE
  USING (district_id = app_district_id()
    AND (app_scope() = 'district' OR (school_id = app_school_id() AND role IN ('homeroom_teacher', 'peer_liaison'))));

-- Students are visible only inside their school, to school roles that read rosters;
-- homeroom teachers see their own homerooms only. District roles never see them.
ALTER TABLE students ENABLE ROW LEVEL SECURITY;
ALTER TABLE students FORCE ROW LEVEL SECURITY;
CREATE POLICY students_tenant ON students
  USING (app_scope() = 'school' AND school_id = app_school_id()
    AND ((SELECT app_has_role(ARRAY['school_leader', 'counselor']))
         OR homeroom_id IN (SELECT unnest(app_homerooms()))))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id()
    AND (SELECT app_has_role(ARRAY['school_leader'])));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions USING (user_id = app_user_id());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT
  USING ((app_scope() = 'school' AND school_id = app_school_id())
      OR (app_scope() = 'district' AND school_id IS NULL AND district_id = app_district_id()));
CREATE POLICY audit_log_insert ON audit_log FOR INSERT
  WITH CHECK (district_id IS NOT DISTINCT FROM app_district_id()
          AND school_id IS NOT DISTINCT FROM app_school_id());

-- The SECURITY DEFINER functions above (login and session lookups, memberships, the
-- Casbin policy, role checks) run as the owner, which FORCE ROW LEVEL SECURITY also
-- binds. These policies name the owner role only: the app role can never use them, and
-- the owner could disable RLS on its own tables anyway.
CREATE POLICY districts_definer ON districts FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY schools_definer ON schools FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY users_definer ON users FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY memberships_definer ON memberships FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY sessions_definer ON sessions FOR SELECT TO CURRENT_USER USING (true);

-- Privileges of the application role: exactly what the code needs, nothing owned.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT SELECT, INSERT ON districts TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE ON schools TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON org_units TO xinqiao_app;
GRANT SELECT (id, district_id, username, display_name, disabled, created_at, updated_at) ON users TO xinqiao_app;
GRANT INSERT (id, district_id, username, display_name, password_hash, disabled) ON users TO xinqiao_app;
GRANT UPDATE (display_name, password_hash, disabled, updated_at) ON users TO xinqiao_app;
GRANT SELECT, INSERT, DELETE ON memberships TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON students TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE ON sessions TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO xinqiao_app;
GRANT SELECT ON casbin_rule TO xinqiao_app;
GRANT SELECT, INSERT ON audit_log TO xinqiao_app;
REVOKE ALL ON FUNCTION auth_login_lookup(text), auth_session_lookup(bytea), auth_memberships(uuid),
  casbin_policy_lines(), app_has_role(text[]), app_homerooms() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_login_lookup(text), auth_session_lookup(bytea), auth_memberships(uuid),
  casbin_policy_lines(), app_has_role(text[]), app_homerooms() TO xinqiao_app;

-- `xinqiao audit verify` reads every chain as the owner role with app.scope = 'audit';
-- this policy names the migrating (owner) role, so the app role can never use it.
CREATE POLICY audit_log_verify ON audit_log FOR SELECT TO CURRENT_USER USING (app_scope() = 'audit');
