-- +goose Up
-- Crisis intervention (危机干预) with timed steps and escalation, partner institutions and
-- closed-loop referrals (转介) with a one-time acknowledgement link for the institution.

-- Deadlines per risk level, set by the district. A crisis must be risk-assessed within
-- ack minutes of being opened and the guardian notified within guardian minutes; an
-- overdue crisis goes to the school leaders, then leader minutes later to the district.
CREATE TABLE crisis_settings (
  district_id               uuid PRIMARY KEY REFERENCES districts (id),
  deadlines                 jsonb NOT NULL CHECK (jsonb_typeof(deadlines) = 'object'),
  leader_escalation_minutes integer NOT NULL DEFAULT 60 CHECK (leader_escalation_minutes BETWEEN 5 AND 1440),
  backdate_minutes          integer NOT NULL DEFAULT 120 CHECK (backdate_minutes BETWEEN 0 AND 1440),
  feedback_days             integer NOT NULL DEFAULT 14 CHECK (feedback_days BETWEEN 1 AND 90),
  updated_by                uuid REFERENCES users (id),
  updated_at                timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE crisis_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE crisis_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY crisis_settings_read ON crisis_settings FOR SELECT
  USING (app_scope() IN ('district', 'school') AND district_id = app_district_id());
CREATE POLICY crisis_settings_insert ON crisis_settings FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY crisis_settings_update ON crisis_settings FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY crisis_settings_definer ON crisis_settings TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON crisis_settings TO xinqiao_app;

CREATE TABLE crises (
  school_id             uuid NOT NULL,
  id                    uuid NOT NULL,
  case_file_id          uuid NOT NULL,
  student_id            uuid NOT NULL,
  source                text NOT NULL CHECK (source IN ('screening_alert', 'counselor', 'concern')),
  source_id             uuid,
  level                 text NOT NULL CHECK (level IN ('low', 'moderate', 'high', 'imminent')),
  status                text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_by             uuid NOT NULL REFERENCES users (id),
  opened_at             timestamptz NOT NULL,
  ack_due_at            timestamptz NOT NULL,
  guardian_due_at       timestamptz NOT NULL,
  assessed_at           timestamptz,
  guardian_notified_at  timestamptz,
  escalation            text NOT NULL DEFAULT 'none' CHECK (escalation IN ('none', 'leader', 'district')),
  leader_escalated_at   timestamptz,
  district_escalated_at timestamptz,
  closed_at             timestamptz,
  outcome               text CHECK (outcome IN ('stabilised', 'referred_treatment', 'hospitalised', 'transferred', 'other')),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id) ON DELETE CASCADE,
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  CHECK ((status = 'closed') = (closed_at IS NOT NULL) AND (status = 'closed') = (outcome IS NOT NULL))
);
CREATE UNIQUE INDEX crises_one_open_per_file ON crises (school_id, case_file_id) WHERE status = 'open';
CREATE INDEX crises_school ON crises (school_id, status, opened_at DESC);
CREATE INDEX crises_due ON crises (ack_due_at, guardian_due_at) WHERE status = 'open';
ALTER TABLE crises ENABLE ROW LEVEL SECURITY;
ALTER TABLE crises FORCE ROW LEVEL SECURITY;
CREATE POLICY crises_counselors ON crises
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY crises_leaders_read ON crises FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader'])));
CREATE POLICY crises_definer ON crises TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON crises TO xinqiao_app;
GRANT UPDATE (level, ack_due_at, guardian_due_at, assessed_at, guardian_notified_at, status, closed_at, outcome) ON crises TO xinqiao_app;

