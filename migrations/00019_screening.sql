-- +goose Up
-- Screening (心理测查): instruments (量表) and their versions, licences, district campaigns,
-- guardian consent per campaign, one-time student codes, scored assessments and alerts.
-- Assessments and alerts are confidential to the school's counselors; district roles see
-- campaign progress only as suppressed counts through screening_campaign_progress().

-- Instruments. district_id NULL: built in (PHQ-9, GAD-7), readable by everyone in scope.
-- A version used by any assessment is immutable: edits create a new version.
CREATE TABLE instruments (
  id          uuid PRIMARY KEY,
  district_id uuid REFERENCES districts (id),
  code        text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
  version     integer NOT NULL CHECK (version >= 1),
  definition  jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object' AND length(definition::text) <= 200000),
  licensed    boolean NOT NULL DEFAULT false,
  used        boolean NOT NULL DEFAULT false,
  created_by  uuid REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (district_id, code, version)
);
CREATE INDEX instruments_district ON instruments (district_id, code, version DESC);
ALTER TABLE instruments ENABLE ROW LEVEL SECURITY;
ALTER TABLE instruments FORCE ROW LEVEL SECURITY;
CREATE POLICY instruments_read ON instruments FOR SELECT
  USING (district_id IS NULL OR (app_scope() IN ('district', 'school') AND district_id = app_district_id()));
CREATE POLICY instruments_admin_insert ON instruments FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND NOT used
    AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY instruments_admin_update ON instruments FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY instruments_definer ON instruments TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE (definition, licensed) ON instruments TO xinqiao_app;

-- +goose StatementBegin
CREATE FUNCTION instruments_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.used AND (NEW.definition IS DISTINCT FROM OLD.definition OR NEW.licensed IS DISTINCT FROM OLD.licensed) THEN
    RAISE EXCEPTION 'instrument version % is used by assessments and cannot change', OLD.id USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER instruments_immutable BEFORE UPDATE ON instruments FOR EACH ROW EXECUTE FUNCTION instruments_immutable();

