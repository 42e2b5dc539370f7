-- +goose Up
-- Case files (一人一档案) and counseling sessions. Free text (summaries, next steps, notes,
-- private notes, addenda) is stored encrypted with the school's data key (internal/keyring).
-- Only the school's counselors reach these tables; everyone else sees nothing through RLS.
CREATE TABLE case_files (
  school_id  uuid NOT NULL,
  id         uuid NOT NULL,
  student_id uuid NOT NULL,
  status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'monitoring', 'closed', 'archived')),
  opened_at  timestamptz NOT NULL DEFAULT now(),
  opened_by  uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, student_id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id)
);

CREATE TABLE case_file_counselors (
  school_id    uuid NOT NULL,
  case_file_id uuid NOT NULL,
  user_id      uuid NOT NULL REFERENCES users (id),
  assigned_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, case_file_id, user_id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id)
);

CREATE TABLE counseling_sessions (
  school_id           uuid NOT NULL,
  id                  uuid NOT NULL,
  case_file_id        uuid NOT NULL,
  occurred_at         timestamptz NOT NULL,
  channel             text NOT NULL CHECK (channel IN ('walk_in', 'scheduled', 'phone', 'online', 'letter', 'mailbox')),
  participants        text[] NOT NULL CHECK (participants <@ ARRAY['student', 'guardian', 'teacher'] AND cardinality(participants) > 0),
  initiated_by        text NOT NULL CHECK (initiated_by IN ('self', 'teacher', 'guardian', 'screening', 'counselor')),
  categories          text[] NOT NULL DEFAULT '{}',
  duration_minutes    integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
  summary             bytea NOT NULL,
  next_steps          bytea,
  note                bytea,
  note_signed_at      timestamptz,
  note_signed_by      uuid,
  private_note        bytea,
  private_note_author uuid,
  created_by          uuid NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK ((note_signed_at IS NULL) = (note_signed_by IS NULL))
);
CREATE INDEX counseling_sessions_file ON counseling_sessions (school_id, case_file_id, occurred_at);

CREATE TABLE session_addenda (
  school_id  uuid NOT NULL,
  id         uuid NOT NULL,
  session_id uuid NOT NULL,
  body       bytea NOT NULL,
  author     uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, session_id) REFERENCES counseling_sessions (school_id, id)
);

-- A signed note is locked: only addenda may follow.
-- +goose StatementBegin
CREATE FUNCTION counseling_sessions_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.note_signed_at IS NOT NULL AND (NEW.note IS DISTINCT FROM OLD.note OR NEW.note_signed_at IS DISTINCT FROM OLD.note_signed_at
      OR NEW.summary IS DISTINCT FROM OLD.summary OR NEW.next_steps IS DISTINCT FROM OLD.next_steps) THEN
    RAISE EXCEPTION 'a signed session note is locked' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER counseling_sessions_lock BEFORE UPDATE ON counseling_sessions FOR EACH ROW EXECUTE FUNCTION counseling_sessions_lock();

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['case_files', 'case_file_counselors', 'counseling_sessions', 'session_addenda'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I USING (app_scope() = 'school' AND school_id = app_school_id()
      AND (SELECT app_has_role(ARRAY['counselor'])))$p$, t || '_counselors', t);
  END LOOP;
END $$;
-- +goose StatementEnd
GRANT SELECT, INSERT, UPDATE ON case_files, case_file_counselors, counseling_sessions, session_addenda TO xinqiao_app;
-- Addenda are never changed.
REVOKE UPDATE ON session_addenda FROM xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'case_files', 'read'),
  ('p', 'counselor', 'school:*', 'case_files', 'write');

-- Notes older than 24 hours are signed automatically by a periodic job. It runs without a
-- user, so it goes through this function, which can sign notes and do nothing else.
CREATE POLICY counseling_sessions_definer ON counseling_sessions TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION sign_overdue_notes(p_age_seconds bigint)
RETURNS TABLE (district_id uuid, school_id uuid, signed bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH s AS (
    UPDATE counseling_sessions SET note_signed_at = now(), note_signed_by = created_by
    WHERE note_signed_at IS NULL AND created_at < now() - p_age_seconds * interval '1 second'
    RETURNING school_id)
  SELECT sc.district_id, s.school_id, count(*) FROM s JOIN schools sc ON sc.id = s.school_id GROUP BY sc.district_id, s.school_id
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION sign_overdue_notes(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sign_overdue_notes(bigint) TO xinqiao_app;
