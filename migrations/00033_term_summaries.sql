-- +goose Up
-- Term summaries (期末小结 / 工作汇报): a school's account of a term, drafted from its data
-- (activities, barometer, mailbox, concerns, counseling sessions by category — counts
-- only, never a student), edited by the school, submitted, then approved or returned by
-- the district. An approved summary is locked: only the district reopens it.
CREATE TABLE term_summaries (
  school_id      uuid NOT NULL,
  term_id        uuid NOT NULL,
  district_id    uuid NOT NULL,
  status         text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
  figures        jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
  narrative      text NOT NULL DEFAULT '' CHECK (length(narrative) <= 20000),
  updated_by     uuid NOT NULL REFERENCES users (id),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  submitted_at   timestamptz,
  reviewed_by    uuid REFERENCES users (id),
  reviewed_at    timestamptz,
  review_comment text NOT NULL DEFAULT '' CHECK (length(review_comment) <= 2000),
  PRIMARY KEY (school_id, term_id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (district_id, term_id) REFERENCES terms (district_id, id)
);
CREATE INDEX term_summaries_review ON term_summaries (district_id, status, submitted_at);
ALTER TABLE term_summaries ENABLE ROW LEVEL SECURITY;
ALTER TABLE term_summaries FORCE ROW LEVEL SECURITY;
-- The school (leaders and counselors) writes its summary while it is not submitted or approved.
CREATE POLICY term_summaries_school_read ON term_summaries FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
CREATE POLICY term_summaries_school_insert ON term_summaries FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND status = 'draft'
    AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
CREATE POLICY term_summaries_school_update ON term_summaries FOR UPDATE
  USING (app_scope() = 'school' AND school_id = app_school_id() AND status IN ('draft', 'returned')
    AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])))
  WITH CHECK (status IN ('draft', 'returned', 'submitted'));
-- The district reads every summary of its schools and reviews the submitted ones; it
-- reopens an approved one (back to returned, with its comment).
CREATE POLICY term_summaries_district_read ON term_summaries FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY term_summaries_district_review ON term_summaries FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND status IN ('submitted', 'approved')
    AND (SELECT app_has_role(ARRAY['district_admin'])))
  WITH CHECK (status IN ('approved', 'returned'));
GRANT SELECT, INSERT ON term_summaries TO xinqiao_app;
GRANT UPDATE (status, figures, narrative, updated_by, updated_at, submitted_at, reviewed_by, reviewed_at, review_comment) ON term_summaries TO xinqiao_app;

-- Counseling sessions of a school between two days, counted by category: counts only, for
-- the summary of leaders who may not read case files.
CREATE POLICY counseling_sessions_summary_definer ON counseling_sessions FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION term_session_counts(p_school uuid, p_from date, p_to date) RETURNS TABLE (category text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c, count(*) FROM counseling_sessions s, unnest(s.categories) AS c
  WHERE s.school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school'
    AND (s.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to
  GROUP BY c ORDER BY c
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION term_session_counts(uuid, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION term_session_counts(uuid, date, date) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'term_summaries', 'read'),
  ('p', 'school_leader', 'school:*', 'term_summaries', 'write'),
  ('p', 'counselor', 'school:*', 'term_summaries', 'read'),
  ('p', 'counselor', 'school:*', 'term_summaries', 'write'),
  ('p', 'district_admin', 'district:*', 'school.term_summaries', 'read'),
  ('p', 'district_supervisor', 'district:*', 'school.term_summaries', 'read'),
  ('p', 'district_admin', 'district:*', 'term_summaries', 'read'),
  ('p', 'district_admin', 'district:*', 'term_summaries', 'write'),
  ('p', 'district_supervisor', 'district:*', 'term_summaries', 'read');