INSERT INTO instruments (id, district_id, code, version, definition) VALUES
  ('00000000-0000-4000-8000-00000000f009', NULL, 'phq9', 1, '{"code":"phq9","name":{"zh":"患者健康问卷（PHQ-9）","en":"Patient Health Questionnaire (PHQ-9)"},"stem":{"zh":"在过去两周里，你有多少时候受到以下问题困扰？","en":"Over the last 2 weeks, how often have you been bothered by the following problems?"},"options":[{"value":0,"label":{"zh":"完全不会","en":"Not at all"}},{"value":1,"label":{"zh":"好几天","en":"Several days"}},{"value":2,"label":{"zh":"一半以上的天数","en":"More than half the days"}},{"value":3,"label":{"zh":"几乎每天","en":"Nearly every day"}}],"items":[{"code":"1","text":{"zh":"做事时提不起劲或没有兴趣","en":"Little interest or pleasure in doing things"}},{"code":"2","text":{"zh":"感到心情低落、沮丧或绝望","en":"Feeling down, depressed, or hopeless"}},{"code":"3","text":{"zh":"入睡困难、睡不安稳或睡眠过多","en":"Trouble falling or staying asleep, or sleeping too much"}},{"code":"4","text":{"zh":"感觉疲倦或没有活力","en":"Feeling tired or having little energy"}},{"code":"5","text":{"zh":"食欲不振或吃太多","en":"Poor appetite or overeating"}},{"code":"6","text":{"zh":"觉得自己很糟，或觉得自己很失败，或让自己或家人失望","en":"Feeling bad about yourself, or that you are a failure or have let yourself or your family down"}},{"code":"7","text":{"zh":"对事物专注有困难，例如阅读或看电视时","en":"Trouble concentrating on things, such as reading or watching television"}},{"code":"8","text":{"zh":"动作或说话速度缓慢到别人已经察觉，或正好相反，烦躁或坐立不安、动来动去的情况比平常更多","en":"Moving or speaking so slowly that other people could have noticed, or the opposite: being so fidgety or restless that you have been moving around a lot more than usual"}},{"code":"9","text":{"zh":"有不如死掉或用某种方式伤害自己的念头","en":"Thoughts that you would be better off dead, or of hurting yourself in some way"}}],"bands":[{"code":"minimal","min":0,"max":4,"label":{"zh":"无或极轻","en":"Minimal"}},{"code":"mild","min":5,"max":9,"label":{"zh":"轻度","en":"Mild"}},{"code":"moderate","min":10,"max":14,"label":{"zh":"中度","en":"Moderate"}},{"code":"moderately_severe","min":15,"max":19,"label":{"zh":"中重度","en":"Moderately severe"}},{"code":"severe","min":20,"max":27,"label":{"zh":"重度","en":"Severe"}}],"critical":[{"item":"9","min_value":1}]}'),
  ('00000000-0000-4000-8000-00000000f007', NULL, 'gad7', 1, '{"code":"gad7","name":{"zh":"广泛性焦虑量表（GAD-7）","en":"Generalized Anxiety Disorder scale (GAD-7)"},"stem":{"zh":"在过去两周里，你有多少时候受到以下问题困扰？","en":"Over the last 2 weeks, how often have you been bothered by the following problems?"},"options":[{"value":0,"label":{"zh":"完全不会","en":"Not at all"}},{"value":1,"label":{"zh":"好几天","en":"Several days"}},{"value":2,"label":{"zh":"一半以上的天数","en":"More than half the days"}},{"value":3,"label":{"zh":"几乎每天","en":"Nearly every day"}}],"items":[{"code":"1","text":{"zh":"感觉紧张、焦虑或急切","en":"Feeling nervous, anxious, or on edge"}},{"code":"2","text":{"zh":"不能够停止或控制担忧","en":"Not being able to stop or control worrying"}},{"code":"3","text":{"zh":"对各种各样的事情担忧过多","en":"Worrying too much about different things"}},{"code":"4","text":{"zh":"很难放松下来","en":"Trouble relaxing"}},{"code":"5","text":{"zh":"由于不安而无法静坐","en":"Being so restless that it is hard to sit still"}},{"code":"6","text":{"zh":"变得容易烦恼或急躁","en":"Becoming easily annoyed or irritable"}},{"code":"7","text":{"zh":"感到似乎将有可怕的事情发生而害怕","en":"Feeling afraid, as if something awful might happen"}}],"bands":[{"code":"minimal","min":0,"max":4,"label":{"zh":"无或极轻","en":"Minimal"}},{"code":"mild","min":5,"max":9,"label":{"zh":"轻度","en":"Mild"}},{"code":"moderate","min":10,"max":14,"label":{"zh":"中度","en":"Moderate"}},{"code":"severe","min":15,"max":21,"label":{"zh":"重度","en":"Severe"}}]}');

-- Licences of licensed instruments (SCL-90, MHT ...), recorded by the district.
CREATE TABLE instrument_licences (
  district_id     uuid NOT NULL REFERENCES districts (id),
  id              uuid NOT NULL,
  instrument_code text NOT NULL CHECK (instrument_code ~ '^[a-z0-9_-]{1,32}$'),
  holder          text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
  reference       text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
  valid_until     date NOT NULL,
  recorded_by     uuid NOT NULL REFERENCES users (id),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, id)
);
ALTER TABLE instrument_licences ENABLE ROW LEVEL SECURITY;
ALTER TABLE instrument_licences FORCE ROW LEVEL SECURITY;
CREATE POLICY instrument_licences_read ON instrument_licences FOR SELECT
  USING (app_scope() IN ('district', 'school') AND district_id = app_district_id());
CREATE POLICY instrument_licences_write ON instrument_licences FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT ON instrument_licences TO xinqiao_app;

-- Which school may use which licensed instrument.
CREATE TABLE instrument_enablements (
  district_id     uuid NOT NULL,
  school_id       uuid NOT NULL,
  instrument_code text NOT NULL,
  enabled_by      uuid NOT NULL REFERENCES users (id),
  enabled_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, school_id, instrument_code),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id)
);
ALTER TABLE instrument_enablements ENABLE ROW LEVEL SECURITY;
ALTER TABLE instrument_enablements FORCE ROW LEVEL SECURITY;
CREATE POLICY instrument_enablements_read ON instrument_enablements FOR SELECT
  USING (district_id = app_district_id() AND (app_scope() = 'district' OR (app_scope() = 'school' AND school_id = app_school_id())));
