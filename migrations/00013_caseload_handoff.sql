-- +goose Up
-- Per-school settings, the caseload-only rule, hand-off between counselors, and archiving
-- the case file of a student who graduates or transfers.

CREATE TABLE school_settings (
  school_id     uuid PRIMARY KEY REFERENCES schools (id),
  -- When on, a counselor sees only the case files assigned to them (their caseload);
  -- when off (the default), every case file of the school.
  caseload_only boolean NOT NULL DEFAULT false,
  updated_by    uuid REFERENCES users (id),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE school_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE school_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY school_settings_read ON school_settings FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY school_settings_leaders ON school_settings
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader'])));
CREATE POLICY school_settings_definer ON school_settings FOR SELECT TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON school_settings TO xinqiao_app;

-- caseload_open: true unless the actor is a counselor of a school whose case files are
-- caseload-only. Policies call it as (SELECT caseload_open()): evaluated once per query.
-- +goose StatementBegin
CREATE FUNCTION caseload_open() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT NOT (app_scope() = 'school' AND app_has_role(ARRAY['counselor'])
    AND coalesce((SELECT caseload_only FROM school_settings WHERE school_id = app_school_id()), false))
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION case_file_assigned_to_me(p_school uuid, p_case_file uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM case_file_counselors
    WHERE school_id = p_school AND case_file_id = p_case_file AND user_id = app_user_id())
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION caseload_open() FROM PUBLIC;
REVOKE ALL ON FUNCTION case_file_assigned_to_me(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caseload_open() TO xinqiao_app;
GRANT EXECUTE ON FUNCTION case_file_assigned_to_me(uuid, uuid) TO xinqiao_app;

-- The caseload rule, on top of the counselor policies (restrictive: ANDed with them).
-- Reads only: a row a counselor cannot see they cannot update either; new rows are
-- checked by the services against the (visible) case file.
CREATE POLICY case_files_caseload ON case_files AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, id));
CREATE POLICY case_file_counselors_caseload ON case_file_counselors AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, case_file_id));
CREATE POLICY counseling_sessions_caseload ON counseling_sessions AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, case_file_id));
CREATE POLICY risk_tier_changes_caseload ON risk_tier_changes AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, case_file_id));
CREATE POLICY session_addenda_caseload ON session_addenda AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR EXISTS (SELECT 1 FROM counseling_sessions s
    WHERE s.school_id = session_addenda.school_id AND s.id = session_addenda.session_id));
CREATE POLICY concerns_caseload ON concerns AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_id IS NULL OR case_file_assigned_to_me(school_id, case_file_id));

-- Hand-off: the assignment history of a case file (who handed it to whom, and why).
CREATE TABLE case_file_handoffs (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  case_file_id uuid NOT NULL,
  from_users   uuid[] NOT NULL,
  to_users     uuid[] NOT NULL CHECK (cardinality(to_users) BETWEEN 1 AND 3),
  reason       bytea NOT NULL,
  handed_by    uuid NOT NULL REFERENCES users (id),
  handed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id)
);
ALTER TABLE case_file_handoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_file_handoffs FORCE ROW LEVEL SECURITY;
CREATE POLICY case_file_handoffs_counselors ON case_file_handoffs
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY case_file_handoffs_caseload ON case_file_handoffs AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, case_file_id));
GRANT SELECT, INSERT ON case_file_handoffs TO xinqiao_app;
GRANT DELETE ON case_file_counselors TO xinqiao_app;

-- Archive: a student who graduates or transfers leaves a read-only archived case file.
ALTER TABLE case_files ADD COLUMN archived_at timestamptz;
ALTER TABLE case_files ADD COLUMN archive_reason text CHECK (archive_reason IN ('graduated', 'transferred', 'closed'));
CREATE INDEX case_files_archived ON case_files (archived_at) WHERE archived_at IS NOT NULL;
CREATE POLICY case_files_archiver ON case_files FOR UPDATE TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION students_archive_case_file() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.status IN ('graduated', 'transferred') AND OLD.status IS DISTINCT FROM NEW.status THEN
    UPDATE case_files SET status = 'archived', archived_at = now(), archive_reason = NEW.status, updated_at = now()
    WHERE school_id = NEW.school_id AND student_id = NEW.id AND status <> 'archived';
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER students_archive_case_file AFTER UPDATE OF status ON students
  FOR EACH ROW EXECUTE FUNCTION students_archive_case_file();
-- An archived case file stays archived and takes no new entries.
-- +goose StatementBegin
CREATE FUNCTION case_files_archived_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'archived' AND (NEW.status <> 'archived' OR NEW.risk_tier IS DISTINCT FROM OLD.risk_tier) THEN
    RAISE EXCEPTION 'an archived case file is read-only' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'archived' AND NEW.archived_at IS NULL THEN
    NEW.archived_at := now();
    NEW.archive_reason := coalesce(NEW.archive_reason, 'closed');
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER case_files_archived_lock BEFORE UPDATE ON case_files FOR EACH ROW EXECUTE FUNCTION case_files_archived_lock();

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'school_settings', 'read'),
  ('p', 'school_leader', 'school:*', 'school_settings', 'write'),
  ('p', 'counselor', 'school:*', 'school_settings', 'read');
