-- +goose Up
-- The counseling room's week (心理辅导室): opening hours, each counselor's bookable slots,
-- closures (holidays, exam weeks), and appointments booked by a counselor or requested
-- through the school's public request page. Times of day are minutes in China time.
-- Double booking of a counselor is impossible: an exclusion constraint over the
-- appointment's time range (btree_gist) refuses overlapping live appointments.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE room_opening_hours (
  school_id  uuid NOT NULL REFERENCES schools (id),
  id         uuid NOT NULL,
  weekday    smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO: 1 = Monday
  opens_min  integer NOT NULL CHECK (opens_min BETWEEN 0 AND 1439),
  closes_min integer NOT NULL CHECK (closes_min BETWEEN 1 AND 1440),
  PRIMARY KEY (school_id, id),
  CHECK (opens_min < closes_min),
  CONSTRAINT room_opening_hours_no_overlap EXCLUDE USING gist (school_id WITH =, weekday WITH =, int4range(opens_min, closes_min) WITH &&)
);
ALTER TABLE room_opening_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE room_opening_hours FORCE ROW LEVEL SECURITY;
-- Opening hours are public: any actor of the school (also the public request page, which
-- runs with the school's scope and no user) reads them; leaders and counselors set them.
CREATE POLICY room_opening_hours_read ON room_opening_hours FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY room_opening_hours_write ON room_opening_hours
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
GRANT SELECT, INSERT, DELETE ON room_opening_hours TO xinqiao_app;

CREATE TABLE counselor_slots (
  school_id    uuid NOT NULL REFERENCES schools (id),
  id           uuid NOT NULL,
  counselor_id uuid NOT NULL REFERENCES users (id),
  weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  starts_min   integer NOT NULL CHECK (starts_min BETWEEN 0 AND 1439),
  ends_min     integer NOT NULL CHECK (ends_min BETWEEN 1 AND 1440),
  PRIMARY KEY (school_id, id),
  CHECK (starts_min < ends_min),
  CONSTRAINT counselor_slots_no_overlap EXCLUDE USING gist (school_id WITH =, counselor_id WITH =, weekday WITH =, int4range(starts_min, ends_min) WITH &&)
);
ALTER TABLE counselor_slots ENABLE ROW LEVEL SECURITY;
ALTER TABLE counselor_slots FORCE ROW LEVEL SECURITY;
CREATE POLICY counselor_slots_read ON counselor_slots FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
-- A counselor publishes their own bookable slots.
CREATE POLICY counselor_slots_own ON counselor_slots
  USING (app_scope() = 'school' AND school_id = app_school_id() AND counselor_id = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND counselor_id = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT, DELETE ON counselor_slots TO xinqiao_app;

-- Exceptions to the weekly pattern: the room (counselor_id NULL) or one counselor is
-- closed from starts_on to ends_on inclusive (national holidays, exam weeks, training).
CREATE TABLE room_closures (
  school_id    uuid NOT NULL REFERENCES schools (id),
  id           uuid NOT NULL,
  counselor_id uuid REFERENCES users (id),
  starts_on    date NOT NULL,
  ends_on      date NOT NULL,
  label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
  created_by   uuid NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  CHECK (starts_on <= ends_on AND ends_on - starts_on <= 366)
);
CREATE INDEX room_closures_dates ON room_closures (school_id, ends_on);
ALTER TABLE room_closures ENABLE ROW LEVEL SECURITY;
ALTER TABLE room_closures FORCE ROW LEVEL SECURITY;
CREATE POLICY room_closures_read ON room_closures FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY room_closures_write ON room_closures
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])))
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND created_by = app_user_id()
    AND (SELECT app_has_role(ARRAY['school_leader', 'counselor'])));
GRANT SELECT, INSERT, DELETE ON room_closures TO xinqiao_app;

-- Appointments. Who the client is (name, contact) is encrypted with the school's data key;
-- a student client is named by id. Requests from the public page carry no counselor
-- until one accepts them. Only booked and checked-in appointments hold the counselor's
-- time: the exclusion constraint makes overlapping ones impossible.
CREATE TABLE appointments (
  school_id         uuid NOT NULL REFERENCES schools (id),
  id                uuid NOT NULL,
  counselor_id      uuid REFERENCES users (id),
  client_kind       text NOT NULL CHECK (client_kind IN ('student', 'guardian', 'teacher')),
  student_id        uuid,
  client_name       bytea,
  contact           bytea,
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  status            text NOT NULL CHECK (status IN ('requested', 'booked', 'checked_in', 'cancelled', 'no_show', 'declined')),
  source            text NOT NULL CHECK (source IN ('counselor', 'public_request')),
  created_by        uuid REFERENCES users (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  answered_at       timestamptz,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  status_changed_by uuid REFERENCES users (id),
  cancel_reason     text CHECK (cancel_reason IN ('client_cancelled', 'counselor_unavailable', 'school_event', 'other')),
  case_file_id      uuid,
  session_id        uuid,
  requester_key     text CHECK (length(requester_key) <= 64), -- a keyed hash of the requester's address (rate limit), never the address
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  FOREIGN KEY (school_id, session_id) REFERENCES counseling_sessions (school_id, id),
  CHECK (starts_at < ends_at AND ends_at - starts_at <= interval '4 hours'),
  CHECK (status IN ('requested', 'declined') OR counselor_id IS NOT NULL),
  CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL)),
  CHECK (session_id IS NULL OR status = 'checked_in'),
  CHECK (source = 'public_request' OR created_by IS NOT NULL),
  CONSTRAINT appointments_no_double_booking EXCLUDE USING gist (
    school_id WITH =, counselor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status IN ('booked', 'checked_in'))
);
CREATE INDEX appointments_calendar ON appointments (school_id, starts_at);
CREATE INDEX appointments_requests ON appointments (school_id, status, created_at);
CREATE INDEX appointments_requester ON appointments (requester_key, created_at) WHERE requester_key IS NOT NULL;
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
-- The school's counselors run the room's calendar; nobody else sees who comes to the room.
CREATE POLICY appointments_counselors ON appointments
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT, UPDATE ON appointments TO xinqiao_app;

