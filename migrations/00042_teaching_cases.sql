-- +goose Up
-- Teaching cases (典型案例) for supervision and training. A counselor drafts one from a
-- closed case file: the system removes or generalizes names, numbers, dates, school,
-- homeroom and free-text identifiers. The draft is its author's alone and is sealed with
-- the school's data key (it may still hold what the redaction missed). The counselor
-- reviews every field and publishes it to the district's case bank: the published row
-- holds the reviewed text only — no school, no author, no case file. The link back to the
-- original file is kept only in the audit log (the draft's audit entry).
CREATE TABLE teaching_cases (
  district_id  uuid NOT NULL REFERENCES districts (id),
  id           uuid NOT NULL,
  status       text NOT NULL CHECK (status IN ('draft', 'published')),
  school_id    uuid,
  author_id    uuid REFERENCES users (id),
  draft        bytea,
  title        text CHECK (length(title) <= 200),
  fields       jsonb CHECK (jsonb_typeof(fields) = 'object' AND length(fields::text) <= 100000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (district_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  CHECK ((status = 'draft') = (school_id IS NOT NULL AND author_id IS NOT NULL AND draft IS NOT NULL)),
  CHECK ((status = 'published') = (published_at IS NOT NULL AND title IS NOT NULL AND fields IS NOT NULL
    AND school_id IS NULL AND author_id IS NULL AND draft IS NULL))
);
CREATE INDEX teaching_cases_bank ON teaching_cases (district_id, published_at DESC) WHERE status = 'published';
ALTER TABLE teaching_cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE teaching_cases FORCE ROW LEVEL SECURITY;
-- A draft: its author (a counselor of the school) only.
CREATE POLICY teaching_cases_draft ON teaching_cases
  USING (status = 'draft' AND app_scope() = 'school' AND school_id = app_school_id() AND district_id = app_district_id()
    AND author_id = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])))
  WITH CHECK (status = 'draft' AND app_scope() = 'school' AND school_id = app_school_id() AND district_id = app_district_id()
    AND author_id = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])));
-- Publishing turns the author's draft into an anonymous published case.
CREATE POLICY teaching_cases_publish ON teaching_cases FOR UPDATE
  USING (status = 'draft' AND app_scope() = 'school' AND school_id = app_school_id() AND district_id = app_district_id()
    AND author_id = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])))
  WITH CHECK (status = 'published' AND district_id = app_district_id() AND app_scope() = 'school'
    AND (SELECT app_has_role(ARRAY['counselor'])));
-- The district's case bank: counselors of its schools, its administrators and supervisors.
CREATE POLICY teaching_cases_bank ON teaching_cases FOR SELECT
  USING (status = 'published' AND district_id = app_district_id() AND (
    (app_scope() = 'school' AND (SELECT app_has_role(ARRAY['counselor'])))
    OR (app_scope() = 'district' AND (SELECT app_has_role(ARRAY['district_admin', 'district_supervisor'])))));
GRANT SELECT, INSERT, UPDATE, DELETE ON teaching_cases TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'teaching_cases', 'read'),
  ('p', 'counselor', 'school:*', 'teaching_cases', 'write'),
  ('p', 'district_admin', 'district:*', 'teaching_cases', 'read'),
  ('p', 'district_supervisor', 'district:*', 'teaching_cases', 'read');
