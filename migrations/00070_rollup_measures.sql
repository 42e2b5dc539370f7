-- +goose Up
-- More rollup measures (统计汇总): screening completion per instrument and per campaign
-- (invited vs completed students), barometer submission rate and mood distribution,
-- activities and attendance by activity type, counseling-room requests answered within
-- two school days and opening hours. Plan compliance is computed in Go (internal/program)
-- and written into rollup cells by the rollup job (measure plan_compliance), so the
-- school functions below leave those cells alone.
--
-- The new measures that are not about single students count other units in the
-- students column (the column is the "contributors" of a cell): homerooms for the
-- barometer, requests for the room, activities for activities, the school for opening
-- hours. Which measures are suppressed is decided at publication (internal/rollup).

-- School days (Mon–Fri) after day a up to and including day b.
-- +goose StatementBegin
CREATE FUNCTION rollup_school_days(a date, b date) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT count(*)::int FROM generate_series(a + 1, b, interval '1 day') d WHERE extract(isodow FROM d) <= 5
$$;

-- Mark rows of the newer source tables. A day before the school's first term of cells
-- (or a school without cells) rebuilds the school: every period from then on may gain cells.
CREATE FUNCTION rollup_mark_row2() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE r record; d date; s uuid; today date := rollup_day(now());
BEGIN
  FOR i IN 1..2 LOOP
    IF i = 1 THEN
      CONTINUE WHEN TG_OP = 'INSERT';
      r := OLD;
    ELSE
      CONTINUE WHEN TG_OP = 'DELETE';
      r := NEW;
    END IF;
    IF TG_TABLE_NAME = 'campaigns' THEN
      FOREACH s IN ARRAY r.school_ids LOOP
        PERFORM rollup_mark_day(s, rollup_day(r.opens_at));
      END LOOP;
      CONTINUE;
    ELSIF TG_TABLE_NAME = 'campaign_instruments' THEN
      FOR s, d IN SELECT unnest(c.school_ids), rollup_day(c.opens_at) FROM campaigns c WHERE c.id = r.campaign_id LOOP
        PERFORM rollup_mark_day(s, d);
      END LOOP;
      CONTINUE;
    ELSIF TG_TABLE_NAME = 'district_plans' THEN
      FOR s IN SELECT k.school_id FROM plan_tasks k WHERE k.district_id = r.district_id AND k.plan_id = r.id LOOP
        PERFORM rollup_mark(s, today);
      END LOOP;
      CONTINUE;
    ELSIF TG_TABLE_NAME = 'room_closures' THEN
      FOR d IN SELECT g::date FROM generate_series(r.starts_on, r.ends_on, interval '1 day') g
        WHERE g::date = r.starts_on OR extract(isodow FROM g) = 1 OR extract(day FROM g) = 1 LOOP
        PERFORM rollup_mark_day(r.school_id, d);
      END LOOP;
      CONTINUE;
    ELSIF TG_TABLE_NAME = 'room_opening_hours' THEN
      PERFORM rollup_mark(r.school_id, NULL);
      CONTINUE;
    ELSIF TG_TABLE_NAME IN ('program_evidence', 'plan_tasks') THEN
      -- Only plan compliance changes: it is recomputed for the district on any mark.
      PERFORM rollup_mark(r.school_id, today);
      CONTINUE;
    ELSIF TG_TABLE_NAME = 'assessments' THEN
      CONTINUE WHEN r.campaign_id IS NULL;
      SELECT rollup_day(c.opens_at) INTO d FROM campaigns c WHERE c.id = r.campaign_id;
    ELSIF TG_TABLE_NAME = 'barometer_reports' THEN d := r.week_start;
    ELSIF TG_TABLE_NAME = 'activities' THEN d := r.held_on;
    ELSIF TG_TABLE_NAME = 'appointments' THEN
      CONTINUE WHEN r.source <> 'public_request';
      d := rollup_day(r.created_at);
    END IF;
    PERFORM rollup_mark_day(r.school_id, d);
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION rollup_mark_day(p_school uuid, p_day date) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE first date;
BEGIN
  IF p_day IS NULL THEN
    RETURN;
  END IF;
  SELECT min(c.period_start) INTO first FROM rollup_cells c JOIN schools sc ON sc.district_id = c.district_id
  WHERE sc.id = p_school AND c.school_id = p_school AND c.period_kind = 'term';
  IF first IS NULL OR p_day < first THEN
    PERFORM rollup_mark(p_school, NULL);
  ELSE
    PERFORM rollup_mark(p_school, p_day);
  END IF;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION rollup_mark_day(uuid, date) FROM PUBLIC;

