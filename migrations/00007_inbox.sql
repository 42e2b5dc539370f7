-- +goose Up
-- The inbox (待办与通知): notifications and tasks addressed to one staff member of a
-- school — a case file opened by emergency access, a support plan whose review is due,
-- a concern raised by a homeroom teacher. Items carry kinds and ids, never free text
-- from a case file. A user reads and closes only their own items; any actor of the
-- school (or of its district) may address an item to a colleague there.
CREATE TABLE inbox_items (
  school_id    uuid NOT NULL REFERENCES schools (id),
  id           uuid NOT NULL,
  user_id      uuid NOT NULL REFERENCES users (id),
  kind         text NOT NULL CHECK (kind ~ '^[a-z_]{2,64}$'),
  is_task      boolean NOT NULL DEFAULT false,
  case_file_id uuid,
  subject_type text NOT NULL DEFAULT '' CHECK (length(subject_type) <= 64),
  subject_id   uuid,
  params       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object' AND length(params::text) <= 2000),
  dedupe_key   text CHECK (length(dedupe_key) <= 200),
  due_at       timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  read_at      timestamptz,
  done_at      timestamptz,
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, user_id, dedupe_key)
);
CREATE INDEX inbox_items_user ON inbox_items (school_id, user_id, done_at, created_at DESC);
CREATE INDEX inbox_items_case_file ON inbox_items (school_id, case_file_id);
ALTER TABLE inbox_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_items FORCE ROW LEVEL SECURITY;
CREATE POLICY inbox_items_own ON inbox_items
  USING (app_scope() = 'school' AND school_id = app_school_id() AND user_id = app_user_id());
CREATE POLICY inbox_items_post_school ON inbox_items FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY inbox_items_post_district ON inbox_items FOR INSERT
  WITH CHECK (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id()));
GRANT SELECT, INSERT, UPDATE ON inbox_items TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'inbox', 'read'),
  ('p', 'school_leader', 'school:*', 'inbox', 'write'),
  ('p', 'counselor', 'school:*', 'inbox', 'read'),
  ('p', 'counselor', 'school:*', 'inbox', 'write'),
  ('p', 'homeroom_teacher', 'school:*', 'inbox', 'read'),
  ('p', 'homeroom_teacher', 'school:*', 'inbox', 'write'),
  ('p', 'peer_liaison', 'school:*', 'inbox', 'read'),
  ('p', 'peer_liaison', 'school:*', 'inbox', 'write');
