-- +goose Up
-- The weekly barometer (学生心理健康状况晴雨表) of peer liaisons (心理委员): the mood of the
-- homeroom on a scale and common concerns from a fixed list, one report per homeroom and
-- week. A liaison sees only their own reports; counselors and school leaders read the
-- school's (no names in them); the district counts them for compliance. A student the
-- liaison names goes to the counselors' intake queue as a concern with source
-- 'barometer' — never to the district, never to the homeroom teacher (teachers read only
-- the concerns they raised themselves).

-- Homerooms the current user is peer liaison of, in the current school.
-- +goose StatementBegin
CREATE FUNCTION app_liaison_homerooms() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg(m.homeroom_id), '{}') FROM memberships m
  WHERE m.user_id = app_user_id() AND m.school_id = app_school_id()
    AND m.role = 'peer_liaison' AND m.homeroom_id IS NOT NULL
    AND app_scope() = 'school'
$$;

-- The classmates a liaison may name: id and name of the students of their homerooms, nothing else.
CREATE FUNCTION liaison_classmates(p_school uuid) RETURNS TABLE (id uuid, name text, homeroom_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.name, s.homeroom_id FROM students s
  WHERE s.school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school'
    AND s.status = 'enrolled' AND s.homeroom_id = ANY (app_liaison_homerooms())
  ORDER BY s.name
$$;
-- +goose StatementEnd
CREATE POLICY students_liaison_classmates_definer ON students FOR SELECT TO CURRENT_USER USING (true);
REVOKE ALL ON FUNCTION app_liaison_homerooms(), liaison_classmates(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_liaison_homerooms(), liaison_classmates(uuid) TO xinqiao_app;

CREATE TABLE barometer_reports (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  district_id  uuid NOT NULL,
  homeroom_id  uuid NOT NULL,
  week_start   date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
  liaison_id   uuid NOT NULL REFERENCES users (id),
  mood         smallint NOT NULL CHECK (mood BETWEEN 1 AND 5),
  concerns     text[] NOT NULL DEFAULT '{}' CHECK (cardinality(concerns) <= 10),
  named        boolean NOT NULL DEFAULT false,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, homeroom_id, week_start),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id),
  FOREIGN KEY (school_id, homeroom_id) REFERENCES org_units (school_id, id)
);
ALTER TABLE barometer_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE barometer_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY barometer_reports_liaison_insert ON barometer_reports FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND liaison_id = app_user_id()
    AND homeroom_id = ANY (app_liaison_homerooms()));
CREATE POLICY barometer_reports_liaison_read ON barometer_reports FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND liaison_id = app_user_id());
CREATE POLICY barometer_reports_staff_read ON barometer_reports FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])));
CREATE POLICY barometer_reports_district_read ON barometer_reports FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
GRANT SELECT, INSERT ON barometer_reports TO xinqiao_app;

-- Concerns from the barometer: raised by the liaison about a classmate.
ALTER TABLE concerns ADD COLUMN source text NOT NULL DEFAULT 'teacher' CHECK (source IN ('teacher', 'barometer'));
CREATE POLICY concerns_liaisons_raise ON concerns FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND raised_by = app_user_id()
    AND source = 'barometer' AND status = 'received' AND case_file_id IS NULL AND handled_by IS NULL AND outcome IS NULL
    AND (SELECT app_has_role(ARRAY['peer_liaison']))
    AND student_id IN (SELECT c.id FROM liaison_classmates(school_id) c));
-- A teacher's own-concerns view never shows a barometer concern, even if a teacher is also a liaison.
DROP POLICY concerns_teachers_read ON concerns;
CREATE POLICY concerns_teachers_read ON concerns FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND raised_by = app_user_id() AND source = 'teacher'
    AND (SELECT app_has_role(ARRAY['homeroom_teacher'])));

-- The reminder job runs without a user: the liaisons whose homeroom has no report for the
-- week that starts on p_week, and nothing else.
CREATE POLICY barometer_reports_definer ON barometer_reports FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION barometer_missing(p_week date)
RETURNS TABLE (district_id uuid, school_id uuid, user_id uuid, homeroom_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.district_id, m.school_id, m.user_id, m.homeroom_id FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE m.role = 'peer_liaison' AND m.scope_type = 'school' AND m.homeroom_id IS NOT NULL AND NOT u.disabled
    AND extract(isodow FROM p_week) = 1
    AND NOT EXISTS (SELECT 1 FROM barometer_reports b WHERE b.school_id = m.school_id AND b.homeroom_id = m.homeroom_id AND b.week_start = p_week)
  ORDER BY m.school_id, m.user_id, m.homeroom_id
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION barometer_missing(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION barometer_missing(date) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'peer_liaison', 'school:*', 'barometer_form', 'read'),
  ('p', 'peer_liaison', 'school:*', 'barometer_form', 'write'),
  ('p', 'counselor', 'school:*', 'barometer', 'read'),
  ('p', 'school_leader', 'school:*', 'barometer', 'read');