CREATE TRIGGER campaigns_rollup AFTER INSERT OR DELETE ON campaigns FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER campaign_instruments_rollup AFTER INSERT OR DELETE ON campaign_instruments FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER assessments_campaign_rollup AFTER INSERT OR DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER barometer_reports_rollup AFTER INSERT OR DELETE OR UPDATE OF mood, week_start ON barometer_reports FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER activities_rollup AFTER INSERT OR DELETE OR UPDATE OF type, held_on, attendance ON activities FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER program_evidence_rollup AFTER INSERT OR DELETE ON program_evidence FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER plan_tasks_rollup AFTER INSERT OR DELETE ON plan_tasks FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER district_plans_rollup AFTER UPDATE OF status, version, indicators ON district_plans FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER appointments_rollup AFTER INSERT OR DELETE OR UPDATE OF answered_at, created_at ON appointments FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER room_opening_hours_rollup AFTER INSERT OR DELETE OR UPDATE ON room_opening_hours FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();
CREATE TRIGGER room_closures_rollup AFTER INSERT OR DELETE ON room_closures FOR EACH ROW EXECUTE FUNCTION rollup_mark_row2();

-- The definer functions read these tables.
CREATE POLICY activities_rollup_read ON activities FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY plan_tasks_rollup_read ON plan_tasks FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY program_evidence_rollup_read ON program_evidence FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY room_opening_hours_rollup_read ON room_opening_hours FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY room_closures_rollup_read ON room_closures FOR SELECT TO CURRENT_USER USING (true);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_compute(p_school uuid, p_kind text, p_start date)
RETURNS TABLE (measure text, grade text, gender text, category text, students bigint, value bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH bounds AS (
    SELECT (p_start::timestamp AT TIME ZONE 'Asia/Shanghai') AS lo,
           (rollup_period_end(p_kind, p_start)::timestamp AT TIME ZONE 'Asia/Shanghai') AS hi,
           p_start AS dlo, rollup_period_end(p_kind, p_start) AS dhi
  ), pupil AS (
    SELECT st.id, g.name AS grade, st.gender FROM students st JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
    WHERE st.school_id = p_school
  ), invited AS (
    -- Students a campaign of the period invites: enrolled, in the campaign's grades.
    SELECT c.id AS campaign_id, st.id AS student_id
    FROM campaigns c, bounds b, students st JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
    WHERE p_school = ANY (c.school_ids) AND c.opens_at >= b.lo AND c.opens_at < b.hi
      AND st.school_id = p_school AND st.status = 'enrolled' AND (cardinality(c.grades) = 0 OR g.name = ANY (c.grades))
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
    UNION ALL
    -- Screening completion per instrument: each invited student once per campaign instrument.
    SELECT 'screening_completion', v.student_id, i.code || ':' || CASE WHEN EXISTS (SELECT 1 FROM assessments a
        WHERE a.school_id = p_school AND a.campaign_id = v.campaign_id AND a.student_id = v.student_id AND a.instrument_id = ci.instrument_id)
      THEN 'completed' ELSE 'not_completed' END
    FROM invited v JOIN campaign_instruments ci ON ci.campaign_id = v.campaign_id JOIN instruments i ON i.id = ci.instrument_id
    UNION ALL
    -- Per campaign: completed when every instrument of the campaign is answered.
    SELECT 'screening_campaign', v.student_id, v.campaign_id::text || ':' || CASE WHEN NOT EXISTS (SELECT 1 FROM campaign_instruments ci
        WHERE ci.campaign_id = v.campaign_id AND NOT EXISTS (SELECT 1 FROM assessments a WHERE a.school_id = p_school
          AND a.campaign_id = v.campaign_id AND a.student_id = v.student_id AND a.instrument_id = ci.instrument_id))
      THEN 'completed' ELSE 'not_completed' END
    FROM invited v
  ), days_open AS (
    SELECT g::date AS d FROM bounds b, generate_series(b.dlo, b.dhi - 1, interval '1 day') g
    WHERE extract(isodow FROM g) <= 5
      AND NOT EXISTS (SELECT 1 FROM room_closures c WHERE c.school_id = p_school AND c.counselor_id IS NULL AND g::date BETWEEN c.starts_on AND c.ends_on)
  ), units AS (
    -- Measures about homerooms, activities, requests and the room: no grade or gender.
    -- Barometer: due = each homeroom with a peer liaison × each week of the period up to this week.
    SELECT 'barometer_submission' AS measure, h.homeroom_id::text AS unit,
      CASE WHEN EXISTS (SELECT 1 FROM barometer_reports r WHERE r.school_id = p_school AND r.homeroom_id = h.homeroom_id AND r.week_start = w.d)
        THEN 'submitted' ELSE 'missing' END AS category, 1::bigint AS amount
    FROM (SELECT DISTINCT m.homeroom_id FROM memberships m WHERE m.school_id = p_school AND m.role = 'peer_liaison' AND m.homeroom_id IS NOT NULL) h,
      bounds b, LATERAL (SELECT g::date AS d FROM generate_series(date_trunc('week', b.dlo + 6)::date, b.dhi - 1, interval '7 days') g
        WHERE g::date <= date_trunc('week', rollup_day(now()))::date) w
    UNION ALL
    -- Reports of homerooms without a liaison now still count as submitted.
    SELECT 'barometer_submission', r.homeroom_id::text, 'submitted', 1
    FROM barometer_reports r, bounds b WHERE r.school_id = p_school AND r.week_start >= b.dlo AND r.week_start < b.dhi
      AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.school_id = p_school AND m.role = 'peer_liaison' AND m.homeroom_id = r.homeroom_id)
    UNION ALL
    SELECT 'barometer_mood', r.homeroom_id::text, r.mood::text, 1
    FROM barometer_reports r, bounds b WHERE r.school_id = p_school AND r.week_start >= b.dlo AND r.week_start < b.dhi
    UNION ALL
    SELECT 'activities_type', a.id::text, a.type, 1
    FROM activities a, bounds b WHERE a.school_id = p_school AND a.held_on >= b.dlo AND a.held_on < b.dhi AND a.type <> 'room_hours'
    UNION ALL
    SELECT 'activities_attendance', a.id::text, a.type, a.attendance
    FROM activities a, bounds b WHERE a.school_id = p_school AND a.held_on >= b.dlo AND a.held_on < b.dhi AND a.type <> 'room_hours'
    UNION ALL
    -- Requests from the public page: answered within two school days (Mon–Fri), later, or not yet.
    SELECT 'room_requests', a.id::text, CASE WHEN a.answered_at IS NULL THEN 'unanswered'
      WHEN rollup_school_days(rollup_day(a.created_at), rollup_day(a.answered_at)) <= 2 THEN 'within_2_school_days' ELSE 'later' END, 1
    FROM appointments a, bounds b WHERE a.school_id = p_school AND a.source = 'public_request' AND a.created_at >= b.lo AND a.created_at < b.hi
    UNION ALL
    -- Opening hours: minutes open and school days (Mon–Fri) of the period without a room
    -- closure; hours per week = open_minutes / school_days × 5 / 60.
    SELECT 'room_hours', 'room', x.category, x.amount FROM (
      SELECT 'open_minutes' AS category, coalesce(sum(o.closes_min - o.opens_min), 0)::bigint AS amount
      FROM days_open d JOIN room_opening_hours o ON o.school_id = p_school AND o.weekday = extract(isodow FROM d.d)
      UNION ALL
      SELECT 'school_days', count(*) FROM days_open d
    ) x WHERE EXISTS (SELECT 1 FROM room_opening_hours o WHERE o.school_id = p_school)
  )
  SELECT f.measure, coalesce(p.grade, ''), coalesce(p.gender, ''), f.category, count(DISTINCT f.student_id), count(*)
  FROM facts f JOIN pupil p ON p.id = f.student_id
  GROUP BY GROUPING SETS ((f.measure, f.category, p.grade, p.gender), (f.measure, f.category, p.grade), (f.measure, f.category, p.gender), (f.measure, f.category))
  UNION ALL
  SELECT u.measure, '', '', u.category, count(DISTINCT u.unit), sum(u.amount)::bigint
  FROM units u GROUP BY u.measure, u.category
