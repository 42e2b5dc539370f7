-- +goose Up
-- District plans (区计划) and school programs: terms, plans with indicators and their
-- version history, the task each target school gets on publication, school activities
-- (lectures, group sessions, themed months, parent-school events, staff trainings,
-- counseling-room opening hours) and their evidence documents (bytes in MinIO).
-- Activities hold counts and descriptions of school work, never student data, so the
-- district may read them to drill into compliance; compliance itself is computed from
-- these rows on every read (never typed in).

-- Terms (学期) of a district: activities must fall inside their term.
CREATE TABLE terms (
  district_id uuid NOT NULL REFERENCES districts (id),
  id          uuid NOT NULL,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  starts_on   date NOT NULL,
  ends_on     date NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, id),
  UNIQUE (district_id, name),
  CHECK (ends_on > starts_on AND ends_on - starts_on <= 400)
);
ALTER TABLE terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE terms FORCE ROW LEVEL SECURITY;
CREATE POLICY terms_read ON terms FOR SELECT
  USING (district_id = app_district_id() AND app_scope() IN ('district', 'school'));
CREATE POLICY terms_admin_insert ON terms FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT ON terms TO xinqiao_app;

-- District plans: the current text (title, indicators, targets) lives here; every
-- publication and amendment is copied to district_plan_versions. indicators is a JSON
-- array validated by the application (internal/program).
CREATE TABLE district_plans (
  district_id  uuid NOT NULL REFERENCES districts (id),
  id           uuid NOT NULL,
  term_id      uuid NOT NULL,
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
  indicators   jsonb NOT NULL CHECK (jsonb_typeof(indicators) = 'array'),
  all_schools  boolean NOT NULL DEFAULT true,
  school_ids   uuid[] NOT NULL DEFAULT '{}',
  status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
  version      integer NOT NULL DEFAULT 0 CHECK (version >= 0),
  created_by   uuid NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (district_id, id),
  FOREIGN KEY (district_id, term_id) REFERENCES terms (district_id, id),
  CHECK ((status = 'published') = (version > 0 AND published_at IS NOT NULL)),
  CHECK (all_schools OR cardinality(school_ids) > 0)
);
ALTER TABLE district_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE district_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY district_plans_district_read ON district_plans FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY district_plans_admin_insert ON district_plans FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY district_plans_admin_update ON district_plans FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
-- Schools read the published plans addressed to them.
CREATE POLICY district_plans_school_read ON district_plans FOR SELECT
  USING (app_scope() = 'school' AND district_id = app_district_id() AND status = 'published'
    AND (all_schools OR app_school_id() = ANY (school_ids)));
GRANT SELECT, INSERT, UPDATE ON district_plans TO xinqiao_app;

CREATE TABLE district_plan_versions (
  district_id  uuid NOT NULL,
  plan_id      uuid NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  title        text NOT NULL,
  indicators   jsonb NOT NULL,
  all_schools  boolean NOT NULL,
  school_ids   uuid[] NOT NULL,
  note         text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  published_by uuid NOT NULL REFERENCES users (id),
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, plan_id, version),
  FOREIGN KEY (district_id, plan_id) REFERENCES district_plans (district_id, id)
);
ALTER TABLE district_plan_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE district_plan_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_plan_versions_read ON district_plan_versions FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY district_plan_versions_admin_insert ON district_plan_versions FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT ON district_plan_versions TO xinqiao_app;

-- The task of a school for a published plan, created by the publication (or by an
-- amendment that adds the school). The school reads its tasks; the district all of them.
CREATE TABLE plan_tasks (
  school_id   uuid NOT NULL,
  plan_id     uuid NOT NULL,
  district_id uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, plan_id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (district_id, plan_id) REFERENCES district_plans (district_id, id)
);
CREATE INDEX plan_tasks_plan ON plan_tasks (district_id, plan_id);
ALTER TABLE plan_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE plan_tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY plan_tasks_school_read ON plan_tasks FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY plan_tasks_district_read ON plan_tasks FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY plan_tasks_admin_insert ON plan_tasks FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT ON plan_tasks TO xinqiao_app;

