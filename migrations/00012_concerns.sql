-- +goose Up
-- Concerns (关注上报) raised by homeroom teachers about students of their own homeroom.
-- A concern lands in the counselors' intake queue (受理队列); the teacher sees its status
-- (received / in progress / closed) and never anything of the case file. What the teacher
-- observed is encrypted with the school's data key; so is the counselor's outcome note.
CREATE TABLE concerns (
  school_id         uuid NOT NULL,
  id                uuid NOT NULL,
  student_id        uuid NOT NULL,
  raised_by         uuid NOT NULL REFERENCES users (id),
  raised_at         timestamptz NOT NULL DEFAULT now(),
  urgency           text NOT NULL CHECK (urgency IN ('routine', 'soon', 'urgent')),
  observation       bytea NOT NULL,
  status            text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'in_progress', 'closed')),
  case_file_id      uuid,
  handled_by        uuid REFERENCES users (id),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  outcome           text CHECK (outcome IN ('case_opened', 'monitoring', 'no_action_needed', 'referred_elsewhere')),
  outcome_note      bytea,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK ((status = 'closed') = (outcome IS NOT NULL))
);
CREATE INDEX concerns_queue ON concerns (school_id, status, raised_at);
CREATE INDEX concerns_raised_by ON concerns (school_id, raised_by, raised_at DESC);
CREATE INDEX concerns_case_file ON concerns (school_id, case_file_id);
ALTER TABLE concerns ENABLE ROW LEVEL SECURITY;
ALTER TABLE concerns FORCE ROW LEVEL SECURITY;
-- Counselors: the whole intake queue of their school.
CREATE POLICY concerns_counselors ON concerns
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
-- Homeroom teachers: raise concerns about students of their own homerooms, read their own.
CREATE POLICY concerns_teachers_read ON concerns FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND raised_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['homeroom_teacher'])));
CREATE POLICY concerns_teachers_raise ON concerns FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND raised_by = app_user_id()
    AND status = 'received' AND case_file_id IS NULL AND handled_by IS NULL AND outcome IS NULL
    AND (SELECT app_has_role(ARRAY['homeroom_teacher']))
    AND EXISTS (SELECT 1 FROM students s WHERE s.school_id = concerns.school_id AND s.id = concerns.student_id
      AND s.homeroom_id = ANY (app_homerooms())));
GRANT SELECT, INSERT, UPDATE ON concerns TO xinqiao_app;

-- The counselors of a school, for addressing intake notifications (ids only).
-- +goose StatementBegin
CREATE FUNCTION school_counselors(p_school uuid) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE m.scope_type = 'school' AND m.school_id = p_school AND m.role = 'counselor' AND NOT u.disabled
    AND p_school = app_school_id() AND app_scope() = 'school'
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION school_counselors(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION school_counselors(uuid) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'homeroom_teacher', 'school:*', 'concerns', 'read'),
  ('p', 'homeroom_teacher', 'school:*', 'concerns', 'write'),
  ('p', 'counselor', 'school:*', 'intake', 'read'),
  ('p', 'counselor', 'school:*', 'intake', 'write');

-- Once a counselor takes a concern in or closes it, the "concern raised" tasks of all
-- the school's counselors are done. Only the caller's own school, only these tasks.
CREATE POLICY inbox_items_definer ON inbox_items TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION close_concern_tasks(p_school uuid, p_concern uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  UPDATE inbox_items SET done_at = now(), read_at = coalesce(read_at, now())
  WHERE school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school' AND app_has_role(ARRAY['counselor'])
    AND subject_type = 'concern' AND subject_id = p_concern AND kind = 'concern_raised' AND done_at IS NULL
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION close_concern_tasks(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION close_concern_tasks(uuid, uuid) TO xinqiao_app;