$$;

-- Periods computed for a school: the refresh computes, besides the dirty periods, every
-- period of the school not computed yet, so that measures with cells in periods without
-- events (barometer weeks due, opening hours) hold exactly what a full rebuild finds.
CREATE TABLE rollup_computed (
  school_id    uuid NOT NULL,
  period_kind  text NOT NULL,
  period_start date NOT NULL,
  PRIMARY KEY (school_id, period_kind, period_start)
);
ALTER TABLE rollup_computed ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_computed FORCE ROW LEVEL SECURITY;
CREATE POLICY rollup_computed_definer ON rollup_computed TO CURRENT_USER USING (true);

-- Recompute one school's cells of one period (plan compliance is written by the job). A
-- term's calendar measures (barometer weeks due, opening hours: their value depends on
-- the day, not only on events) are the sums of the term's month cells, computed before
-- it, so a term is always exactly the sum of its months.
CREATE OR REPLACE FUNCTION rollup_refresh_school(p_school uuid, p_kind text, p_start date) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells WHERE school_id = p_school AND period_kind = p_kind AND period_start = p_start AND measure <> 'plan_compliance';
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT sc.district_id, p_school, p_kind, p_start, c.measure, c.grade, c.gender, c.category, c.students, c.value, 1
  FROM rollup_compute(p_school, p_kind, p_start) c, schools sc WHERE sc.id = p_school
    AND NOT (p_kind = 'term' AND c.measure IN ('barometer_submission', 'room_hours'));
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT c.district_id, p_school, 'term', p_start, c.measure, c.grade, c.gender, c.category, max(c.students), sum(c.value), 1
  FROM rollup_cells c JOIN schools sc ON sc.id = p_school AND sc.district_id = c.district_id
  WHERE p_kind = 'term' AND c.school_id = p_school AND c.period_kind = 'month' AND c.period_start >= p_start
    AND c.period_start < rollup_period_end('term', p_start) AND c.measure IN ('barometer_submission', 'room_hours')
  GROUP BY c.district_id, c.measure, c.grade, c.gender, c.category;
  INSERT INTO rollup_computed (school_id, period_kind, period_start) VALUES (p_school, p_kind, p_start) ON CONFLICT DO NOTHING;
