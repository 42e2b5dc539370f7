-- +goose Up
-- Identity hardening: TOTP multi-factor authentication with one-time recovery codes,
-- session stages (awaiting the second factor, enrolment required), idle tracking, the
-- district's security settings (MFA requirement, OIDC single sign-on) and the user's
-- single sign-on identifier.

-- A district's security settings. No row means the defaults: MFA required for district
-- roles, school leaders and counselors; no single sign-on.
CREATE TABLE district_security_settings (
  district_id            uuid PRIMARY KEY REFERENCES districts (id),
  mfa_required           boolean NOT NULL DEFAULT true,
  oidc_enabled           boolean NOT NULL DEFAULT false,
  oidc_issuer            text NOT NULL DEFAULT '' CHECK (length(oidc_issuer) <= 300),
  oidc_client_id         text NOT NULL DEFAULT '' CHECK (length(oidc_client_id) <= 200),
  oidc_client_secret_env text NOT NULL DEFAULT '' CHECK (oidc_client_secret_env ~ '^([A-Z][A-Z0-9_]{0,63})?$'),
  oidc_claim             text NOT NULL DEFAULT 'email' CHECK (oidc_claim IN ('email', 'sub')),
  oidc_mfa_delegated     boolean NOT NULL DEFAULT false,
  updated_at             timestamptz NOT NULL DEFAULT now(),
  updated_by             uuid,
  CHECK (NOT oidc_enabled OR (oidc_issuer <> '' AND oidc_client_id <> '' AND oidc_client_secret_env <> ''))
);

-- The demo district (`xinqiao seed demo`, never in production) keeps plain password logins
-- on databases seeded before this migration, as newly seeded ones do (internal/demo).
INSERT INTO district_security_settings (district_id, mfa_required) SELECT id, false FROM districts WHERE code = 'demo';

-- A user's TOTP secret, sealed with the master key (keyring.SealSecret). Unconfirmed
-- rows are enrolments in progress. last_step is the last accepted time step: a code of
-- that step or an earlier one is refused (no replay).
CREATE TABLE user_mfa (
  district_id   uuid NOT NULL,
  user_id       uuid NOT NULL,
  secret_sealed bytea NOT NULL,
  confirmed_at  timestamptz,
  last_step     bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, user_id),
  FOREIGN KEY (district_id, user_id) REFERENCES users (district_id, id)
);

-- One-time recovery codes, stored as SHA-256 of the normalised code only.
CREATE TABLE user_recovery_codes (
  district_id uuid NOT NULL,
  user_id     uuid NOT NULL,
  code_hash   bytea NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, user_id, code_hash),
  FOREIGN KEY (district_id, user_id) REFERENCES users (district_id, id)
);

-- Session stages: active; mfa (a login challenge waiting for the second factor, never
-- usable as a session); enrol (password accepted, the user must enrol in MFA first).
ALTER TABLE sessions ADD COLUMN stage text NOT NULL DEFAULT 'active' CHECK (stage IN ('active', 'mfa', 'enrol'));
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN method text NOT NULL DEFAULT 'password' CHECK (method IN ('password', 'oidc'));

-- The value of the district's OIDC claim (email or sub) that identifies the user.
ALTER TABLE users ADD COLUMN sso_id text CHECK (length(sso_id) BETWEEN 1 AND 254);
CREATE UNIQUE INDEX users_sso_id ON users (district_id, sso_id) WHERE sso_id IS NOT NULL;

ALTER TABLE district_security_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE district_security_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY district_security_settings_district ON district_security_settings
  USING (app_scope() = 'district' AND district_id = app_district_id());

ALTER TABLE user_mfa ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_mfa FORCE ROW LEVEL SECURITY;
CREATE POLICY user_mfa_own ON user_mfa USING (user_id = app_user_id() AND district_id = app_district_id());
CREATE POLICY user_mfa_admin ON user_mfa
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));

ALTER TABLE user_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY user_recovery_codes_own ON user_recovery_codes USING (user_id = app_user_id() AND district_id = app_district_id());
CREATE POLICY user_recovery_codes_admin ON user_recovery_codes
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));

