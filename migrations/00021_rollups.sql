-- +goose Up
-- Rollups (统计汇总): aggregates only, for district dashboards. A cell is keyed by
-- district, school (the nil uuid = all schools of the district), period (week, month or
-- term), measure, grade, gender and the measure's category; it holds the number of
-- distinct students and the measure's count. No student id, name, number, birth date or
-- free text is ever stored here. A change to the underlying data marks its school and
-- day dirty (a trigger, in the same transaction) and adds an outbox row; the rollup job
-- recomputes only the dirty cells. A nightly rebuild recomputes everything and must find
-- the same tables.

CREATE TABLE rollup_cells (
  district_id  uuid NOT NULL REFERENCES districts (id),
  school_id    uuid NOT NULL,
  period_kind  text NOT NULL CHECK (period_kind IN ('week', 'month', 'term')),
  period_start date NOT NULL,
  measure      text NOT NULL,
  grade        text NOT NULL DEFAULT '',
  gender       text NOT NULL DEFAULT '',
  category     text NOT NULL DEFAULT '',
  students     bigint NOT NULL CHECK (students >= 0),
  value        bigint NOT NULL CHECK (value >= 0),
  schools      integer NOT NULL DEFAULT 1,
  PRIMARY KEY (district_id, school_id, period_kind, period_start, measure, grade, gender, category)
);
CREATE INDEX rollup_cells_query ON rollup_cells (district_id, measure, period_kind, period_start);
ALTER TABLE rollup_cells ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_cells FORCE ROW LEVEL SECURITY;
-- District roles read their district's rollups; nothing else reads or writes them.
CREATE POLICY rollup_cells_district ON rollup_cells FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id()
    AND (SELECT app_has_role(ARRAY['district_admin', 'district_supervisor', 'researcher'])));
CREATE POLICY rollup_cells_definer ON rollup_cells TO CURRENT_USER USING (true);
GRANT SELECT ON rollup_cells TO xinqiao_app;

