-- +goose Up
-- Staff and guardian clients (教师、家长心理咨询): teachers and guardians counseled by the
-- school's counselors keep their own confidential file, apart from the students' case
-- files and from every statistic. Who they are and what was said are encrypted with the
-- school's data key; every read and write is audited. Only the school's counselors read
-- them — never the school leader, no district role — and a staff member never reads
-- their own file, whatever their roles.
CREATE TABLE client_files (
  school_id     uuid NOT NULL REFERENCES schools (id),
  id            uuid NOT NULL,
  client_kind   text NOT NULL CHECK (client_kind IN ('teacher', 'guardian')),
  staff_user_id uuid REFERENCES users (id), -- a teacher of the school with an account
  name          bytea NOT NULL,
  contact       bytea,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_by     uuid NOT NULL REFERENCES users (id),
  opened_at     timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  CHECK (client_kind = 'teacher' OR staff_user_id IS NULL)
);
CREATE UNIQUE INDEX client_files_one_per_staff ON client_files (school_id, staff_user_id) WHERE staff_user_id IS NOT NULL;
ALTER TABLE client_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_files FORCE ROW LEVEL SECURITY;
CREATE POLICY client_files_counselors ON client_files
  USING (app_scope() = 'school' AND school_id = app_school_id() AND staff_user_id IS DISTINCT FROM app_user_id()
    AND (SELECT app_has_role(ARRAY['counselor'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND staff_user_id IS DISTINCT FROM app_user_id()
    AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT, UPDATE ON client_files TO xinqiao_app;

CREATE TABLE client_sessions (
  school_id        uuid NOT NULL,
  id               uuid NOT NULL,
  client_file_id   uuid NOT NULL,
  occurred_at      timestamptz NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('walk_in', 'scheduled', 'phone', 'online')),
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
  summary          bytea NOT NULL,
  note             bytea,
  created_by       uuid NOT NULL REFERENCES users (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, client_file_id) REFERENCES client_files (school_id, id)
);
CREATE INDEX client_sessions_file ON client_sessions (school_id, client_file_id, occurred_at);
ALTER TABLE client_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_sessions FORCE ROW LEVEL SECURITY;
-- Through the file: whoever may not see the file sees none of its sessions.
CREATE POLICY client_sessions_counselors ON client_sessions
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor']))
    AND EXISTS (SELECT 1 FROM client_files f WHERE f.school_id = client_sessions.school_id AND f.id = client_sessions.client_file_id))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND created_by = app_user_id() AND (SELECT app_has_role(ARRAY['counselor']))
    AND EXISTS (SELECT 1 FROM client_files f WHERE f.school_id = client_sessions.school_id AND f.id = client_sessions.client_file_id));
-- Sessions are the file's history: never changed.
GRANT SELECT, INSERT ON client_sessions TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'client_files', 'read'),
  ('p', 'counselor', 'school:*', 'client_files', 'write');