-- Steps are append-only: corrections are addenda that name the step they correct.
CREATE TABLE crisis_steps (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  crisis_id    uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('reported', 'risk_assessed', 'safety_actions', 'guardian_notified', 'referred',
                                             'follow_up_scheduled', 'follow_up_done', 'closed', 'addendum')),
  actor_id     uuid REFERENCES users (id),
  occurred_at  timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  level        text CHECK (level IN ('low', 'moderate', 'high', 'imminent')),
  method       text CHECK (length(method) <= 64),
  guardian     text CHECK (length(guardian) <= 100),
  channel      text CHECK (channel IN ('phone', 'in_person', 'message', 'other')),
  due_on       date,
  ref_step     uuid,
  referral_id  uuid,
  details      bytea,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, crisis_id) REFERENCES crises (school_id, id) ON DELETE CASCADE,
  FOREIGN KEY (school_id, ref_step) REFERENCES crisis_steps (school_id, id)
);
CREATE INDEX crisis_steps_crisis ON crisis_steps (school_id, crisis_id, occurred_at, id);
ALTER TABLE crisis_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE crisis_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY crisis_steps_counselors ON crisis_steps
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY crisis_steps_leaders_read ON crisis_steps FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader'])));
CREATE POLICY crisis_steps_definer ON crisis_steps TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON crisis_steps TO xinqiao_app;
-- +goose StatementBegin
CREATE FUNCTION crisis_steps_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM crises c WHERE c.school_id = OLD.school_id AND c.id = OLD.crisis_id) THEN
    RETURN OLD; -- the crisis itself is being destroyed with its case file (retention)
  END IF;
  RAISE EXCEPTION 'crisis steps are append-only: record an addendum' USING ERRCODE = '23514';
END $$;
-- +goose StatementEnd
CREATE TRIGGER crisis_steps_append_only BEFORE UPDATE OR DELETE ON crisis_steps FOR EACH ROW EXECUTE FUNCTION crisis_steps_append_only();

-- Notes and follow-up requests of the district supervisor on an escalated crisis. Short
-- instructions, never a student's name (the UI says so).
CREATE TABLE crisis_district_notes (
  school_id   uuid NOT NULL,
  id          uuid NOT NULL,
  crisis_id   uuid NOT NULL,
  district_id uuid NOT NULL,
  author_id   uuid NOT NULL REFERENCES users (id),
  kind        text NOT NULL CHECK (kind IN ('comment', 'follow_up')),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
  due_on      date,
  created_at  timestamptz NOT NULL DEFAULT now(),
  done_at     timestamptz,
  done_by     uuid REFERENCES users (id),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, crisis_id) REFERENCES crises (school_id, id) ON DELETE CASCADE,
  CHECK ((kind = 'follow_up') = (due_on IS NOT NULL))
);
ALTER TABLE crisis_district_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE crisis_district_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY crisis_district_notes_school ON crisis_district_notes
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor', 'school_leader'])));
CREATE POLICY crisis_district_notes_definer ON crisis_district_notes TO CURRENT_USER USING (true);
GRANT SELECT ON crisis_district_notes TO xinqiao_app;
GRANT UPDATE (done_at, done_by) ON crisis_district_notes TO xinqiao_app;

-- Partner institutions (医校协同) managed by the district.
CREATE TABLE institutions (
  district_id     uuid NOT NULL REFERENCES districts (id),
  id              uuid NOT NULL,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind            text NOT NULL CHECK (kind IN ('hospital', 'clinic', 'hotline', 'other')),
  services        text[] NOT NULL DEFAULT '{}',
  contact         text NOT NULL DEFAULT '' CHECK (length(contact) <= 500),
  accepts_direct  boolean NOT NULL DEFAULT false,
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, id),
  UNIQUE (district_id, name)
);
ALTER TABLE institutions ENABLE ROW LEVEL SECURITY;
ALTER TABLE institutions FORCE ROW LEVEL SECURITY;
CREATE POLICY institutions_read ON institutions FOR SELECT
  USING (app_scope() IN ('district', 'school') AND district_id = app_district_id());
CREATE POLICY institutions_insert ON institutions FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY institutions_update ON institutions FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY institutions_definer ON institutions TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON institutions TO xinqiao_app;
GRANT UPDATE (name, kind, services, contact, accepts_direct, active) ON institutions TO xinqiao_app;

