-- +goose Up
-- School term plans (学校学期计划): a school's answer to each indicator of a published
-- district plan — planned dates and owners (staff of the school) per indicator, and a
-- note — saved as a draft, submitted to the district, then accepted or returned (with a
-- reason) by the district. An accepted term plan is locked: no policy lets anybody
-- change it. The district sets the deadline of the term plans per plan
-- (term_plan_due_on; when empty, 30 days after the term starts). Term plans hold work
-- planning only, never student data.
ALTER TABLE district_plans ADD COLUMN term_plan_due_on date;

CREATE TABLE term_plans (
  school_id     uuid NOT NULL,
  plan_id       uuid NOT NULL,
  district_id   uuid NOT NULL,
  status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'accepted', 'returned')),
  plan_version  integer NOT NULL CHECK (plan_version > 0),
  answers       jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'array'),
  note          text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
  updated_by    uuid NOT NULL REFERENCES users (id),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  submitted_by  uuid REFERENCES users (id),
  submitted_at  timestamptz,
  reviewed_by   uuid REFERENCES users (id),
  reviewed_at   timestamptz,
  review_reason text NOT NULL DEFAULT '' CHECK (length(review_reason) <= 1000),
  PRIMARY KEY (school_id, plan_id),
  FOREIGN KEY (school_id, plan_id) REFERENCES plan_tasks (school_id, plan_id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  CHECK (status = 'draft' OR submitted_at IS NOT NULL)
);
CREATE INDEX term_plans_plan ON term_plans (district_id, plan_id);
ALTER TABLE term_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE term_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY term_plans_school_read ON term_plans FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
CREATE POLICY term_plans_school_insert ON term_plans FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND status = 'draft' AND updated_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
-- The school changes its term plan while it is a draft or returned; submitting is the
-- last change it makes.
CREATE POLICY term_plans_school_update ON term_plans FOR UPDATE
  USING (app_scope() = 'school' AND school_id = app_school_id() AND status IN ('draft', 'returned')
    AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])))
  WITH CHECK (status IN ('draft', 'returned', 'submitted') AND updated_by = app_user_id());
CREATE POLICY term_plans_district_read ON term_plans FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
-- District administrators accept or return a submitted term plan; an accepted one is final.
CREATE POLICY term_plans_district_review ON term_plans FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND status = 'submitted'
    AND (SELECT app_has_role(ARRAY['district_admin'])))
  WITH CHECK (status IN ('accepted', 'returned') AND reviewed_by = app_user_id());
GRANT SELECT, INSERT ON term_plans TO xinqiao_app;
GRANT UPDATE (status, plan_version, answers, note, updated_by, updated_at, submitted_by, submitted_at, reviewed_by, reviewed_at, review_reason)
  ON term_plans TO xinqiao_app;