CREATE POLICY instrument_enablements_write ON instrument_enablements FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT ON instrument_enablements TO xinqiao_app;

-- District screening settings: alert thresholds, deadlines and help contacts.
CREATE TABLE screening_settings (
  district_id                 uuid PRIMARY KEY REFERENCES districts (id),
  alert_deadline_minutes      integer NOT NULL DEFAULT 240 CHECK (alert_deadline_minutes BETWEEN 15 AND 1440),
  leader_escalation_minutes   integer NOT NULL DEFAULT 240 CHECK (leader_escalation_minutes BETWEEN 15 AND 2880),
  thresholds                  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(thresholds) = 'object'),
  help_contacts               text NOT NULL DEFAULT '' CHECK (length(help_contacts) <= 1000),
  updated_by                  uuid REFERENCES users (id),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE screening_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE screening_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY screening_settings_read ON screening_settings FOR SELECT
  USING (app_scope() IN ('district', 'school') AND district_id = app_district_id());
CREATE POLICY screening_settings_insert ON screening_settings FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY screening_settings_update ON screening_settings FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY screening_settings_definer ON screening_settings TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON screening_settings TO xinqiao_app;

-- Campaigns (测查活动) run by the district for some schools and grades.
CREATE TABLE campaigns (
  id                 uuid PRIMARY KEY,
  district_id        uuid NOT NULL REFERENCES districts (id),
  title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  school_ids         uuid[] NOT NULL CHECK (cardinality(school_ids) BETWEEN 1 AND 1000),
  grades             text[] NOT NULL DEFAULT '{}',
  opens_at           timestamptz NOT NULL,
  closes_at          timestamptz NOT NULL,
  consent_rule       text NOT NULL CHECK (consent_rule IN ('opt_in', 'opt_out', 'none')),
  student_message    text NOT NULL DEFAULT '' CHECK (length(student_message) <= 2000),
  show_help_contacts boolean NOT NULL DEFAULT true,
  created_by         uuid NOT NULL REFERENCES users (id),
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (closes_at > opens_at),
  UNIQUE (district_id, id)
);
CREATE INDEX campaigns_district ON campaigns (district_id, opens_at DESC);
CREATE INDEX campaigns_schools ON campaigns USING gin (school_ids);
CREATE TABLE campaign_instruments (
  campaign_id   uuid NOT NULL REFERENCES campaigns (id),
  position      integer NOT NULL,
  instrument_id uuid NOT NULL REFERENCES instruments (id),
  PRIMARY KEY (campaign_id, position),
  UNIQUE (campaign_id, instrument_id)
);
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaigns FORCE ROW LEVEL SECURITY;
CREATE POLICY campaigns_district ON campaigns FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY campaigns_school ON campaigns FOR SELECT
  USING (app_scope() = 'school' AND district_id = app_district_id() AND app_school_id() = ANY (school_ids));
CREATE POLICY campaigns_admin_insert ON campaigns FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY campaigns_admin_update ON campaigns FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY campaigns_definer ON campaigns TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON campaigns TO xinqiao_app;
GRANT UPDATE (title, closes_at, student_message, show_help_contacts) ON campaigns TO xinqiao_app;
ALTER TABLE campaign_instruments ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_instruments FORCE ROW LEVEL SECURITY;
CREATE POLICY campaign_instruments_visible ON campaign_instruments FOR SELECT
  USING (EXISTS (SELECT 1 FROM campaigns c WHERE c.id = campaign_id));
CREATE POLICY campaign_instruments_insert ON campaign_instruments FOR INSERT
  WITH CHECK (app_scope() = 'district' AND (SELECT app_has_role(ARRAY['district_admin']))
    AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = campaign_id AND c.district_id = app_district_id()));
CREATE POLICY campaign_instruments_definer ON campaign_instruments TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON campaign_instruments TO xinqiao_app;

-- Guardian consent per campaign and student (opt-in / opt-out campaigns).
CREATE TABLE screening_consents (
  school_id   uuid NOT NULL,
  campaign_id uuid NOT NULL REFERENCES campaigns (id),
  student_id  uuid NOT NULL,
  status      text NOT NULL CHECK (status IN ('granted', 'refused')),
  guardian    text NOT NULL DEFAULT '' CHECK (length(guardian) <= 100),
  recorded_by uuid NOT NULL REFERENCES users (id),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, campaign_id, student_id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id)
);
ALTER TABLE screening_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE screening_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY screening_consents_counselors ON screening_consents
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY screening_consents_definer ON screening_consents TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON screening_consents TO xinqiao_app;

