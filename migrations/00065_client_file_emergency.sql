-- +goose Up
-- Emergency access (紧急查阅) to the files of staff and guardian clients, under the same
-- rules as a student's case file (00010, 00017): a school leader, or a district
-- supervisor of the school's district, gives a reason and re-enters their password; the
-- grant lasts at most 60 minutes, is read-only, every read is audited, the file's
-- counselors are told, and a district administrator reviews it. A grant names either a
-- case file or a client file. Expiry is enforced by row-level security at every query.
-- A staff member never opens their own file, not even this way.
ALTER TABLE emergency_grants ALTER COLUMN case_file_id DROP NOT NULL;
ALTER TABLE emergency_grants ADD COLUMN client_file_id uuid;
ALTER TABLE emergency_grants ADD CONSTRAINT emergency_grants_client_file_fk
  FOREIGN KEY (school_id, client_file_id) REFERENCES client_files (school_id, id);
ALTER TABLE emergency_grants ADD CONSTRAINT emergency_grants_one_target
  CHECK ((case_file_id IS NULL) <> (client_file_id IS NULL));
CREATE INDEX emergency_grants_client_file ON emergency_grants (school_id, client_file_id, granted_at DESC) WHERE client_file_id IS NOT NULL;
CREATE INDEX emergency_grants_client_active ON emergency_grants (grantee_id, school_id, client_file_id, expires_at) WHERE client_file_id IS NOT NULL;

-- The caseload rule (00015) binds grants on case files only: client files are read by
-- all the school's counselors, and so are the grants on them.
DROP POLICY emergency_grants_caseload ON emergency_grants;
CREATE POLICY emergency_grants_caseload ON emergency_grants AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING ((SELECT caseload_open()) OR case_file_id IS NULL OR case_file_assigned_to_me(school_id, case_file_id));

-- The functions below read client files as the owner (FORCE ROW LEVEL SECURITY binds it too).
CREATE POLICY client_files_emergency_definer ON client_files FOR SELECT TO CURRENT_USER USING (true);

-- +goose StatementBegin
-- Does the current user hold an active, unexpired grant for this client file, in the
-- current scope, and still hold the role the grant was given to? Never for their own file.
CREATE FUNCTION client_file_emergency(p_school uuid, p_client_file uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM emergency_grants g
    WHERE g.grantee_id = app_user_id() AND g.school_id = p_school AND g.client_file_id = p_client_file
      AND g.expires_at > now() AND g.ended_at IS NULL
      AND CASE app_scope()
            WHEN 'school' THEN g.grantee_role = 'school_leader' AND p_school = app_school_id()
            WHEN 'district' THEN g.grantee_role = 'district_supervisor'
              AND EXISTS (SELECT 1 FROM schools s WHERE s.id = p_school AND s.district_id = app_district_id())
            ELSE false END
      AND app_has_role(ARRAY[g.grantee_role])
      AND NOT EXISTS (SELECT 1 FROM client_files f WHERE f.school_id = p_school AND f.id = p_client_file
        AND f.staff_user_id = app_user_id()))
$$;

-- May the current user ask for emergency access to this client file: it exists in the
-- school and it is not their own? Tells nothing else.
CREATE FUNCTION client_file_emergency_target(p_school uuid, p_client_file uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM client_files f WHERE f.school_id = p_school AND f.id = p_client_file
    AND f.staff_user_id IS DISTINCT FROM app_user_id()
    AND CASE app_scope()
          WHEN 'school' THEN p_school = app_school_id()
          WHEN 'district' THEN EXISTS (SELECT 1 FROM schools s WHERE s.id = p_school AND s.district_id = app_district_id())
          ELSE false END)
$$;

-- A read under a grant of either kind: counts it and reports whether it is still active.
CREATE OR REPLACE FUNCTION emergency_grant_use(p_school uuid, p_grant uuid) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH u AS (
    UPDATE emergency_grants g SET read_count = g.read_count + 1, last_read_at = now()
    WHERE g.school_id = p_school AND g.id = p_grant AND g.grantee_id = app_user_id()
      AND CASE WHEN g.case_file_id IS NOT NULL THEN case_file_emergency(g.school_id, g.case_file_id)
               ELSE client_file_emergency(g.school_id, g.client_file_id) END
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION client_file_emergency(uuid, uuid), client_file_emergency_target(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION client_file_emergency(uuid, uuid), client_file_emergency_target(uuid, uuid) TO xinqiao_app;

-- No grant on a file that is not a possible target: also refused by the database.
CREATE POLICY emergency_grants_client_target ON emergency_grants AS RESTRICTIVE FOR INSERT
  WITH CHECK (client_file_id IS NULL OR client_file_emergency_target(school_id, client_file_id));

-- Read-only access through a grant: the file and its sessions (the application never
-- selects the counselor's private note for a grantee).
CREATE POLICY client_files_emergency ON client_files FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND client_file_emergency(school_id, id));
CREATE POLICY client_sessions_emergency ON client_sessions FOR SELECT
  USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND client_file_emergency(school_id, client_file_id));