CREATE TABLE referrals (
  school_id        uuid NOT NULL,
  id               uuid NOT NULL,
  case_file_id     uuid NOT NULL,
  student_id       uuid NOT NULL,
  crisis_id        uuid,
  district_id      uuid NOT NULL,
  institution_id   uuid NOT NULL,
  basis            text NOT NULL CHECK (basis IN ('consent', 'imminent_danger')),
  consent_id       uuid,
  items            text[] NOT NULL CHECK (cardinality(items) >= 1),
  letter           bytea NOT NULL,
  status           text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'acknowledged', 'appointment', 'seen', 'feedback', 'closed', 'declined')),
  sent_by          uuid NOT NULL REFERENCES users (id),
  sent_at          timestamptz NOT NULL,
  link_hash        bytea UNIQUE CHECK (length(link_hash) = 32),
  link_expires_at  timestamptz,
  link_used_at     timestamptz,
  acknowledged_at  timestamptz,
  appointment_at   timestamptz,
  seen_at          timestamptz,
  feedback         bytea,
  feedback_at      timestamptz,
  feedback_due_at  timestamptz NOT NULL,
  declined_reason  text CHECK (length(declined_reason) <= 500),
  closed_at        timestamptz,
  return_plan      bytea,
  return_date      date,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id) ON DELETE CASCADE,
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, crisis_id) REFERENCES crises (school_id, id) ON DELETE CASCADE,
  FOREIGN KEY (district_id, institution_id) REFERENCES institutions (district_id, id),
  CHECK ((basis = 'consent') = (consent_id IS NOT NULL))
);
CREATE INDEX referrals_case_file ON referrals (school_id, case_file_id, sent_at DESC);
CREATE INDEX referrals_feedback_due ON referrals (feedback_due_at) WHERE status NOT IN ('feedback', 'closed', 'declined');
ALTER TABLE referrals ENABLE ROW LEVEL SECURITY;
ALTER TABLE referrals FORCE ROW LEVEL SECURITY;
CREATE POLICY referrals_counselors ON referrals
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY referrals_definer ON referrals TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON referrals TO xinqiao_app;
GRANT UPDATE (status, link_hash, link_expires_at, link_used_at, acknowledged_at, appointment_at, seen_at, feedback, feedback_at,
  feedback_due_at, declined_reason, closed_at, return_plan, return_date) ON referrals TO xinqiao_app;

