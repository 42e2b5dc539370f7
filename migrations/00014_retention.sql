-- +goose Up
-- Retention (保存期限): a district keeps an archived case file for retention_years after
-- it was archived (default 10), then a daily job destroys it: every row of the file goes,
-- its document objects are removed from MinIO after the commit (an object left behind
-- by a crash is an orphan the reconciliation job removes), and a destruction record
-- says what was destroyed — counts, never content or identity.
ALTER TABLE districts ADD COLUMN retention_years integer NOT NULL DEFAULT 10 CHECK (retention_years BETWEEN 1 AND 30);
GRANT UPDATE (retention_years) ON districts TO xinqiao_app;
CREATE POLICY districts_admin_update ON districts AS RESTRICTIVE FOR UPDATE TO xinqiao_app
  USING (app_scope() = 'district' AND id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));

CREATE TABLE case_file_destructions (
  district_id   uuid NOT NULL REFERENCES districts (id),
  school_id     uuid NOT NULL REFERENCES schools (id),
  case_file_id  uuid NOT NULL,
  archived_at   timestamptz NOT NULL,
  destroyed_at  timestamptz NOT NULL DEFAULT now(),
  counts        jsonb NOT NULL,
  object_keys   text[] NOT NULL DEFAULT '{}',
  objects_removed_at timestamptz,
  PRIMARY KEY (school_id, case_file_id)
);
ALTER TABLE case_file_destructions ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_file_destructions FORCE ROW LEVEL SECURITY;
-- District administrators read the destruction records of their district.
CREATE POLICY case_file_destructions_district ON case_file_destructions FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY case_file_destructions_definer ON case_file_destructions TO CURRENT_USER USING (true);
GRANT SELECT ON case_file_destructions TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'retention', 'read'),
  ('p', 'district_admin', 'district:*', 'retention', 'write');