-- One-time codes. Only a SHA-256 of the code is stored; the code itself is shown once.
CREATE TABLE screening_codes (
  school_id   uuid NOT NULL,
  id          uuid NOT NULL,
  campaign_id uuid NOT NULL REFERENCES campaigns (id),
  student_id  uuid NOT NULL,
  code_hash   bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  issued_by   uuid NOT NULL REFERENCES users (id),
  issued_at   timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,
  revoked_at  timestamptz,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id)
);
CREATE UNIQUE INDEX screening_codes_live ON screening_codes (school_id, campaign_id, student_id)
  WHERE used_at IS NULL AND revoked_at IS NULL;
ALTER TABLE screening_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE screening_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY screening_codes_counselors ON screening_codes
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY screening_codes_definer ON screening_codes TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE (used_at, revoked_at) ON screening_codes TO xinqiao_app;

-- The code claimed in this transaction by a student without an account (set by
-- screening_code_claim(), read by the policies below).
-- +goose StatementBegin
CREATE FUNCTION app_screening_code() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.screening_code', true), '')::uuid
$$;
-- +goose StatementEnd

-- Scored answer sheets. Answers are sealed with the school's data key; totals, band and
-- flags are plain for trends and counts.
CREATE TABLE assessments (
  school_id          uuid NOT NULL,
  id                 uuid NOT NULL,
  student_id         uuid NOT NULL,
  instrument_id      uuid NOT NULL REFERENCES instruments (id),
  instrument_code    text NOT NULL,
  instrument_version integer NOT NULL,
  definition_md5     text NOT NULL,
  campaign_id        uuid REFERENCES campaigns (id),
  code_id            uuid,
  source             text NOT NULL CHECK (source IN ('code', 'paper')),
  taken_at           timestamptz NOT NULL DEFAULT now(),
  answers            bytea NOT NULL,
  total              integer NOT NULL,
  band               text NOT NULL,
  subscales          jsonb NOT NULL DEFAULT '{}',
  valid              boolean NOT NULL,
  critical           text[] NOT NULL DEFAULT '{}',
  recorded_by        uuid REFERENCES users (id),
  recorded_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, code_id) REFERENCES screening_codes (school_id, id),
  CHECK ((source = 'code') = (code_id IS NOT NULL)),
  CHECK ((source = 'paper') = (recorded_by IS NOT NULL))
);
CREATE UNIQUE INDEX assessments_once_per_campaign ON assessments (school_id, campaign_id, student_id, instrument_id)
  WHERE campaign_id IS NOT NULL;
CREATE INDEX assessments_student ON assessments (school_id, student_id, taken_at);
ALTER TABLE assessments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessments FORCE ROW LEVEL SECURITY;
CREATE POLICY assessments_counselors ON assessments
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY assessments_by_code ON assessments FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND source = 'code'
    AND code_id = app_screening_code() AND recorded_by IS NULL);
CREATE POLICY assessments_definer ON assessments TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON assessments TO xinqiao_app;

-- Storing an assessment marks its instrument version used, under the row lock, and
-- refuses a sheet scored with a definition that changed meanwhile.
-- +goose StatementBegin
CREATE FUNCTION assessments_mark_used() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE d text;
BEGIN
  UPDATE instruments SET used = true WHERE id = NEW.instrument_id RETURNING md5(definition::text) INTO d;
  IF d IS NULL OR d <> NEW.definition_md5 THEN
    RAISE EXCEPTION 'instrument definition changed while the sheet was scored' USING ERRCODE = '40001';
  END IF;
  RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER assessments_mark_used BEFORE INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION assessments_mark_used();