-- Dirty (school, day) pairs; a NULL day means every period of the school.
CREATE TABLE rollup_dirty (
  school_id uuid NOT NULL,
  day       date,
  marked_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rollup_dirty_key ON rollup_dirty (school_id, day) NULLS NOT DISTINCT;
ALTER TABLE rollup_dirty ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_dirty FORCE ROW LEVEL SECURITY;
CREATE POLICY rollup_dirty_definer ON rollup_dirty TO CURRENT_USER USING (true);
CREATE POLICY outbox_rollup_definer ON outbox FOR INSERT TO CURRENT_USER WITH CHECK (task_type = 'rollup:refresh');
CREATE POLICY risk_tier_changes_rollup_read ON risk_tier_changes FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY case_files_rollup_read ON case_files FOR SELECT TO CURRENT_USER USING (true);

-- +goose StatementBegin
CREATE FUNCTION rollup_day(t timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (t AT TIME ZONE 'Asia/Shanghai')::date
$$;

-- The start of the period of kind that holds day. Terms: spring from 1 February,
-- autumn from 1 August (each six months).
CREATE FUNCTION rollup_period_start(p_kind text, p_day date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_kind
    WHEN 'week' THEN date_trunc('week', p_day)::date
    WHEN 'month' THEN date_trunc('month', p_day)::date
    ELSE CASE WHEN extract(month FROM p_day) BETWEEN 2 AND 7 THEN make_date(extract(year FROM p_day)::int, 2, 1)
              WHEN extract(month FROM p_day) = 1 THEN make_date(extract(year FROM p_day)::int - 1, 8, 1)
              ELSE make_date(extract(year FROM p_day)::int, 8, 1) END
  END
$$;
CREATE FUNCTION rollup_period_end(p_kind text, p_start date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_kind WHEN 'week' THEN p_start + 7 WHEN 'month' THEN (p_start + interval '1 month')::date
    ELSE (p_start + interval '6 months')::date END
$$;

-- Mark a school and day dirty, and wake the rollup job through the outbox.
CREATE FUNCTION rollup_mark(p_school uuid, p_day date) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
  INSERT INTO rollup_dirty (school_id, day) VALUES (p_school, p_day) ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    INSERT INTO outbox (id, district_id, school_id, task_type, payload, queue)
    SELECT gen_random_uuid(), sc.district_id, NULL, 'rollup:refresh', '{}', 'low' FROM schools sc WHERE sc.id = p_school;
  END IF;
END $$;

CREATE FUNCTION rollup_mark_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE r record; d date; today date := rollup_day(now());
BEGIN
  FOR i IN 1..2 LOOP
    IF i = 1 THEN
      CONTINUE WHEN TG_OP = 'INSERT';
      r := OLD;
    ELSE
      CONTINUE WHEN TG_OP = 'DELETE';
      r := NEW;
    END IF;
    IF TG_TABLE_NAME = 'counseling_sessions' THEN d := rollup_day(r.occurred_at);
    ELSIF TG_TABLE_NAME = 'assessments' THEN d := rollup_day(r.taken_at);
    ELSIF TG_TABLE_NAME = 'crises' THEN d := rollup_day(r.opened_at);
    ELSIF TG_TABLE_NAME = 'referrals' THEN d := rollup_day(r.sent_at);
    ELSIF TG_TABLE_NAME = 'risk_tier_changes' THEN d := rollup_day(r.changed_at);
    ELSE d := rollup_day(r.opened_at);
    END IF;
    IF TG_TABLE_NAME IN ('case_files', 'risk_tier_changes') THEN
      -- A tier counts at the end of every period from the change on.
      IF TG_OP = 'DELETE' OR d < today - 6 THEN
        d := NULL;
      ELSE
        PERFORM rollup_mark(r.school_id, today);
      END IF;
    END IF;
    PERFORM rollup_mark(r.school_id, d);
  END LOOP;
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER counseling_sessions_rollup AFTER INSERT OR DELETE OR UPDATE OF occurred_at, channel, categories, case_file_id
  ON counseling_sessions FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER assessments_rollup AFTER INSERT OR DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER crises_rollup AFTER INSERT OR DELETE OR UPDATE OF level, assessed_at, opened_at ON crises FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER referrals_rollup AFTER INSERT OR DELETE OR UPDATE OF status, feedback_at ON referrals FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER risk_tier_changes_rollup AFTER INSERT OR DELETE ON risk_tier_changes FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER case_files_rollup AFTER INSERT OR DELETE ON case_files FOR EACH ROW EXECUTE FUNCTION rollup_mark_row();

-- The cells of one school and period, from the data (students counted once per cell).
-- +goose StatementBegin
CREATE FUNCTION rollup_compute(p_school uuid, p_kind text, p_start date)
RETURNS TABLE (measure text, grade text, gender text, category text, students bigint, value bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH bounds AS (
    SELECT (p_start::timestamp AT TIME ZONE 'Asia/Shanghai') AS lo,
           (rollup_period_end(p_kind, p_start)::timestamp AT TIME ZONE 'Asia/Shanghai') AS hi
  ), pupil AS (
    SELECT st.id, g.name AS grade, st.gender FROM students st JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
    WHERE st.school_id = p_school
  ), facts AS (
    SELECT 'sessions_channel' AS measure, c.student_id, s.channel AS category
    FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id, bounds b
    WHERE s.school_id = p_school AND s.occurred_at >= b.lo AND s.occurred_at < b.hi
    UNION ALL
    SELECT 'sessions_category', c.student_id, cat
    FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id, bounds b, unnest(s.categories) cat
    WHERE s.school_id = p_school AND s.occurred_at >= b.lo AND s.occurred_at < b.hi
    UNION ALL
    SELECT 'case_files_tier', c.student_id, coalesce((SELECT r.to_tier FROM risk_tier_changes r WHERE r.school_id = c.school_id
      AND r.case_file_id = c.id AND r.changed_at < b.hi ORDER BY r.changed_at DESC, r.id DESC LIMIT 1), 'none')
    FROM case_files c, bounds b WHERE c.school_id = p_school AND c.opened_at < b.hi
    UNION ALL
    SELECT 'screening_band', a.student_id, a.instrument_code || ':' || a.band
    FROM assessments a, bounds b WHERE a.school_id = p_school AND a.valid AND a.taken_at >= b.lo AND a.taken_at < b.hi
    UNION ALL
    SELECT 'crises_level', c.student_id, c.level
    FROM crises c, bounds b WHERE c.school_id = p_school AND c.opened_at >= b.lo AND c.opened_at < b.hi
    UNION ALL
    SELECT 'crises_ack', c.student_id, CASE WHEN c.assessed_at IS NULL THEN 'not_assessed'
      WHEN c.assessed_at - c.opened_at < interval '15 minutes' THEN 'lt_15m'
      WHEN c.assessed_at - c.opened_at < interval '1 hour' THEN 'lt_1h'
      WHEN c.assessed_at - c.opened_at < interval '4 hours' THEN 'lt_4h' ELSE 'ge_4h' END
    FROM crises c, bounds b WHERE c.school_id = p_school AND c.opened_at >= b.lo AND c.opened_at < b.hi
    UNION ALL
    SELECT 'referrals_status', r.student_id, r.status
    FROM referrals r, bounds b WHERE r.school_id = p_school AND r.sent_at >= b.lo AND r.sent_at < b.hi
    UNION ALL
    SELECT 'referrals_feedback', r.student_id, CASE WHEN r.feedback_at IS NOT NULL THEN 'feedback' ELSE 'no_feedback' END
    FROM referrals r, bounds b WHERE r.school_id = p_school AND r.sent_at >= b.lo AND r.sent_at < b.hi AND r.status <> 'declined'
  )
  SELECT f.measure, coalesce(p.grade, ''), coalesce(p.gender, ''), f.category, count(DISTINCT f.student_id), count(*)
  FROM facts f JOIN pupil p ON p.id = f.student_id
  GROUP BY GROUPING SETS ((f.measure, f.category, p.grade, p.gender), (f.measure, f.category, p.grade), (f.measure, f.category, p.gender), (f.measure, f.category))
$$;

-- Recompute one school's cells of one period.
CREATE FUNCTION rollup_refresh_school(p_school uuid, p_kind text, p_start date) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells WHERE school_id = p_school AND period_kind = p_kind AND period_start = p_start;
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT sc.district_id, p_school, p_kind, p_start, c.measure, c.grade, c.gender, c.category, c.students, c.value, 1
  FROM rollup_compute(p_school, p_kind, p_start) c, schools sc WHERE sc.id = p_school;
$$;

-- Recompute the district's all-schools cells of one period from its schools' cells.
CREATE FUNCTION rollup_refresh_district(p_district uuid, p_kind text, p_start date) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells WHERE district_id = p_district AND school_id = '00000000-0000-0000-0000-000000000000'
    AND period_kind = p_kind AND period_start = p_start;
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT p_district, '00000000-0000-0000-0000-000000000000', p_kind, p_start, measure, grade, gender, category, sum(students), sum(value), count(*)
  FROM rollup_cells WHERE district_id = p_district AND school_id <> '00000000-0000-0000-0000-000000000000'
    AND period_kind = p_kind AND period_start = p_start
  GROUP BY measure, grade, gender, category;
$$;

-- Every period (of every kind) from the school's first data to today.
CREATE FUNCTION rollup_school_periods(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH first AS (
    SELECT least(
      (SELECT min(rollup_day(occurred_at)) FROM counseling_sessions WHERE school_id = p_school),
      (SELECT min(rollup_day(opened_at)) FROM case_files WHERE school_id = p_school),
      (SELECT min(rollup_day(taken_at)) FROM assessments WHERE school_id = p_school),
      (SELECT min(rollup_day(opened_at)) FROM crises WHERE school_id = p_school),
      (SELECT min(rollup_day(sent_at)) FROM referrals WHERE school_id = p_school)) AS d
  ), days AS (
    SELECT generate_series(f.d, greatest(f.d, rollup_day(now()), (SELECT max(rollup_day(occurred_at)) FROM counseling_sessions WHERE school_id = p_school)),
      interval '1 day')::date AS d FROM first f WHERE f.d IS NOT NULL
  )
  SELECT DISTINCT k, rollup_period_start(k, days.d) FROM days, unnest(ARRAY['week', 'month', 'term']) k
$$;

-- Claim dirty pairs for refreshing (the caller's transaction holds them).
CREATE FUNCTION rollup_claim(p_limit integer) RETURNS TABLE (district_id uuid, school_id uuid, day date)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH c AS (
    SELECT d.school_id, d.day FROM rollup_dirty d ORDER BY d.marked_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), del AS (
    DELETE FROM rollup_dirty d USING c WHERE d.school_id = c.school_id AND d.day IS NOT DISTINCT FROM c.day RETURNING d.school_id, d.day
  )
  SELECT sc.district_id, del.school_id, del.day FROM del JOIN schools sc ON sc.id = del.school_id
$$;
-- Rebuild every period of one school (a NULL dirty day, a destroyed file): old cells go,
-- the periods it had and has now are returned for the district sums.
CREATE FUNCTION rollup_rebuild_school(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE p record;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS rollup_touched (k text, s date) ON COMMIT DROP;
  TRUNCATE rollup_touched;
  INSERT INTO rollup_touched SELECT DISTINCT c.period_kind, c.period_start FROM rollup_cells c WHERE c.school_id = p_school;
  DELETE FROM rollup_cells c WHERE c.school_id = p_school;
  FOR p IN SELECT * FROM rollup_school_periods(p_school) LOOP
    PERFORM rollup_refresh_school(p_school, p.period_kind, p.period_start);
    INSERT INTO rollup_touched VALUES (p.period_kind, p.period_start);
  END LOOP;
  RETURN QUERY SELECT DISTINCT t.k, t.s FROM rollup_touched t;
END $$;
CREATE FUNCTION rollup_district_schools(p_district uuid) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT id FROM schools WHERE district_id = p_district ORDER BY id
$$;
CREATE FUNCTION rollup_clear_district(p_district uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells WHERE district_id = p_district;
$$;
CREATE FUNCTION rollup_districts() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT id FROM districts ORDER BY id
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['rollup_mark(uuid, date)', 'rollup_compute(uuid, text, date)', 'rollup_refresh_school(uuid, text, date)',
    'rollup_refresh_district(uuid, text, date)', 'rollup_school_periods(uuid)', 'rollup_claim(integer)', 'rollup_district_schools(uuid)',
    'rollup_clear_district(uuid)', 'rollup_districts()', 'rollup_rebuild_school(uuid)'] LOOP
    EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
  END LOOP;
  FOREACH f IN ARRAY ARRAY['rollup_refresh_school(uuid, text, date)', 'rollup_refresh_district(uuid, text, date)', 'rollup_school_periods(uuid)',
    'rollup_claim(integer)', 'rollup_district_schools(uuid)', 'rollup_clear_district(uuid)', 'rollup_districts()',
    'rollup_rebuild_school(uuid)'] LOOP
    EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO xinqiao_app';
  END LOOP;
END $$;
-- +goose StatementEnd

-- The district's suppression threshold: a count from 1 to threshold − 1 is never shown.
CREATE TABLE rollup_settings (
  district_id uuid PRIMARY KEY REFERENCES districts (id),
  threshold   integer NOT NULL DEFAULT 5 CHECK (threshold BETWEEN 3 AND 50),
  updated_by  uuid REFERENCES users (id),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE rollup_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY rollup_settings_read ON rollup_settings FOR SELECT USING (app_scope() = 'district' AND district_id = app_district_id());
CREATE POLICY rollup_settings_write ON rollup_settings FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY rollup_settings_update ON rollup_settings FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT, UPDATE ON rollup_settings TO xinqiao_app;

-- Runs of background jobs, for admins: queued / running / done / failed with reason, progress.
CREATE TABLE job_runs (
  id          text PRIMARY KEY,
  task_type   text NOT NULL,
  district_id uuid,
  status      text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  progress    integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  attempts    integer NOT NULL DEFAULT 1,
  error       text NOT NULL DEFAULT '' CHECK (length(error) <= 500),
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX job_runs_recent ON job_runs (district_id, started_at DESC);
ALTER TABLE job_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_runs FORCE ROW LEVEL SECURITY;
-- The worker (app.scope = 'jobs') writes runs; district admins read their district's and system runs.
CREATE POLICY job_runs_worker ON job_runs USING (app_scope() = 'jobs') WITH CHECK (app_scope() = 'jobs');
CREATE POLICY job_runs_admins ON job_runs FOR SELECT
  USING (app_scope() = 'district' AND (district_id IS NULL OR district_id = app_district_id())
    AND (SELECT app_has_role(ARRAY['district_admin'])));
GRANT SELECT, INSERT, UPDATE ON job_runs TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'rollups', 'read'),
  ('p', 'district_supervisor', 'district:*', 'rollups', 'read'),
  ('p', 'researcher', 'district:*', 'rollups', 'read'),
  ('p', 'district_admin', 'district:*', 'rollups', 'write'),
  ('p', 'district_admin', 'district:*', 'jobs', 'read');
