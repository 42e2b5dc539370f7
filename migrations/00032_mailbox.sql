-- +goose Up
-- The counseling mailbox (心理辅导信箱): a public page per school where students leave a
-- message, anonymous or named. Nothing identifying is stored with it — no IP address, no
-- browser — only what the student chose to write, encrypted with the school's data key.
-- The sender may come back with the reply code shown once (only its SHA-256 is kept) to
-- read the answer. The school's counselors read and answer; a named message may be
-- linked to the student's case file.
CREATE TABLE mailbox_messages (
  school_id        uuid NOT NULL REFERENCES schools (id),
  id               uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  anonymous        boolean NOT NULL,
  sender_name      bytea,
  sender_homeroom  bytea,
  body             bytea NOT NULL,
  reply_code_hash  bytea NOT NULL UNIQUE CHECK (length(reply_code_hash) = 32),
  status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'answered')),
  answer           bytea,
  answered_by      uuid REFERENCES users (id),
  answered_at      timestamptz,
  student_id       uuid,
  case_file_id     uuid,
  linked_by        uuid REFERENCES users (id),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK (anonymous = (sender_name IS NULL)),
  CHECK ((status = 'answered') = (answer IS NOT NULL AND answered_by IS NOT NULL AND answered_at IS NOT NULL)),
  CHECK (case_file_id IS NULL OR (NOT anonymous AND student_id IS NOT NULL))
);
CREATE INDEX mailbox_messages_inbox ON mailbox_messages (school_id, status, created_at DESC);
ALTER TABLE mailbox_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE mailbox_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY mailbox_messages_counselors ON mailbox_messages
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
-- The public page writes as the school with no user at all (never as an account).
CREATE POLICY mailbox_messages_public_post ON mailbox_messages FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND app_user_id() IS NULL
    AND status = 'new' AND answer IS NULL AND student_id IS NULL AND case_file_id IS NULL);
GRANT SELECT, INSERT ON mailbox_messages TO xinqiao_app;
GRANT UPDATE (status, answer, answered_by, answered_at, student_id, case_file_id, linked_by) ON mailbox_messages TO xinqiao_app;

CREATE POLICY mailbox_messages_definer ON mailbox_messages FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
-- The public page's school: its name and district, when it exists.
CREATE FUNCTION mailbox_school(p_school uuid) RETURNS TABLE (district_id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.district_id, s.name FROM schools s WHERE s.id = p_school
$$;
-- How many messages the school received lately (the mailbox's spam limit).
CREATE FUNCTION mailbox_recent(p_school uuid, p_since timestamptz) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT count(*)::integer FROM mailbox_messages WHERE school_id = p_school AND created_at >= p_since
$$;
-- The answer to the message of a reply code (sealed: the caller decrypts it as the school).
CREATE FUNCTION mailbox_reply(p_school uuid, p_hash bytea) RETURNS TABLE (status text, answer bytea, answered_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.status, m.answer, m.answered_at, m.created_at FROM mailbox_messages m WHERE m.school_id = p_school AND m.reply_code_hash = p_hash
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION mailbox_school(uuid), mailbox_recent(uuid, timestamptz), mailbox_reply(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailbox_school(uuid), mailbox_recent(uuid, timestamptz), mailbox_reply(uuid, bytea) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'mailbox', 'read'),
  ('p', 'counselor', 'school:*', 'mailbox', 'write');