-- Alerts (预警) for the school's counselors, escalated when not acknowledged in time.
CREATE TABLE screening_alerts (
  school_id             uuid NOT NULL,
  id                    uuid NOT NULL,
  assessment_id         uuid NOT NULL,
  student_id            uuid NOT NULL,
  campaign_id           uuid REFERENCES campaigns (id),
  instrument_code       text NOT NULL,
  reason                text NOT NULL CHECK (reason IN ('critical_item', 'band')),
  band                  text NOT NULL,
  suggested_tier        text NOT NULL CHECK (suggested_tier IN ('elevated', 'high', 'crisis')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  due_at                timestamptz NOT NULL,
  escalation            text NOT NULL DEFAULT 'none' CHECK (escalation IN ('none', 'leader', 'district')),
  leader_escalated_at   timestamptz,
  district_escalated_at timestamptz,
  acknowledged_at       timestamptz,
  acknowledged_by       uuid REFERENCES users (id),
  outcome               text CHECK (outcome IN ('case_opened', 'monitoring', 'no_action_needed')),
  case_file_id          uuid,
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, assessment_id),
  FOREIGN KEY (school_id, assessment_id) REFERENCES assessments (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK ((acknowledged_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX screening_alerts_open ON screening_alerts (school_id, acknowledged_at, due_at);
CREATE INDEX screening_alerts_due ON screening_alerts (due_at) WHERE acknowledged_at IS NULL;
ALTER TABLE screening_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE screening_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY screening_alerts_counselors ON screening_alerts
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY screening_alerts_by_code ON screening_alerts FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND app_screening_code() IS NOT NULL
    AND acknowledged_at IS NULL AND escalation = 'none');
CREATE POLICY screening_alerts_definer ON screening_alerts TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON screening_alerts TO xinqiao_app;
GRANT UPDATE (acknowledged_at, acknowledged_by, outcome, case_file_id) ON screening_alerts TO xinqiao_app;

-- The public student page: look a code up (no side effect).
-- +goose StatementBegin
CREATE FUNCTION screening_code_lookup(p_hash bytea)
RETURNS TABLE (code_id uuid, district_id uuid, school_id uuid, campaign_id uuid, student_id uuid,
               used_at timestamptz, revoked_at timestamptz, opens_at timestamptz, closes_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, c.district_id, k.school_id, k.campaign_id, k.student_id, k.used_at, k.revoked_at, c.opens_at, c.closes_at
  FROM screening_codes k JOIN campaigns c ON c.id = k.campaign_id
  WHERE k.code_hash = p_hash
$$;
-- Claim a code for submission: lock it, mark it used when it is live, and remember it
-- in this transaction for the insert policies. Exactly one of concurrent claims wins.
CREATE FUNCTION screening_code_claim(p_hash bytea, p_now timestamptz)
RETURNS TABLE (code_id uuid, district_id uuid, school_id uuid, campaign_id uuid, student_id uuid, state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE k screening_codes; c campaigns;
BEGIN
  SELECT * INTO k FROM screening_codes WHERE code_hash = p_hash FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT * INTO c FROM campaigns WHERE id = k.campaign_id;
  code_id := k.id; district_id := c.district_id; school_id := k.school_id; campaign_id := k.campaign_id; student_id := k.student_id;
  IF k.used_at IS NOT NULL THEN
    state := 'used';
  ELSIF k.revoked_at IS NOT NULL OR p_now >= c.closes_at OR p_now < c.opens_at THEN
    state := 'expired';
  ELSE
    UPDATE screening_codes SET used_at = p_now WHERE screening_codes.school_id = k.school_id AND id = k.id;
    PERFORM set_config('app.screening_code', k.id::text, true);
    state := 'claimed';
  END IF;
  RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION screening_code_lookup(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_code_lookup(bytea) TO xinqiao_app;
REVOKE ALL ON FUNCTION screening_code_claim(bytea, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_code_claim(bytea, timestamptz) TO xinqiao_app;

-- The counting functions below run as the owner; they read rosters and org units.
CREATE POLICY students_definer_read ON students FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY org_units_definer_read ON org_units FOR SELECT TO CURRENT_USER USING (true);

-- Campaign progress for district roles: counts only, per school and grade; the caller
-- suppresses small counts. Never a student id.
-- +goose StatementBegin
CREATE FUNCTION screening_campaign_progress(p_campaign uuid)
RETURNS TABLE (school_id uuid, school_name text, grade text, eligible bigint, completed bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH c AS (
    SELECT * FROM campaigns WHERE id = p_campaign AND district_id = app_district_id() AND app_scope() = 'district'
      AND app_has_role(ARRAY['district_admin', 'district_supervisor'])
  ), pupils AS (
    SELECT s.school_id, s.id, g.name AS grade, c.consent_rule, c.id AS campaign_id
    FROM c JOIN students s ON s.school_id = ANY (c.school_ids) AND s.status = 'enrolled'
    JOIN org_units g ON g.school_id = s.school_id AND g.id = s.grade_id
    WHERE cardinality(c.grades) = 0 OR g.name = ANY (c.grades)
  )
  SELECT p.school_id, sc.name, p.grade,
    count(*) FILTER (WHERE CASE p.consent_rule
      WHEN 'opt_in' THEN EXISTS (SELECT 1 FROM screening_consents x WHERE x.school_id = p.school_id AND x.campaign_id = p.campaign_id AND x.student_id = p.id AND x.status = 'granted')
      WHEN 'opt_out' THEN NOT EXISTS (SELECT 1 FROM screening_consents x WHERE x.school_id = p.school_id AND x.campaign_id = p.campaign_id AND x.student_id = p.id AND x.status = 'refused')
      ELSE true END),
    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM assessments a WHERE a.school_id = p.school_id AND a.campaign_id = p.campaign_id AND a.student_id = p.id))
  FROM pupils p JOIN schools sc ON sc.id = p.school_id
  GROUP BY p.school_id, sc.name, p.grade
  ORDER BY sc.name, p.grade
$$;
CREATE FUNCTION screening_campaign_bands(p_campaign uuid)
RETURNS TABLE (instrument_code text, band text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.instrument_code, a.band, count(DISTINCT a.student_id)
  FROM campaigns c JOIN assessments a ON a.campaign_id = c.id
  WHERE c.id = p_campaign AND c.district_id = app_district_id() AND app_scope() = 'district'
    AND app_has_role(ARRAY['district_admin', 'district_supervisor']) AND a.valid
  GROUP BY a.instrument_code, a.band
  ORDER BY 1, 2
$$;
-- Escalated alerts for the district supervisor: no student identity.
CREATE FUNCTION screening_district_escalations()
RETURNS TABLE (alert_id uuid, school_id uuid, school_name text, reason text, created_at timestamptz,
               due_at timestamptz, escalated_at timestamptz, acknowledged_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.id, a.school_id, sc.name, a.reason, a.created_at, a.due_at, a.district_escalated_at, a.acknowledged_at
  FROM screening_alerts a JOIN schools sc ON sc.id = a.school_id
  WHERE sc.district_id = app_district_id() AND app_scope() = 'district'
    AND app_has_role(ARRAY['district_admin', 'district_supervisor']) AND a.escalation = 'district'
  ORDER BY a.district_escalated_at DESC
  LIMIT 500
$$;
-- Alerts past a deadline, for the escalation job (ids and times only).
CREATE FUNCTION screening_alerts_overdue(p_now timestamptz)
RETURNS TABLE (district_id uuid, school_id uuid, alert_id uuid, escalation text, due_at timestamptz,
               leader_minutes integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT sc.district_id, a.school_id, a.id, a.escalation, a.due_at,
    coalesce(st.leader_escalation_minutes, 240)
  FROM screening_alerts a JOIN schools sc ON sc.id = a.school_id
  LEFT JOIN screening_settings st ON st.district_id = sc.district_id
  WHERE a.acknowledged_at IS NULL AND a.due_at <= p_now AND a.escalation <> 'district'
  ORDER BY sc.district_id, a.school_id, a.id
$$;
-- Escalate one alert one level (idempotent: only from the expected level).
CREATE FUNCTION screening_alert_escalate(p_school uuid, p_alert uuid, p_from text, p_to text, p_now timestamptz)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH u AS (
    UPDATE screening_alerts SET escalation = p_to,
      leader_escalated_at = CASE WHEN p_to = 'leader' THEN p_now ELSE leader_escalated_at END,
      district_escalated_at = CASE WHEN p_to = 'district' THEN p_now ELSE district_escalated_at END
    WHERE school_id = p_school AND id = p_alert AND escalation = p_from AND acknowledged_at IS NULL
      AND p_school = app_school_id() AND app_scope() = 'school'
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;
-- The leaders of a school, for escalation notices (ids only).
CREATE FUNCTION school_leaders(p_school uuid) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE m.scope_type = 'school' AND m.school_id = p_school AND m.role = 'school_leader' AND NOT u.disabled
    AND p_school = app_school_id() AND app_scope() = 'school'
$$;
-- Counselors acknowledging an alert close every counselor's alert task.
CREATE FUNCTION close_screening_alert_tasks(p_school uuid, p_alert uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  UPDATE inbox_items SET done_at = now(), read_at = coalesce(read_at, now())
  WHERE school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school' AND app_has_role(ARRAY['counselor'])
    AND subject_type = 'screening_alert' AND subject_id = p_alert AND done_at IS NULL
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION screening_campaign_progress(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_campaign_progress(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION screening_campaign_bands(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_campaign_bands(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION screening_district_escalations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_district_escalations() TO xinqiao_app;
REVOKE ALL ON FUNCTION screening_alerts_overdue(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_alerts_overdue(timestamptz) TO xinqiao_app;
REVOKE ALL ON FUNCTION screening_alert_escalate(uuid, uuid, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_alert_escalate(uuid, uuid, text, text, timestamptz) TO xinqiao_app;
REVOKE ALL ON FUNCTION school_leaders(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION school_leaders(uuid) TO xinqiao_app;
REVOKE ALL ON FUNCTION close_screening_alert_tasks(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION close_screening_alert_tasks(uuid, uuid) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'instruments', 'read'),
  ('p', 'district_admin', 'district:*', 'instruments', 'write'),
  ('p', 'district_supervisor', 'district:*', 'instruments', 'read'),
  ('p', 'district_admin', 'district:*', 'campaigns', 'read'),
  ('p', 'district_admin', 'district:*', 'campaigns', 'write'),
  ('p', 'district_supervisor', 'district:*', 'campaigns', 'read'),
  ('p', 'district_admin', 'district:*', 'screening_escalations', 'read'),
  ('p', 'district_supervisor', 'district:*', 'screening_escalations', 'read'),
  ('p', 'counselor', 'school:*', 'campaigns', 'read'),
  ('p', 'school_leader', 'school:*', 'campaigns', 'read'),
  ('p', 'counselor', 'school:*', 'screening', 'read'),
  ('p', 'counselor', 'school:*', 'screening', 'write');

-- Campaign progress per homeroom for the school's counselors and leader (counts only).
-- +goose StatementBegin
CREATE FUNCTION screening_school_progress(p_campaign uuid)
RETURNS TABLE (homeroom_id uuid, homeroom_name text, grade text, eligible bigint, completed bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH c AS (
    SELECT c.*, (SELECT count(*) FROM campaign_instruments ci WHERE ci.campaign_id = c.id) AS n_instruments
    FROM campaigns c WHERE c.id = p_campaign AND c.district_id = app_district_id() AND app_scope() = 'school'
      AND app_school_id() = ANY (c.school_ids) AND app_has_role(ARRAY['counselor', 'school_leader'])
  )
  SELECT h.id, h.name, g.name,
    count(*) FILTER (WHERE CASE c.consent_rule
      WHEN 'opt_in' THEN EXISTS (SELECT 1 FROM screening_consents x WHERE x.school_id = s.school_id AND x.campaign_id = c.id AND x.student_id = s.id AND x.status = 'granted')
      WHEN 'opt_out' THEN NOT EXISTS (SELECT 1 FROM screening_consents x WHERE x.school_id = s.school_id AND x.campaign_id = c.id AND x.student_id = s.id AND x.status = 'refused')
      ELSE true END),
    count(*) FILTER (WHERE (SELECT count(DISTINCT a.instrument_id) FROM assessments a
      WHERE a.school_id = s.school_id AND a.campaign_id = c.id AND a.student_id = s.id) = c.n_instruments)
  FROM c JOIN students s ON s.school_id = app_school_id() AND s.status = 'enrolled'
  JOIN org_units g ON g.school_id = s.school_id AND g.id = s.grade_id
  JOIN org_units h ON h.school_id = s.school_id AND h.id = s.homeroom_id
  WHERE cardinality(c.grades) = 0 OR g.name = ANY (c.grades)
  GROUP BY h.id, h.name, g.name, g.position, h.position
  ORDER BY g.position, g.name, h.position, h.name
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION screening_school_progress(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screening_school_progress(uuid) TO xinqiao_app;