-- District administrators list and revoke the sessions of their district's users.
CREATE POLICY sessions_district_admin ON sessions
  USING (app_scope() = 'district' AND (SELECT app_has_role(ARRAY['district_admin']))
    AND user_id IN (SELECT id FROM users WHERE district_id = app_district_id()));

CREATE POLICY district_security_settings_definer ON district_security_settings FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY user_mfa_definer ON user_mfa FOR SELECT TO CURRENT_USER USING (true);

-- +goose StatementBegin
-- A session (any stage) by token hash, before any request context exists.
CREATE FUNCTION auth_session_resolve(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, district_id uuid, username text, display_name text,
               expires_at timestamptz, last_seen_at timestamptz, stage text, method text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, u.id, u.district_id, u.username, u.display_name, s.expires_at, s.last_seen_at, s.stage, s.method
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled
$$;

-- Whether the user must use MFA (the district's setting and a role that needs it) and
-- whether it has enrolled.
CREATE FUNCTION auth_mfa_status(p_user_id uuid)
RETURNS TABLE (required boolean, enrolled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT d.mfa_required FROM district_security_settings d WHERE d.district_id = u.district_id), true)
           AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id
                       AND m.role IN ('district_admin', 'district_supervisor', 'researcher', 'school_leader', 'counselor')),
         EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = u.id AND f.district_id = u.district_id AND f.confirmed_at IS NOT NULL)
  FROM users u WHERE u.id = p_user_id
$$;

-- A district's single sign-on settings by district code (the public login page).
CREATE FUNCTION auth_oidc_config(p_code text)
RETURNS TABLE (district_id uuid, issuer text, client_id text, client_secret_env text, claim text, mfa_delegated boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.id, s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret_env, s.oidc_claim, s.oidc_mfa_delegated
  FROM districts d JOIN district_security_settings s ON s.district_id = d.id
  WHERE d.code = p_code AND s.oidc_enabled
$$;

-- The existing user a verified identity-provider claim names, in one district.
CREATE FUNCTION auth_sso_lookup(p_district_id uuid, p_sso_id text)
RETURNS TABLE (user_id uuid, username text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.username, u.disabled FROM users u WHERE u.district_id = p_district_id AND u.sso_id = p_sso_id
$$;
-- +goose StatementEnd

GRANT SELECT, INSERT, UPDATE ON district_security_settings TO xinqiao_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_mfa, user_recovery_codes TO xinqiao_app;
GRANT SELECT (sso_id), UPDATE (sso_id) ON users TO xinqiao_app;
REVOKE ALL ON FUNCTION auth_session_resolve(bytea), auth_mfa_status(uuid), auth_oidc_config(text), auth_sso_lookup(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_resolve(bytea), auth_mfa_status(uuid), auth_oidc_config(text), auth_sso_lookup(uuid, text) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'security_settings', 'read'),
  ('p', 'district_admin', 'district:*', 'security_settings', 'write'),
  ('p', 'district_admin', 'district:*', 'user_sessions', 'read'),
  ('p', 'district_admin', 'district:*', 'user_sessions', 'write'),
  ('p', 'district_admin', 'district:*', 'user_mfa', 'write');

-- +goose Down
DELETE FROM casbin_rule WHERE v2 IN ('security_settings', 'user_sessions', 'user_mfa');
DROP FUNCTION auth_sso_lookup(uuid, text);
DROP FUNCTION auth_oidc_config(text);
DROP FUNCTION auth_mfa_status(uuid);
DROP FUNCTION auth_session_resolve(bytea);
DROP POLICY sessions_district_admin ON sessions;
DROP INDEX users_sso_id;
ALTER TABLE users DROP COLUMN sso_id;
ALTER TABLE sessions DROP COLUMN method, DROP COLUMN last_seen_at, DROP COLUMN stage;
DROP TABLE user_recovery_codes;
DROP TABLE user_mfa;
DROP TABLE district_security_settings;