-- The institution's acknowledgement link: look it up, and use it once (a row lock makes
-- exactly one of concurrent submissions win). It sets app.referral_link so the update
-- policy below lets that one row change in this transaction.
-- +goose StatementBegin
CREATE FUNCTION app_referral_link() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.referral_link', true), '')::uuid
$$;
CREATE FUNCTION referral_link_lookup(p_hash bytea)
RETURNS TABLE (referral_id uuid, school_id uuid, district_id uuid, school_name text, institution_name text,
               sent_at timestamptz, status text, link_expires_at timestamptz, link_used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.id, r.school_id, r.district_id, sc.name, i.name, r.sent_at, r.status, r.link_expires_at, r.link_used_at
  FROM referrals r JOIN schools sc ON sc.id = r.school_id
  JOIN institutions i ON i.district_id = r.district_id AND i.id = r.institution_id
  WHERE r.link_hash = p_hash
$$;
CREATE FUNCTION referral_link_claim(p_hash bytea, p_now timestamptz)
RETURNS TABLE (referral_id uuid, school_id uuid, district_id uuid, state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE r referrals;
BEGIN
  SELECT * INTO r FROM referrals WHERE link_hash = p_hash FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  referral_id := r.id; school_id := r.school_id; district_id := r.district_id;
  IF r.link_used_at IS NOT NULL THEN
    state := 'used';
  ELSIF p_now >= r.link_expires_at OR r.status IN ('closed', 'declined') THEN
    state := 'expired';
  ELSE
    UPDATE referrals SET link_used_at = p_now WHERE referrals.school_id = r.school_id AND id = r.id;
    PERFORM set_config('app.referral_link', r.id::text, true);
    state := 'claimed';
  END IF;
  RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION referral_link_lookup(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referral_link_lookup(bytea) TO xinqiao_app;
REVOKE ALL ON FUNCTION referral_link_claim(bytea, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referral_link_claim(bytea, timestamptz) TO xinqiao_app;
CREATE POLICY referrals_by_link_read ON referrals FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND id = app_referral_link());
CREATE POLICY referrals_by_link_update ON referrals FOR UPDATE
  USING (app_scope() = 'school' AND school_id = app_school_id() AND id = app_referral_link());

-- Crises past a deadline and referrals past their feedback date, for the jobs.
-- +goose StatementBegin
CREATE FUNCTION crises_overdue(p_now timestamptz)
RETURNS TABLE (district_id uuid, school_id uuid, crisis_id uuid, escalation text, overdue_since timestamptz, leader_minutes integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT sc.district_id, c.school_id, c.id, c.escalation,
    least(CASE WHEN c.assessed_at IS NULL THEN c.ack_due_at END, CASE WHEN c.guardian_notified_at IS NULL THEN c.guardian_due_at END),
    coalesce(st.leader_escalation_minutes, 60)
  FROM crises c JOIN schools sc ON sc.id = c.school_id
  LEFT JOIN crisis_settings st ON st.district_id = sc.district_id
  WHERE c.status = 'open' AND c.escalation <> 'district'
    AND ((c.assessed_at IS NULL AND c.ack_due_at <= p_now) OR (c.guardian_notified_at IS NULL AND c.guardian_due_at <= p_now))
  ORDER BY sc.district_id, c.school_id, c.id
$$;
CREATE FUNCTION crisis_escalate(p_school uuid, p_crisis uuid, p_from text, p_to text, p_now timestamptz)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH u AS (
    UPDATE crises SET escalation = p_to,
      leader_escalated_at = CASE WHEN p_to = 'leader' THEN p_now ELSE leader_escalated_at END,
      district_escalated_at = CASE WHEN p_to = 'district' THEN p_now ELSE district_escalated_at END
    WHERE school_id = p_school AND id = p_crisis AND escalation = p_from AND status = 'open'
      AND p_school = app_school_id() AND app_scope() = 'school'
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;
CREATE FUNCTION referrals_feedback_overdue(p_now timestamptz)
RETURNS TABLE (district_id uuid, school_id uuid, referral_id uuid, case_file_id uuid, feedback_due_at timestamptz, sent_by uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.district_id, r.school_id, r.id, r.case_file_id, r.feedback_due_at, r.sent_by
  FROM referrals r
  WHERE r.status IN ('sent', 'acknowledged', 'appointment', 'seen') AND r.feedback_due_at <= p_now
  ORDER BY r.district_id, r.school_id, r.id
$$;

-- The district supervisor's crisis board: escalated crises only, with the minimum to act
-- on: school, grade, level, times and the kinds of steps taken. No name, no number, no notes.
CREATE FUNCTION crisis_board(p_crisis uuid)
RETURNS TABLE (crisis_id uuid, school_id uuid, school_name text, grade text, level text, status text, opened_at timestamptz,
               ack_due_at timestamptz, guardian_due_at timestamptz, assessed_at timestamptz, guardian_notified_at timestamptz,
               escalated_at timestamptz, closed_at timestamptz, steps text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.school_id, sc.name, g.name, c.level, c.status, c.opened_at, c.ack_due_at, c.guardian_due_at, c.assessed_at,
    c.guardian_notified_at, c.district_escalated_at, c.closed_at,
    ARRAY(SELECT s.kind FROM crisis_steps s WHERE s.school_id = c.school_id AND s.crisis_id = c.id ORDER BY s.occurred_at, s.id)
  FROM crises c JOIN schools sc ON sc.id = c.school_id
  JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
  JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
  WHERE sc.district_id = app_district_id() AND app_scope() = 'district'
    AND app_has_role(ARRAY['district_admin', 'district_supervisor']) AND c.escalation = 'district'
    AND (p_crisis IS NULL OR c.id = p_crisis)
  ORDER BY c.status, c.district_escalated_at DESC
  LIMIT 500
$$;
CREATE FUNCTION crisis_board_notes(p_crisis uuid)
RETURNS TABLE (id uuid, kind text, body text, due_on date, created_at timestamptz, done_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT n.id, n.kind, n.body, n.due_on, n.created_at, n.done_at
  FROM crisis_district_notes n JOIN crises c ON c.school_id = n.school_id AND c.id = n.crisis_id
  WHERE n.crisis_id = p_crisis AND n.district_id = app_district_id() AND app_scope() = 'district'
    AND app_has_role(ARRAY['district_admin', 'district_supervisor']) AND c.escalation = 'district'
  ORDER BY n.created_at
$$;
CREATE FUNCTION crisis_board_note_add(p_crisis uuid, p_id uuid, p_kind text, p_body text, p_due date)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH c AS (
    SELECT c.school_id, c.id FROM crises c JOIN schools sc ON sc.id = c.school_id
    WHERE c.id = p_crisis AND sc.district_id = app_district_id() AND app_scope() = 'district'
      AND app_has_role(ARRAY['district_admin', 'district_supervisor']) AND c.escalation = 'district'
  ), i AS (
    INSERT INTO crisis_district_notes (school_id, id, crisis_id, district_id, author_id, kind, body, due_on)
    SELECT c.school_id, p_id, c.id, app_district_id(), app_user_id(), p_kind, p_body, p_due FROM c
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM i)
$$;
-- Feedback has arrived (or the referral ended): the counselor's reminder task is done.
CREATE FUNCTION close_referral_reminders(p_school uuid, p_referral uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  UPDATE inbox_items SET done_at = now(), read_at = coalesce(read_at, now())
  WHERE school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school'
    AND subject_type = 'referral' AND subject_id = p_referral AND kind = 'referral_feedback_overdue' AND done_at IS NULL
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION close_referral_reminders(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION close_referral_reminders(uuid, uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION crises_overdue(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crises_overdue(timestamptz) TO xinqiao_app;
REVOKE ALL ON FUNCTION crisis_escalate(uuid, uuid, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crisis_escalate(uuid, uuid, text, text, timestamptz) TO xinqiao_app;
REVOKE ALL ON FUNCTION referrals_feedback_overdue(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referrals_feedback_overdue(timestamptz) TO xinqiao_app;
REVOKE ALL ON FUNCTION crisis_board(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crisis_board(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION crisis_board_notes(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crisis_board_notes(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION crisis_board_note_add(uuid, uuid, text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crisis_board_note_add(uuid, uuid, text, text, date) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'crises', 'read'),
  ('p', 'counselor', 'school:*', 'crises', 'write'),
  ('p', 'school_leader', 'school:*', 'crises', 'read'),
  ('p', 'counselor', 'school:*', 'referrals', 'read'),
  ('p', 'counselor', 'school:*', 'referrals', 'write'),
  ('p', 'counselor', 'school:*', 'institutions', 'read'),
  ('p', 'district_admin', 'district:*', 'institutions', 'read'),
  ('p', 'district_admin', 'district:*', 'institutions', 'write'),
  ('p', 'district_supervisor', 'district:*', 'institutions', 'read'),
  ('p', 'district_admin', 'district:*', 'crisis_settings', 'read'),
  ('p', 'district_admin', 'district:*', 'crisis_settings', 'write'),
  ('p', 'district_supervisor', 'district:*', 'crisis_settings', 'read'),
  ('p', 'district_admin', 'district:*', 'crisis_board', 'read'),
  ('p', 'district_supervisor', 'district:*', 'crisis_board', 'read'),
  ('p', 'district_supervisor', 'district:*', 'crisis_board', 'write');
