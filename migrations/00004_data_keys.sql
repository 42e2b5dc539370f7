-- +goose Up
-- Per-school data keys for encrypting notes and free text at rest (AES-256-GCM). Each key
-- is stored wrapped (encrypted) by a master key that lives only in the environment
-- (XINQIAO_MASTER_KEY). Rotating the master key re-wraps these rows; data stays as it is.
-- Destroying a school's keys (wrapped = NULL) makes its encrypted data unreadable.
CREATE TABLE school_data_keys (
  school_id     uuid NOT NULL REFERENCES schools (id),
  version       integer NOT NULL CHECK (version > 0),
  master_key_id text NOT NULL,
  wrapped       bytea,
  created_at    timestamptz NOT NULL DEFAULT now(),
  destroyed_at  timestamptz,
  PRIMARY KEY (school_id, version),
  CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

ALTER TABLE school_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE school_data_keys FORCE ROW LEVEL SECURITY;
-- A school's requests use its own keys; the key maintenance commands (app.scope = 'keys')
-- see every row, which holds nothing readable without the master key.
CREATE POLICY school_data_keys_school ON school_data_keys
  USING ((app_scope() = 'school' AND school_id = app_school_id()) OR app_scope() = 'keys');
GRANT SELECT, INSERT, UPDATE ON school_data_keys TO xinqiao_app;