-- The destruction job runs without a user: it goes through this function, which can
-- destroy case files whose retention has run out and nothing else. It returns, per
-- destroyed file, the object keys the job must then remove from the district's bucket.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['case_files', 'case_file_counselors', 'counseling_sessions', 'session_addenda', 'risk_tier_changes',
      'case_file_handoffs', 'concerns', 'consents', 'consent_revocations', 'disclosures', 'refused_inquiries', 'support_plans',
      'support_plan_items', 'support_plan_reviews', 'documents', 'emergency_grants', 'inbox_items'] LOOP
    EXECUTE format('CREATE POLICY %I ON %I FOR DELETE TO CURRENT_USER USING (true)', t || '_retention', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO CURRENT_USER USING (true)', t || '_retention_read', t);
  END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION destroy_expired_case_files(p_limit integer)
RETURNS TABLE (district_id uuid, school_id uuid, case_file_id uuid, object_keys text[], counts jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  n jsonb;
  keys text[];
  c bigint;
  sessions uuid[];
  plans uuid[];
  consent_ids uuid[];
  subjects uuid[];
BEGIN
  FOR r IN
    SELECT cf.school_id AS school, cf.id AS file, cf.student_id AS student, cf.archived_at AS archived, sc.district_id AS district
    FROM case_files cf JOIN schools sc ON sc.id = cf.school_id JOIN districts d ON d.id = sc.district_id
    WHERE cf.status = 'archived' AND cf.archived_at IS NOT NULL
      AND cf.archived_at + make_interval(years => d.retention_years) < now()
    ORDER BY cf.archived_at
    LIMIT p_limit
    FOR UPDATE OF cf SKIP LOCKED
  LOOP
    n := '{}';
    SELECT coalesce(array_agg(id), '{}') INTO sessions FROM counseling_sessions s WHERE s.school_id = r.school AND s.case_file_id = r.file;
    SELECT coalesce(array_agg(id), '{}') INTO plans FROM support_plans p WHERE p.school_id = r.school AND p.case_file_id = r.file;
    SELECT coalesce(array_agg(id), '{}') INTO consent_ids FROM consents k WHERE k.school_id = r.school AND k.case_file_id = r.file;
    SELECT coalesce(array_agg(x.id), '{}') INTO subjects FROM (
      SELECT id FROM concerns q WHERE q.school_id = r.school AND (q.case_file_id = r.file OR q.student_id = r.student)
      UNION ALL SELECT id FROM emergency_grants g WHERE g.school_id = r.school AND g.case_file_id = r.file
      UNION ALL SELECT id FROM documents dd WHERE dd.school_id = r.school AND dd.case_file_id = r.file
      UNION ALL SELECT unnest(plans) UNION ALL SELECT unnest(sessions) UNION ALL SELECT r.file) x;
    SELECT coalesce(array_agg(object_key), '{}') INTO keys FROM documents dd WHERE dd.school_id = r.school AND dd.case_file_id = r.file;

    DELETE FROM inbox_items i WHERE i.school_id = r.school AND (i.case_file_id = r.file OR i.subject_id = ANY (subjects));
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('inbox_items', c);
    DELETE FROM documents dd WHERE dd.school_id = r.school AND dd.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('documents', c);
    DELETE FROM support_plan_reviews v WHERE v.school_id = r.school AND v.plan_id = ANY (plans);
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('support_plan_reviews', c);
    DELETE FROM support_plan_items v WHERE v.school_id = r.school AND v.plan_id = ANY (plans);
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('support_plan_items', c);
    DELETE FROM support_plans p WHERE p.school_id = r.school AND p.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('support_plans', c);
    DELETE FROM disclosures x WHERE x.school_id = r.school AND x.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('disclosures', c);
    DELETE FROM refused_inquiries x WHERE x.school_id = r.school AND x.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('refused_inquiries', c);
    DELETE FROM consent_revocations x WHERE x.school_id = r.school AND x.consent_id = ANY (consent_ids);
    DELETE FROM consents k WHERE k.school_id = r.school AND k.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('consents', c);
    DELETE FROM emergency_grants g WHERE g.school_id = r.school AND g.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('emergency_grants', c);
    DELETE FROM concerns q WHERE q.school_id = r.school AND (q.case_file_id = r.file OR q.student_id = r.student);
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('concerns', c);
    DELETE FROM session_addenda a WHERE a.school_id = r.school AND a.session_id = ANY (sessions);
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('session_addenda', c);
    DELETE FROM counseling_sessions s WHERE s.school_id = r.school AND s.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('sessions', c);
    DELETE FROM risk_tier_changes x WHERE x.school_id = r.school AND x.case_file_id = r.file;
    GET DIAGNOSTICS c = ROW_COUNT; n := n || jsonb_build_object('risk_tier_changes', c);
    DELETE FROM case_file_handoffs x WHERE x.school_id = r.school AND x.case_file_id = r.file;
    DELETE FROM case_file_counselors x WHERE x.school_id = r.school AND x.case_file_id = r.file;
    DELETE FROM case_files x WHERE x.school_id = r.school AND x.id = r.file;

    INSERT INTO case_file_destructions (district_id, school_id, case_file_id, archived_at, counts, object_keys)
    VALUES (r.district, r.school, r.file, r.archived, n, keys);
    district_id := r.district; school_id := r.school; case_file_id := r.file; object_keys := keys; counts := n;
    RETURN NEXT;
  END LOOP;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION destroy_expired_case_files(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION destroy_expired_case_files(integer) TO xinqiao_app;

-- After the job removed a destroyed file's objects it records so.
-- +goose StatementBegin
CREATE FUNCTION destruction_objects_removed(p_school uuid, p_case_file uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE case_file_destructions SET objects_removed_at = now() WHERE school_id = p_school AND case_file_id = p_case_file
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION destruction_objects_removed(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION destruction_objects_removed(uuid, uuid) TO xinqiao_app;

-- Destroyed files whose objects are not yet confirmed removed (a crash between the commit
-- and the removal leaves some; the next run finishes them).
-- +goose StatementBegin
CREATE FUNCTION destruction_objects_pending()
RETURNS TABLE (district_id uuid, school_id uuid, case_file_id uuid, object_keys text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT district_id, school_id, case_file_id, object_keys FROM case_file_destructions
  WHERE objects_removed_at IS NULL ORDER BY destroyed_at LIMIT 1000
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION destruction_objects_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION destruction_objects_pending() TO xinqiao_app;
