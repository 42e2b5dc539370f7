-- +goose Up
-- Emergency access (紧急查阅, break-glass): a school leader, or a district supervisor of
-- the school's district, opens one case file outside their rights for at most 60 minutes
-- after giving a reason and re-entering their password. The reason is encrypted with the
-- school's data key. Every grant waits in a review queue until a district administrator
-- closes it with a verdict.
--
-- Reading is decided in the database at every query: the SELECT policies below let a row
-- of a case file through when case_file_emergency() finds an active, unexpired grant of
-- the current user for that file — so a grant that expires stops working mid-session.
-- Private process notes stay with their author: the application never selects them for
-- anybody else (see casefile.sessions).
CREATE TABLE emergency_grants (
  school_id      uuid NOT NULL REFERENCES schools (id),
  id             uuid NOT NULL,
  case_file_id   uuid NOT NULL,
  grantee_id     uuid NOT NULL REFERENCES users (id),
  grantee_role   text NOT NULL CHECK (grantee_role IN ('school_leader', 'district_supervisor')),
  grantee_name   text NOT NULL CHECK (length(grantee_name) BETWEEN 1 AND 64),
  reason         bytea NOT NULL,
  granted_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  read_count     integer NOT NULL DEFAULT 0,
  last_read_at   timestamptz,
  verdict        text CHECK (verdict IN ('justified', 'not_justified')),
  reviewed_by    uuid REFERENCES users (id),
  reviewer_name  text,
  reviewed_at    timestamptz,
  review_comment text CHECK (length(review_comment) <= 2000),
  PRIMARY KEY (school_id, id),
  UNIQUE (id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK (expires_at > granted_at AND expires_at <= granted_at + interval '60 minutes'),
  CHECK ((verdict IS NULL) = (reviewed_at IS NULL) AND (verdict IS NULL) = (reviewed_by IS NULL))
);
CREATE INDEX emergency_grants_active ON emergency_grants (grantee_id, school_id, case_file_id, expires_at);
CREATE INDEX emergency_grants_case_file ON emergency_grants (school_id, case_file_id, granted_at DESC);
CREATE INDEX emergency_grants_review ON emergency_grants (school_id, (verdict IS NULL), granted_at DESC);

ALTER TABLE emergency_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE emergency_grants FORCE ROW LEVEL SECURITY;
-- In a school: the grantee sees their own grants; the school's counselors see the grants
-- on the school's case files (who, when, until when — never the reason).
CREATE POLICY emergency_grants_school_read ON emergency_grants FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id()
    AND (grantee_id = app_user_id() OR (SELECT app_has_role(ARRAY['counselor']))));
-- In a district: the grantee (a supervisor) sees their own grants; district
-- administrators see every grant of the district's schools, to review them.
CREATE POLICY emergency_grants_district_read ON emergency_grants FOR SELECT
  USING (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
    AND (grantee_id = app_user_id() OR (SELECT app_has_role(ARRAY['district_admin']))));
CREATE POLICY emergency_grants_request ON emergency_grants FOR INSERT
  WITH CHECK (grantee_id = app_user_id() AND read_count = 0 AND verdict IS NULL AND ended_at IS NULL
    AND ((app_scope() = 'school' AND school_id = app_school_id() AND grantee_role = 'school_leader'
          AND (SELECT app_has_role(ARRAY['school_leader'])))
      OR (app_scope() = 'district' AND grantee_role = 'district_supervisor'
          AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
          AND (SELECT app_has_role(ARRAY['district_supervisor'])))));
CREATE POLICY emergency_grants_review ON emergency_grants FOR UPDATE
  USING (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
    AND (SELECT app_has_role(ARRAY['district_admin'])))
  WITH CHECK (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
    AND reviewed_by = app_user_id());
-- The functions below run as the owner, which FORCE ROW LEVEL SECURITY also binds.
CREATE POLICY emergency_grants_definer ON emergency_grants TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON emergency_grants TO xinqiao_app;
GRANT UPDATE (verdict, reviewed_by, reviewer_name, reviewed_at, review_comment) ON emergency_grants TO xinqiao_app;

