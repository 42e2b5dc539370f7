-- +goose Up
-- Annual research exports (科研数据导出): a researcher asks for fields from the published
-- codebook for some years, with an ethics approval reference; a district admin approves or
-- rejects it; only then the export job builds de-identified files (pseudonymous ids from a
-- keyed HMAC whose key exists only during the job, dates reduced to year and term, birth
-- dates to age bands, k-anonymous quasi-identifiers) into MinIO, and the researcher
-- downloads them for a limited time.
CREATE TABLE research_requests (
  district_id     uuid NOT NULL REFERENCES districts (id),
  id              uuid NOT NULL,
  researcher_id   uuid NOT NULL REFERENCES users (id),
  purpose         text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 2000),
  years           integer[] NOT NULL CHECK (cardinality(years) BETWEEN 1 AND 10),
  fields          text[] NOT NULL CHECK (cardinality(fields) >= 1),
  ethics_ref      text NOT NULL CHECK (length(ethics_ref) BETWEEN 1 AND 200),
  k               integer NOT NULL DEFAULT 5 CHECK (k BETWEEN 5 AND 100),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'running', 'ready', 'failed')),
  decided_by      uuid REFERENCES users (id),
  decision_reason text CHECK (length(decision_reason) <= 1000),
  decided_at      timestamptz,
  progress        integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  files           jsonb NOT NULL DEFAULT '[]',
  report          jsonb NOT NULL DEFAULT '{}',
  rows_exported   integer,
  ready_at        timestamptz,
  expires_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, id)
);
ALTER TABLE research_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE research_requests FORCE ROW LEVEL SECURITY;
-- Researchers see and file their own; district admins see and decide all of the district's.
CREATE POLICY research_requests_researcher ON research_requests
  USING (app_scope() = 'district' AND district_id = app_district_id() AND researcher_id = app_user_id()
    AND (SELECT app_has_role(ARRAY['researcher'])))
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND researcher_id = app_user_id() AND status = 'pending'
    AND (SELECT app_has_role(ARRAY['researcher'])));
CREATE POLICY research_requests_admin ON research_requests
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
-- The export job (app.scope = 'jobs') updates progress and results.
CREATE POLICY research_requests_job ON research_requests USING (app_scope() = 'jobs');
CREATE POLICY research_requests_definer ON research_requests TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON research_requests TO xinqiao_app;
GRANT UPDATE (status, decided_by, decision_reason, decided_at, progress, files, report, rows_exported, ready_at, expires_at) ON research_requests TO xinqiao_app;

-- The export's source rows: one per student and school year, identifiers only as the
-- student id (hashed in the job, never written) — no name, number or free text.
-- +goose StatementBegin
CREATE FUNCTION research_rows(p_district uuid, p_request uuid)
RETURNS TABLE (student_id uuid, school_code text, grade text, gender text, birth_year integer, year integer,
               has_case_file boolean, max_tier text, sessions bigint, crises bigint, referrals bigint,
               phq9_band text, gad7_band text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH r AS (
    SELECT * FROM research_requests WHERE district_id = p_district AND id = p_request AND status = 'running' AND app_scope() = 'jobs'
  ), y AS (
    SELECT unnest(r.years) AS year FROM r
  )
  SELECT st.id, sc.code, g.name, st.gender, extract(year FROM st.birth_date)::int, y.year,
    EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = st.school_id AND c.student_id = st.id
      AND extract(year FROM c.opened_at AT TIME ZONE 'Asia/Shanghai') <= y.year),
    coalesce((SELECT t.to_tier FROM risk_tier_changes t JOIN case_files c ON c.school_id = t.school_id AND c.id = t.case_file_id
      WHERE c.school_id = st.school_id AND c.student_id = st.id AND extract(year FROM t.changed_at AT TIME ZONE 'Asia/Shanghai') = y.year
      ORDER BY array_position(ARRAY['none', 'watch', 'elevated', 'high', 'crisis'], t.to_tier) DESC LIMIT 1), 'none'),
    (SELECT count(*) FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id
      WHERE c.school_id = st.school_id AND c.student_id = st.id AND extract(year FROM s.occurred_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT count(*) FROM crises k WHERE k.school_id = st.school_id AND k.student_id = st.id AND extract(year FROM k.opened_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT count(*) FROM referrals f WHERE f.school_id = st.school_id AND f.student_id = st.id AND extract(year FROM f.sent_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT a.band FROM assessments a WHERE a.school_id = st.school_id AND a.student_id = st.id AND a.instrument_code = 'phq9' AND a.valid
      AND extract(year FROM a.taken_at AT TIME ZONE 'Asia/Shanghai') = y.year ORDER BY a.taken_at DESC LIMIT 1),
    (SELECT a.band FROM assessments a WHERE a.school_id = st.school_id AND a.student_id = st.id AND a.instrument_code = 'gad7' AND a.valid
      AND extract(year FROM a.taken_at AT TIME ZONE 'Asia/Shanghai') = y.year ORDER BY a.taken_at DESC LIMIT 1)
  FROM r JOIN schools sc ON sc.district_id = r.district_id
  JOIN students st ON st.school_id = sc.id
  JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
  CROSS JOIN y
  ORDER BY st.id, y.year
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION research_rows(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION research_rows(uuid, uuid) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'researcher', 'district:*', 'research', 'read'),
  ('p', 'researcher', 'district:*', 'research', 'write'),
  ('p', 'district_admin', 'district:*', 'research', 'read'),
  ('p', 'district_admin', 'district:*', 'research_decisions', 'write');