$$;

-- The periods of a school that were never computed.
CREATE FUNCTION rollup_uncomputed_periods(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.period_kind, p.period_start FROM rollup_school_periods(p_school) p
  WHERE NOT EXISTS (SELECT 1 FROM rollup_computed c WHERE c.school_id = p_school AND c.period_kind = p.period_kind AND c.period_start = p.period_start)
$$;
REVOKE ALL ON FUNCTION rollup_uncomputed_periods(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rollup_uncomputed_periods(uuid) TO xinqiao_app;

CREATE OR REPLACE FUNCTION rollup_clear_district(p_district uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells WHERE district_id = p_district;
  DELETE FROM rollup_computed c USING schools sc WHERE sc.id = c.school_id AND sc.district_id = p_district;
$$;

CREATE OR REPLACE FUNCTION rollup_school_periods(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH first AS (
    SELECT least(
      (SELECT min(rollup_day(occurred_at)) FROM counseling_sessions WHERE school_id = p_school),
      (SELECT min(rollup_day(opened_at)) FROM case_files WHERE school_id = p_school),
      (SELECT min(rollup_day(taken_at)) FROM assessments WHERE school_id = p_school),
      (SELECT min(rollup_day(opened_at)) FROM crises WHERE school_id = p_school),
      (SELECT min(rollup_day(sent_at)) FROM referrals WHERE school_id = p_school),
      (SELECT min(rollup_day(opens_at)) FROM campaigns WHERE p_school = ANY (school_ids)),
      (SELECT min(week_start) FROM barometer_reports WHERE school_id = p_school),
      (SELECT min(held_on) FROM activities WHERE school_id = p_school),
      (SELECT min(rollup_day(created_at)) FROM appointments WHERE school_id = p_school AND source = 'public_request')) AS d
  ), days AS (
    SELECT generate_series(f.d, greatest(f.d, rollup_day(now()), (SELECT max(rollup_day(occurred_at)) FROM counseling_sessions WHERE school_id = p_school)),
      interval '1 day')::date AS d FROM first f WHERE f.d IS NOT NULL
  )
  SELECT DISTINCT k, rollup_period_start(k, days.d) FROM days, unnest(ARRAY['week', 'month', 'term']) k
$$;

CREATE OR REPLACE FUNCTION rollup_rebuild_school(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE p record;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS rollup_touched (k text, s date) ON COMMIT DROP;
  TRUNCATE rollup_touched;
  INSERT INTO rollup_touched SELECT DISTINCT c.period_kind, c.period_start FROM rollup_cells c WHERE c.school_id = p_school;
  DELETE FROM rollup_cells c WHERE c.school_id = p_school AND c.measure <> 'plan_compliance';
  DELETE FROM rollup_computed c WHERE c.school_id = p_school;
  -- Months before terms: a term sums its months' calendar measures.
  FOR p IN SELECT * FROM rollup_school_periods(p_school) x ORDER BY x.period_kind, x.period_start LOOP
    PERFORM rollup_refresh_school(p_school, p.period_kind, p.period_start);
    INSERT INTO rollup_touched VALUES (p.period_kind, p.period_start);
  END LOOP;
  RETURN QUERY SELECT DISTINCT t.k, t.s FROM rollup_touched t;
END $$;

-- Plan compliance cells (computed by internal/program in the job): replace the district's
-- and return the term periods they had and have.
CREATE FUNCTION rollup_put_compliance(p_district uuid, p_schools uuid[], p_starts date[], p_categories text[], p_values bigint[])
RETURNS TABLE (period_start date) LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE old date[];
BEGIN
  WITH d AS (
    DELETE FROM rollup_cells c WHERE c.district_id = p_district AND c.measure = 'plan_compliance' AND c.school_id <> '00000000-0000-0000-0000-000000000000'
    RETURNING c.period_start
  ) SELECT coalesce(array_agg(DISTINCT d.period_start), '{}') INTO old FROM d;
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT p_district, x.s, 'term', x.p, 'plan_compliance', '', '', x.c, sum(x.v), sum(x.v), 1
  FROM unnest(p_schools, p_starts, p_categories, p_values) AS x (s, p, c, v)
  JOIN schools sc ON sc.id = x.s AND sc.district_id = p_district
  WHERE x.v > 0
  GROUP BY x.s, x.p, x.c;
  RETURN QUERY SELECT DISTINCT x FROM unnest(old || p_starts) x;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION rollup_put_compliance(uuid, uuid[], date[], text[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rollup_put_compliance(uuid, uuid[], date[], text[], bigint[]) TO xinqiao_app;