-- School activities. details holds the type-specific fields (group sessions: theme,
-- sessions, facilitators, confidentiality rule), validated by the application.
CREATE TABLE activities (
  school_id     uuid NOT NULL,
  id            uuid NOT NULL,
  district_id   uuid NOT NULL,
  term_id       uuid NOT NULL,
  type          text NOT NULL CHECK (type IN ('lecture', 'group_session', 'themed_month', 'parent_event', 'staff_training', 'room_hours')),
  title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
  held_on       date NOT NULL,
  audience      text NOT NULL CHECK (audience IN ('students', 'parents', 'staff', 'mixed')),
  audience_size integer NOT NULL CHECK (audience_size BETWEEN 0 AND 100000),
  attendance    integer NOT NULL CHECK (attendance BETWEEN 0 AND 100000),
  hours         numeric(6, 1) CHECK (hours > 0 AND hours <= 1000),
  details       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
  recorded_by   uuid NOT NULL REFERENCES users (id),
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (district_id, term_id) REFERENCES terms (district_id, id),
  CHECK (attendance <= audience_size)
);
CREATE INDEX activities_term ON activities (school_id, term_id, type, held_on);
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities FORCE ROW LEVEL SECURITY;
CREATE POLICY activities_school ON activities
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND recorded_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])));
CREATE POLICY activities_district_read ON activities FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
GRANT SELECT, INSERT ON activities TO xinqiao_app;

-- Evidence documents: of an activity, or of a yes/no indicator of a plan. The bytes are
-- in the district's bucket under <school>/evidence/<id> (not a case-file document key,
-- so the document orphan job never touches them).
CREATE TABLE program_evidence (
  school_id      uuid NOT NULL,
  id             uuid NOT NULL,
  district_id    uuid NOT NULL,
  activity_id    uuid,
  plan_id        uuid,
  indicator_code text,
  title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  filename       text NOT NULL CHECK (length(filename) BETWEEN 1 AND 130),
  content_type   text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/webp',
                   'application/vnd.openxmlformats-officedocument.wordprocessingml.document')),
  size_bytes     bigint NOT NULL CHECK (size_bytes > 0),
  sha256         bytea NOT NULL CHECK (length(sha256) = 32),
  object_key     text NOT NULL UNIQUE CHECK (object_key = school_id::text || '/evidence/' || id::text),
  uploaded_by    uuid NOT NULL REFERENCES users (id),
  uploaded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (school_id, activity_id) REFERENCES activities (school_id, id),
  FOREIGN KEY (school_id, plan_id) REFERENCES plan_tasks (school_id, plan_id),
  CHECK ((activity_id IS NOT NULL) <> (plan_id IS NOT NULL)),
  CHECK ((plan_id IS NULL) = (indicator_code IS NULL))
);
CREATE INDEX program_evidence_activity ON program_evidence (school_id, activity_id);
CREATE INDEX program_evidence_indicator ON program_evidence (school_id, plan_id, indicator_code);
ALTER TABLE program_evidence ENABLE ROW LEVEL SECURITY;
ALTER TABLE program_evidence FORCE ROW LEVEL SECURITY;
CREATE POLICY program_evidence_school ON program_evidence
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND uploaded_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])));
CREATE POLICY program_evidence_district_read ON program_evidence FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
GRANT SELECT, INSERT ON program_evidence TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'terms', 'read'),
  ('p', 'district_admin', 'district:*', 'terms', 'write'),
  ('p', 'district_supervisor', 'district:*', 'terms', 'read'),
  ('p', 'school_leader', 'school:*', 'terms', 'read'),
  ('p', 'counselor', 'school:*', 'terms', 'read'),
  ('p', 'district_admin', 'district:*', 'district_plans', 'read'),
  ('p', 'district_admin', 'district:*', 'district_plans', 'write'),
  ('p', 'district_supervisor', 'district:*', 'district_plans', 'read'),
  ('p', 'school_leader', 'school:*', 'plan_tasks', 'read'),
  ('p', 'school_leader', 'school:*', 'plan_tasks', 'write'),
  ('p', 'counselor', 'school:*', 'plan_tasks', 'read'),
  ('p', 'counselor', 'school:*', 'plan_tasks', 'write'),
  ('p', 'district_admin', 'district:*', 'school.plan_tasks', 'read'),
  ('p', 'district_supervisor', 'district:*', 'school.plan_tasks', 'read'),
  ('p', 'school_leader', 'school:*', 'activities', 'read'),
  ('p', 'school_leader', 'school:*', 'activities', 'write'),
  ('p', 'counselor', 'school:*', 'activities', 'read'),
  ('p', 'counselor', 'school:*', 'activities', 'write'),
  ('p', 'district_admin', 'district:*', 'school.activities', 'read'),
  ('p', 'district_supervisor', 'district:*', 'school.activities', 'read');