-- Does the current user hold an active, unexpired grant for this case file, in the
-- current scope (their school as its leader, or a school of their district as its
-- supervisor), and still hold the role the grant was given to?
-- +goose StatementBegin
CREATE FUNCTION case_file_emergency(p_school uuid, p_case_file uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM emergency_grants g
    WHERE g.grantee_id = app_user_id() AND g.school_id = p_school AND g.case_file_id = p_case_file
      AND g.expires_at > now() AND g.ended_at IS NULL
      AND CASE app_scope()
            WHEN 'school' THEN g.grantee_role = 'school_leader' AND p_school = app_school_id()
            WHEN 'district' THEN g.grantee_role = 'district_supervisor'
              AND EXISTS (SELECT 1 FROM schools s WHERE s.id = p_school AND s.district_id = app_district_id())
            ELSE false END
      AND app_has_role(ARRAY[g.grantee_role]))
$$;

-- The same for a student: is the student's case file open to the user by a grant?
CREATE FUNCTION student_emergency(p_school uuid, p_student uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = p_school AND c.student_id = p_student
    AND case_file_emergency(c.school_id, c.id))
$$;

-- Counts one read under a grant and reports whether the grant is still active; nothing
-- else of the grant can change this way.
CREATE FUNCTION emergency_grant_use(p_school uuid, p_grant uuid) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH u AS (
    UPDATE emergency_grants g SET read_count = g.read_count + 1, last_read_at = now()
    WHERE g.school_id = p_school AND g.id = p_grant AND g.grantee_id = app_user_id()
      AND case_file_emergency(g.school_id, g.case_file_id)
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;
-- +goose StatementEnd
-- student_emergency() reads case_files as the owner (named apart from other features' definer policies).
CREATE POLICY case_files_emergency_definer ON case_files FOR SELECT TO CURRENT_USER USING (true);
REVOKE ALL ON FUNCTION case_file_emergency(uuid, uuid), student_emergency(uuid, uuid), emergency_grant_use(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION case_file_emergency(uuid, uuid), student_emergency(uuid, uuid), emergency_grant_use(uuid, uuid) TO xinqiao_app;

-- Read-only access through a grant. The role check runs once per statement, so other
-- roles never pay for the per-row lookup.
CREATE POLICY case_files_emergency ON case_files FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND case_file_emergency(school_id, id));
CREATE POLICY case_file_counselors_emergency ON case_file_counselors FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND case_file_emergency(school_id, case_file_id));
CREATE POLICY counseling_sessions_emergency ON counseling_sessions FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND case_file_emergency(school_id, case_file_id));
CREATE POLICY session_addenda_emergency ON session_addenda FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND EXISTS (
    SELECT 1 FROM counseling_sessions s WHERE s.school_id = session_addenda.school_id AND s.id = session_addenda.session_id
      AND case_file_emergency(s.school_id, s.case_file_id)));
CREATE POLICY risk_tier_changes_emergency ON risk_tier_changes FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND case_file_emergency(school_id, case_file_id));
-- The student of the file (name, number, homeroom): a district supervisor sees no
-- students otherwise.
CREATE POLICY students_emergency ON students FOR SELECT
  USING ((SELECT app_has_role(ARRAY['district_supervisor'])) AND app_scope() = 'district' AND student_emergency(school_id, id));

-- Data keys of a school, for district roles: supervisors (to encrypt the reason of their
-- request — the first key of a school may be created then — and read the file under a
-- grant) and administrators (to read the reasons they review). A key opens nothing by
-- itself: the encrypted rows stay behind the policies above.
CREATE POLICY school_data_keys_district_read ON school_data_keys FOR SELECT
  USING (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
    AND (SELECT app_has_role(ARRAY['district_admin', 'district_supervisor'])));
CREATE POLICY school_data_keys_district_insert ON school_data_keys FOR INSERT
  WITH CHECK (app_scope() = 'district' AND school_id IN (SELECT id FROM schools WHERE district_id = app_district_id())
    AND (SELECT app_has_role(ARRAY['district_supervisor'])));

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'emergency_access', 'read'),
  ('p', 'school_leader', 'school:*', 'emergency_access', 'write'),
  ('p', 'district_supervisor', 'district:*', 'school.emergency_access', 'read'),
  ('p', 'district_supervisor', 'district:*', 'school.emergency_access', 'write'),
  ('p', 'district_admin', 'district:*', 'emergency_reviews', 'read'),
  ('p', 'district_admin', 'district:*', 'emergency_reviews', 'write');