-- The public request page: with the school's scope and no user it may read the school's
-- name and submit a request, nothing else. The rate limit lives here, next to the insert:
-- at most 5 requests an hour from one address for one school, 60 an hour per school.
-- +goose StatementBegin
CREATE FUNCTION appointment_public_school(p_school uuid) RETURNS TABLE (district_id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.district_id, s.name FROM schools s WHERE s.id = p_school
$$;
CREATE POLICY appointments_definer ON appointments TO CURRENT_USER USING (true);
CREATE FUNCTION appointment_request_submit(p_school uuid, p_id uuid, p_kind text, p_name bytea, p_contact bytea,
  p_starts timestamptz, p_ends timestamptz, p_requester text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF app_scope() IS DISTINCT FROM 'school' OR app_school_id() IS DISTINCT FROM p_school OR app_user_id() IS NOT NULL THEN
    RAISE EXCEPTION 'not a public request of this school' USING ERRCODE = '42501';
  END IF;
  IF p_kind NOT IN ('student', 'guardian') THEN
    RAISE EXCEPTION 'requests come from students or guardians' USING ERRCODE = '23514';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('appointment_request:' || p_school::text, 0));
  IF (SELECT count(*) FROM appointments WHERE requester_key = p_requester AND school_id = p_school
        AND created_at > now() - interval '1 hour') >= 5
     OR (SELECT count(*) FROM appointments WHERE school_id = p_school AND source = 'public_request'
        AND created_at > now() - interval '1 hour') >= 60 THEN
    RAISE EXCEPTION 'too many requests' USING ERRCODE = 'XQ429';
  END IF;
  INSERT INTO appointments (school_id, id, client_kind, client_name, contact, starts_at, ends_at, status, source, requester_key)
  VALUES (p_school, p_id, p_kind, p_name, p_contact, p_starts, p_ends, 'requested', 'public_request', p_requester);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION appointment_public_school(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION appointment_public_school(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION appointment_request_submit(uuid, uuid, text, bytea, bytea, timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION appointment_request_submit(uuid, uuid, text, bytea, bytea, timestamptz, timestamptz, text) TO xinqiao_app;

-- Reminders run without a user: this function lists, across schools, the booked
-- appointments starting within the next p_ahead seconds with their counselor, and
-- nothing else (no client, no contact).
-- +goose StatementBegin
CREATE FUNCTION appointments_due_for_reminder(p_ahead bigint)
RETURNS TABLE (district_id uuid, school_id uuid, appointment_id uuid, counselor_id uuid, starts_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT sc.district_id, a.school_id, a.id, a.counselor_id, a.starts_at
  FROM appointments a JOIN schools sc ON sc.id = a.school_id
  WHERE a.status = 'booked' AND a.starts_at > now() AND a.starts_at <= now() + make_interval(secs => p_ahead)
  ORDER BY sc.district_id, a.school_id, a.starts_at, a.id
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION appointments_due_for_reminder(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION appointments_due_for_reminder(bigint) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'room_schedule', 'read'),
  ('p', 'school_leader', 'school:*', 'room_schedule', 'write'),
  ('p', 'counselor', 'school:*', 'room_schedule', 'read'),
  ('p', 'counselor', 'school:*', 'room_schedule', 'write'),
  ('p', 'homeroom_teacher', 'school:*', 'room_schedule', 'read'),
  ('p', 'counselor', 'school:*', 'appointments', 'read'),
  ('p', 'counselor', 'school:*', 'appointments', 'write');

-- Once a counselor accepts or declines a request, the "appointment requested" tasks of all
-- the school's counselors are done. Only the caller's own school, only these tasks.
-- +goose StatementBegin
CREATE FUNCTION close_appointment_request_tasks(p_school uuid, p_appointment uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  UPDATE inbox_items SET done_at = now(), read_at = coalesce(read_at, now())
  WHERE school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school' AND app_has_role(ARRAY['counselor'])
    AND subject_type = 'appointment' AND subject_id = p_appointment AND kind = 'appointment_requested' AND done_at IS NULL
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION close_appointment_request_tasks(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION close_appointment_request_tasks(uuid, uuid) TO xinqiao_app;
