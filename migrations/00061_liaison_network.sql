-- +goose Up
-- The peer-liaison network (心理委员网络): trainings and meetings of the liaisons, recorded
-- by the school's counselors — date, topic, hours, the liaisons who attended and notes
-- about the meeting (never about students). Leaders read them; the district only counts
-- them for plan indicators (liaison trainings and meetings are activity types an
-- indicator may count).
CREATE TABLE liaison_events (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  district_id  uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('training', 'meeting')),
  held_on      date NOT NULL,
  topic        text NOT NULL CHECK (length(topic) BETWEEN 1 AND 120),
  hours        numeric(4, 1) NOT NULL CHECK (hours > 0 AND hours <= 24),
  attendee_ids uuid[] NOT NULL CHECK (cardinality(attendee_ids) BETWEEN 1 AND 500),
  notes        text NOT NULL DEFAULT '' CHECK (length(notes) <= 1000),
  recorded_by  uuid NOT NULL REFERENCES users (id),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id)
);
CREATE INDEX liaison_events_held ON liaison_events (school_id, held_on);
ALTER TABLE liaison_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE liaison_events FORCE ROW LEVEL SECURITY;
CREATE POLICY liaison_events_school_read ON liaison_events FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])));
CREATE POLICY liaison_events_counselor_insert ON liaison_events FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND recorded_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY liaison_events_district_read ON liaison_events FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
GRANT SELECT, INSERT ON liaison_events TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'liaison_network', 'read'),
  ('p', 'counselor', 'school:*', 'liaison_network', 'write'),
  ('p', 'school_leader', 'school:*', 'liaison_network', 'read');
