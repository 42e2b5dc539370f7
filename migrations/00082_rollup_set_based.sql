-- +goose Up
-- Rollup performance (issue 7, issue 10 benchmark 4; docs/BENCHMARKS.md items (2) and (4)).
--
-- 1. A write never waits for a refresh. A dirty mark was claimed (FOR UPDATE, then
--    DELETE) inside the long recompute transaction, so rollup_mark's INSERT … ON CONFLICT
--    on the same (school, day) waited for the whole refresh. Now a refresher (holding the
--    rollup advisory lock for its whole run) claims marks in a short transaction of its
--    own by stamping them with a claim token, recomputes in another transaction and
--    deletes exactly the rows it claimed in that same transaction. Only unclaimed marks
--    are unique, so a change committed during a refresh inserts a fresh mark (and wakes
--    the job) without waiting; the next refresh picks it up. A refresher that dies leaves
--    its claimed rows behind; the next lock holder claims them again (only lock holders
--    claim, so a claimed row seen by a lock holder is abandoned).
--
-- 2. One definition of every measure, set-based: rollup_compute_set computes the cells
--    of any set of (school, period) pairs in one statement — facts are read once over
--    the pairs' time span and joined to their week, month and term — and
--    rollup_refresh_periods writes them. The full rebuild passes every period of every
--    school of the district; the incremental refresh passes the dirty ones. The old
--    per-period functions are now thin wrappers over these.

ALTER TABLE rollup_dirty ADD COLUMN claim uuid;
DROP INDEX rollup_dirty_key;
CREATE UNIQUE INDEX rollup_dirty_pending ON rollup_dirty (school_id, day) NULLS NOT DISTINCT WHERE claim IS NULL;
CREATE INDEX rollup_dirty_claim ON rollup_dirty (claim) WHERE claim IS NOT NULL;
-- The district sums and the deletes read one district's cells of one period.
CREATE INDEX rollup_cells_period ON rollup_cells (district_id, period_kind, period_start);
-- Publication reads a unit's school rows and the district's rows, never the schools'
-- grade and gender breakdowns (most of the cells): index only what it reads.
CREATE INDEX rollup_cells_published ON rollup_cells (district_id, measure, period_start, period_kind)
  WHERE school_id = '00000000-0000-0000-0000-000000000000' OR (grade = '' AND gender = '');

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_mark(p_school uuid, p_day date) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
  -- Only an unclaimed mark is unique: a mark being refreshed never makes a write wait.
  INSERT INTO rollup_dirty (school_id, day) VALUES (p_school, p_day) ON CONFLICT (school_id, day) WHERE claim IS NULL DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    INSERT INTO outbox (id, district_id, school_id, task_type, payload, queue)
    SELECT gen_random_uuid(), sc.district_id, NULL, 'rollup:refresh', '{}', 'low' FROM schools sc WHERE sc.id = p_school;
  END IF;
END $$;

-- Claim up to p_limit marks (the caller holds the rollup advisory lock and commits at
-- once): unclaimed ones and those a dead refresher left claimed.
CREATE FUNCTION rollup_claim_marks(p_claim uuid, p_limit integer) RETURNS TABLE (district_id uuid, school_id uuid, day date)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH c AS (
    SELECT d.ctid AS t FROM rollup_dirty d ORDER BY d.marked_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), u AS (
    UPDATE rollup_dirty d SET claim = p_claim FROM c WHERE d.ctid = c.t RETURNING d.school_id, d.day
  )
  SELECT sc.district_id, u.school_id, u.day FROM u JOIN schools sc ON sc.id = u.school_id
$$;

-- Consume the claimed marks (in the transaction that recomputed their cells).
CREATE FUNCTION rollup_consume_marks(p_claim uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_dirty WHERE claim = p_claim;
$$;

-- The cells of a set of (school, period kind, period start) — the one definition of
-- every measure (students counted once per cell). Facts with a date are read once over
-- each school's span of the asked periods and joined to their week, month and term
-- (the starts of rollup_period_start, written inline: a call per fact is not inlined);
-- stocks (the tier as of a period's end) and calendars (barometer weeks due, opening
-- hours) are joined to the periods themselves.
CREATE FUNCTION rollup_compute_set(p_schools uuid[], p_kinds text[], p_starts date[])
RETURNS TABLE (school_id uuid, period_kind text, period_start date, measure text, grade text, gender text, category text, students bigint, value bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' SET enable_nestloop = off SET jit = off AS $$
  WITH periods AS MATERIALIZED (
    SELECT DISTINCT x.s AS school, x.k AS kind, x.p AS pstart,
      (x.p::timestamp AT TIME ZONE 'Asia/Shanghai') AS lo,
      (rollup_period_end(x.k, x.p)::timestamp AT TIME ZONE 'Asia/Shanghai') AS hi,
      x.p AS dlo, rollup_period_end(x.k, x.p) AS dhi
    FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p)
  ), span AS MATERIALIZED (
    -- One time span for all the schools: (school, time) index range scans for a refresh.
    SELECT min(p.lo) AS lo, max(p.hi) AS hi, min(p.dlo) AS dlo, max(p.dhi) AS dhi FROM periods p
  ), pupil AS (
    SELECT st.school_id AS school, st.id, g.name AS grade, st.gender
    FROM students st JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
    WHERE st.school_id = ANY (p_schools)
  ), sessions AS (
    SELECT s.school_id AS school, c.student_id, s.channel, s.categories, rollup_day(s.occurred_at) AS day
    FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id
    WHERE s.school_id = ANY (p_schools) AND s.occurred_at >= (SELECT lo FROM span) AND s.occurred_at < (SELECT hi FROM span)
  ), invited AS (
    -- Students a campaign invites: enrolled, in the campaign's grades.
    SELECT st.school_id AS school, c.id AS campaign_id, st.id AS student_id, rollup_day(c.opens_at) AS day
    FROM campaigns c JOIN students st ON st.school_id = ANY (c.school_ids) AND st.school_id = ANY (p_schools) AND st.status = 'enrolled'
    JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
    WHERE c.opens_at >= (SELECT lo FROM span) AND c.opens_at < (SELECT hi FROM span) AND (cardinality(c.grades) = 0 OR g.name = ANY (c.grades))
  ), events AS (
    -- Facts of one day: (school, day, measure, student, category).
    SELECT s.school, s.day, 'sessions_channel' AS measure, s.student_id, s.channel AS category FROM sessions s
    UNION ALL
    SELECT s.school, s.day, 'sessions_category', s.student_id, cat FROM sessions s, unnest(s.categories) cat
    UNION ALL
    SELECT a.school_id, rollup_day(a.taken_at), 'screening_band', a.student_id, a.instrument_code || ':' || a.band
    FROM assessments a WHERE a.school_id = ANY (p_schools) AND a.taken_at >= (SELECT lo FROM span) AND a.taken_at < (SELECT hi FROM span) AND a.valid
    UNION ALL
    SELECT c.school_id, rollup_day(c.opened_at), x.measure, c.student_id, x.category
    FROM crises c,
      LATERAL (VALUES ('crises_level', c.level), ('crises_ack', CASE WHEN c.assessed_at IS NULL THEN 'not_assessed'
        WHEN c.assessed_at - c.opened_at < interval '15 minutes' THEN 'lt_15m'
        WHEN c.assessed_at - c.opened_at < interval '1 hour' THEN 'lt_1h'
        WHEN c.assessed_at - c.opened_at < interval '4 hours' THEN 'lt_4h' ELSE 'ge_4h' END)) AS x (measure, category)
    WHERE c.school_id = ANY (p_schools) AND c.opened_at >= (SELECT lo FROM span) AND c.opened_at < (SELECT hi FROM span)
    UNION ALL
    SELECT r.school_id, rollup_day(r.sent_at), x.measure, r.student_id, x.category
    FROM referrals r,
      LATERAL (SELECT 'referrals_status', r.status
        UNION ALL
        SELECT 'referrals_feedback', CASE WHEN r.feedback_at IS NOT NULL THEN 'feedback' ELSE 'no_feedback' END WHERE r.status <> 'declined') AS x (measure, category)
    WHERE r.school_id = ANY (p_schools) AND r.sent_at >= (SELECT lo FROM span) AND r.sent_at < (SELECT hi FROM span)
    UNION ALL
    -- Screening completion per instrument: each invited student once per campaign instrument.
    SELECT v.school, v.day, 'screening_completion', v.student_id, i.code || ':' || CASE WHEN EXISTS (SELECT 1 FROM assessments a
        WHERE a.school_id = v.school AND a.campaign_id = v.campaign_id AND a.student_id = v.student_id AND a.instrument_id = ci.instrument_id)
      THEN 'completed' ELSE 'not_completed' END
    FROM invited v JOIN campaign_instruments ci ON ci.campaign_id = v.campaign_id JOIN instruments i ON i.id = ci.instrument_id
    UNION ALL
    -- Per campaign: completed when every instrument of the campaign is answered.
    SELECT v.school, v.day, 'screening_campaign', v.student_id, v.campaign_id::text || ':' || CASE WHEN NOT EXISTS (SELECT 1 FROM campaign_instruments ci
        WHERE ci.campaign_id = v.campaign_id AND NOT EXISTS (SELECT 1 FROM assessments a WHERE a.school_id = v.school
          AND a.campaign_id = v.campaign_id AND a.student_id = v.student_id AND a.instrument_id = ci.instrument_id))
      THEN 'completed' ELSE 'not_completed' END
    FROM invited v
  ), tiers AS (
    -- Each case file's tier over time: 'none' from its opening to its first change, then
    -- each change until the next; a period counts the tier at its end (hi in (from, to]).
    SELECT t.school, t.student_id, t.opened_at, t.changed_at AS from_at, lead(t.changed_at) OVER w AS to_at, t.tier
    FROM (
      SELECT c.school_id AS school, c.id, c.student_id, c.opened_at, '-infinity'::timestamptz AS changed_at, 0 AS o, NULL::uuid AS rid, 'none' AS tier
      FROM case_files c WHERE c.school_id = ANY (p_schools) AND c.opened_at < (SELECT hi FROM span)
      UNION ALL
      SELECT c.school_id, c.id, c.student_id, c.opened_at, r.changed_at, 1, r.id, r.to_tier
      FROM case_files c JOIN risk_tier_changes r ON r.school_id = c.school_id AND r.case_file_id = c.id AND r.changed_at < (SELECT hi FROM span)
      WHERE c.school_id = ANY (p_schools) AND c.opened_at < (SELECT hi FROM span)
    ) t
    WINDOW w AS (PARTITION BY t.school, t.id ORDER BY t.changed_at, t.o, t.rid)
  ), event_periods AS MATERIALIZED (
    -- Each fact's week, month and term (rollup_period_start, written inline: a call per
    -- fact is not inlined), before the join, so the periods join hashes on all three keys.
    SELECT e.school, k.kind, k.pstart, e.measure, e.student_id, e.category
    FROM events e CROSS JOIN LATERAL (VALUES ('week', date_trunc('week', e.day)::date), ('month', date_trunc('month', e.day)::date),
      ('term', CASE WHEN extract(month FROM e.day) BETWEEN 2 AND 7 THEN make_date(extract(year FROM e.day)::int, 2, 1)
        WHEN extract(month FROM e.day) = 1 THEN make_date(extract(year FROM e.day)::int - 1, 8, 1)
        ELSE make_date(extract(year FROM e.day)::int, 8, 1) END)) AS k (kind, pstart)
  ), facts AS (
    SELECT e.school, e.kind, e.pstart, e.measure, e.student_id, e.category
    FROM event_periods e JOIN periods p ON p.school = e.school AND p.kind = e.kind AND p.pstart = e.pstart
    UNION ALL
    SELECT p.school, p.kind, p.pstart, 'case_files_tier', t.student_id, t.tier
    FROM tiers t JOIN periods p ON p.school = t.school AND p.hi > t.opened_at AND p.hi > t.from_at AND (t.to_at IS NULL OR p.hi <= t.to_at)
  ), per_student AS (
    -- A student has one grade and one gender: counting a cell's (student) groups counts
    -- its distinct students, at every level of the grouping sets below.
    SELECT f.school, f.kind, f.pstart, f.measure, f.category, p.grade, p.gender, count(*) AS n
    FROM facts f JOIN pupil p ON p.school = f.school AND p.id = f.student_id
    GROUP BY f.school, f.kind, f.pstart, f.measure, f.category, p.grade, p.gender, f.student_id
  ), liaison AS (
    SELECT DISTINCT m.school_id AS school, m.homeroom_id FROM memberships m
    WHERE m.school_id = ANY (p_schools) AND m.role = 'peer_liaison' AND m.homeroom_id IS NOT NULL
  ), units AS (
    -- Measures about homerooms, activities, requests and the room: no grade or gender.
    -- Barometer: due = each homeroom with a peer liaison × each week of the period up to this week.
    SELECT p.school, p.kind, p.pstart, 'barometer_submission' AS measure, h.homeroom_id::text AS unit,
      CASE WHEN EXISTS (SELECT 1 FROM barometer_reports r WHERE r.school_id = p.school AND r.homeroom_id = h.homeroom_id AND r.week_start = w.d)
        THEN 'submitted' ELSE 'missing' END AS category, 1::bigint AS amount
    FROM periods p JOIN liaison h ON h.school = p.school,
      LATERAL (SELECT g::date AS d FROM generate_series(date_trunc('week', p.dlo + 6)::date, p.dhi - 1, interval '7 days') g
        WHERE g::date <= date_trunc('week', rollup_day(now()))::date) w
    UNION ALL
    SELECT p.school, p.kind, p.pstart, e.measure, e.unit, e.category, e.amount
    FROM (
      -- Reports of homerooms without a liaison now still count as submitted.
      SELECT r.school_id AS school, r.week_start AS day, 'barometer_submission' AS measure, r.homeroom_id::text AS unit, 'submitted' AS category, 1::bigint AS amount
      FROM barometer_reports r
      WHERE r.school_id = ANY (p_schools) AND r.week_start >= (SELECT dlo FROM span) AND r.week_start < (SELECT dhi FROM span) AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.school_id = r.school_id AND m.role = 'peer_liaison' AND m.homeroom_id = r.homeroom_id)
      UNION ALL
      SELECT r.school_id, r.week_start, 'barometer_mood', r.homeroom_id::text, r.mood::text, 1
      FROM barometer_reports r
      WHERE r.school_id = ANY (p_schools) AND r.week_start >= (SELECT dlo FROM span) AND r.week_start < (SELECT dhi FROM span)
      UNION ALL
      SELECT a.school_id, a.held_on, x.measure, a.id::text, a.type, x.amount
      FROM activities a,
        LATERAL (VALUES ('activities_type', 1::bigint), ('activities_attendance', a.attendance::bigint)) AS x (measure, amount)
      WHERE a.school_id = ANY (p_schools) AND a.held_on >= (SELECT dlo FROM span) AND a.held_on < (SELECT dhi FROM span) AND a.type <> 'room_hours'
      UNION ALL
      -- Requests from the public page: answered within two school days (Mon–Fri), later, or not yet.
      SELECT a.school_id, rollup_day(a.created_at), 'room_requests', a.id::text, CASE WHEN a.answered_at IS NULL THEN 'unanswered'
        WHEN rollup_school_days(rollup_day(a.created_at), rollup_day(a.answered_at)) <= 2 THEN 'within_2_school_days' ELSE 'later' END, 1
      FROM appointments a
      WHERE a.school_id = ANY (p_schools) AND a.created_at >= (SELECT lo FROM span) AND a.created_at < (SELECT hi FROM span) AND a.source = 'public_request'
    ) e CROSS JOIN LATERAL (VALUES ('week', date_trunc('week', e.day)::date), ('month', date_trunc('month', e.day)::date),
      ('term', CASE WHEN extract(month FROM e.day) BETWEEN 2 AND 7 THEN make_date(extract(year FROM e.day)::int, 2, 1)
        WHEN extract(month FROM e.day) = 1 THEN make_date(extract(year FROM e.day)::int - 1, 8, 1)
        ELSE make_date(extract(year FROM e.day)::int, 8, 1) END)) AS k (kind, pstart)
    JOIN periods p ON p.school = e.school AND p.kind = k.kind AND p.pstart = k.pstart
  ), room AS (
    SELECT p.school, p.kind, p.pstart, p.dlo, p.dhi FROM periods p WHERE EXISTS (SELECT 1 FROM room_opening_hours h WHERE h.school_id = p.school)
  ), room_days AS (
    -- Opening hours: minutes open and school days (Mon–Fri) of the period without a room
    -- closure; hours per week = open_minutes / school_days × 5 / 60.
    SELECT r.school, r.kind, r.pstart, count(*) AS days,
      coalesce(sum((SELECT sum(h.closes_min - h.opens_min) FROM room_opening_hours h WHERE h.school_id = r.school AND h.weekday = extract(isodow FROM d.d))), 0) AS minutes
    FROM room r, LATERAL (SELECT g::date AS d FROM generate_series(r.dlo, r.dhi - 1, interval '1 day') g
      WHERE extract(isodow FROM g) <= 5
        AND NOT EXISTS (SELECT 1 FROM room_closures c WHERE c.school_id = r.school AND c.counselor_id IS NULL AND g::date BETWEEN c.starts_on AND c.ends_on)) d
    GROUP BY r.school, r.kind, r.pstart
  )
  SELECT ps.school, ps.kind, ps.pstart, ps.measure, coalesce(ps.grade, ''), coalesce(ps.gender, ''), ps.category, count(*), sum(ps.n)::bigint
  FROM per_student ps
  GROUP BY GROUPING SETS ((ps.school, ps.kind, ps.pstart, ps.measure, ps.category, ps.grade, ps.gender), (ps.school, ps.kind, ps.pstart, ps.measure, ps.category, ps.grade),
    (ps.school, ps.kind, ps.pstart, ps.measure, ps.category, ps.gender), (ps.school, ps.kind, ps.pstart, ps.measure, ps.category))
  UNION ALL
  SELECT u.school, u.kind, u.pstart, u.measure, '', '', u.category, count(DISTINCT u.unit), sum(u.amount)::bigint
  FROM units u GROUP BY u.school, u.kind, u.pstart, u.measure, u.category
  UNION ALL
  -- A room open on no school day of the period still has its two cells (as zeros).
  SELECT r.school, r.kind, r.pstart, 'room_hours', '', '', c.category, 1,
    (CASE c.category WHEN 'open_minutes' THEN coalesce(d.minutes, 0) ELSE coalesce(d.days, 0) END)::bigint
  FROM room r LEFT JOIN room_days d ON d.school = r.school AND d.kind = r.kind AND d.pstart = r.pstart,
    (VALUES ('open_minutes'), ('school_days')) AS c (category)
$$;

-- The old one-period function, kept as a view on the set-based one.
CREATE OR REPLACE FUNCTION rollup_compute(p_school uuid, p_kind text, p_start date)
RETURNS TABLE (measure text, grade text, gender text, category text, students bigint, value bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.measure, c.grade, c.gender, c.category, c.students, c.value FROM rollup_compute_set(ARRAY[p_school], ARRAY[p_kind], ARRAY[p_start]) c
$$;

-- Recompute the cells of a set of (school, period) (plan compliance is written by the
-- job). A term's calendar measures (barometer weeks due, opening hours: their value
-- depends on the day, not only on events) are the sums of the term's month cells, which
-- are written first, so a term is always exactly the sum of its months.
CREATE FUNCTION rollup_refresh_periods(p_schools uuid[], p_kinds text[], p_starts date[]) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells c USING (SELECT DISTINCT x.s, x.k, x.p, sc.district_id FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p)
    JOIN schools sc ON sc.id = x.s) x
  WHERE c.district_id = x.district_id AND c.school_id = x.s AND c.period_kind = x.k AND c.period_start = x.p AND c.measure <> 'plan_compliance';
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT sc.district_id, c.school_id, c.period_kind, c.period_start, c.measure, c.grade, c.gender, c.category, c.students, c.value, 1
  FROM rollup_compute_set(p_schools, p_kinds, p_starts) c JOIN schools sc ON sc.id = c.school_id
  WHERE NOT (c.period_kind = 'term' AND c.measure IN ('barometer_submission', 'room_hours'));
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT c.district_id, t.s, 'term', t.p, c.measure, c.grade, c.gender, c.category, max(c.students), sum(c.value), 1
  FROM (SELECT DISTINCT x.s, x.p FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p) WHERE x.k = 'term') t
  JOIN schools sc ON sc.id = t.s
  JOIN rollup_cells c ON c.district_id = sc.district_id AND c.school_id = t.s AND c.period_kind = 'month' AND c.period_start >= t.p
    AND c.period_start < rollup_period_end('term', t.p) AND c.measure IN ('barometer_submission', 'room_hours')
  GROUP BY c.district_id, t.s, t.p, c.measure, c.grade, c.gender, c.category;
  INSERT INTO rollup_computed (school_id, period_kind, period_start)
  SELECT DISTINCT x.s, x.k, x.p FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p) ON CONFLICT DO NOTHING;
$$;

-- Recompute dirty periods (the incremental refresh): only periods within the school's
-- range of data (rollup_school_periods, exactly what a full rebuild computes) get cells;
-- the cells of a dirty period outside it (its only record was moved or deleted) go.
CREATE FUNCTION rollup_refresh_dirty(p_schools uuid[], p_kinds text[], p_starts date[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE ss uuid[]; ks text[]; ps date[];
BEGIN
  DELETE FROM rollup_cells c USING (SELECT DISTINCT x.s, x.k, x.p, sc.district_id FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p)
    JOIN schools sc ON sc.id = x.s) x
  WHERE c.district_id = x.district_id AND c.school_id = x.s AND c.period_kind = x.k AND c.period_start = x.p AND c.measure <> 'plan_compliance';
  DELETE FROM rollup_computed c USING unnest(p_schools, p_kinds, p_starts) AS x (s, k, p)
  WHERE c.school_id = x.s AND c.period_kind = x.k AND c.period_start = x.p;
  SELECT array_agg(x.s), array_agg(x.k), array_agg(x.p) INTO ss, ks, ps
  FROM (SELECT DISTINCT x.s, x.k, x.p FROM unnest(p_schools, p_kinds, p_starts) AS x (s, k, p)) x
  JOIN (SELECT d.s, sp.period_kind, sp.period_start FROM (SELECT DISTINCT u.s FROM unnest(p_schools) AS u (s)) d,
    LATERAL rollup_school_periods(d.s) sp) w ON w.s = x.s AND w.period_kind = x.k AND w.period_start = x.p;
  IF ss IS NOT NULL THEN
    PERFORM rollup_refresh_periods(ss, ks, ps);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION rollup_refresh_school(p_school uuid, p_kind text, p_start date) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT rollup_refresh_periods(ARRAY[p_school], ARRAY[p_kind], ARRAY[p_start]);
$$;

-- Recompute the district's all-schools cells of several periods from its schools' cells.
CREATE FUNCTION rollup_refresh_district_periods(p_district uuid, p_kinds text[], p_starts date[]) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_cells c USING (SELECT DISTINCT x.k, x.p FROM unnest(p_kinds, p_starts) AS x (k, p)) x
  WHERE c.district_id = p_district AND c.school_id = '00000000-0000-0000-0000-000000000000' AND c.period_kind = x.k AND c.period_start = x.p;
  INSERT INTO rollup_cells (district_id, school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools)
  SELECT p_district, '00000000-0000-0000-0000-000000000000', c.period_kind, c.period_start, c.measure, c.grade, c.gender, c.category, sum(c.students), sum(c.value), count(*)
  FROM (SELECT DISTINCT x.k, x.p FROM unnest(p_kinds, p_starts) AS x (k, p)) x
  JOIN rollup_cells c ON c.district_id = p_district AND c.period_kind = x.k AND c.period_start = x.p
  WHERE c.school_id <> '00000000-0000-0000-0000-000000000000'
  GROUP BY c.period_kind, c.period_start, c.measure, c.grade, c.gender, c.category;
$$;

CREATE OR REPLACE FUNCTION rollup_refresh_district(p_district uuid, p_kind text, p_start date) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT rollup_refresh_district_periods(p_district, ARRAY[p_kind], ARRAY[p_start]);
$$;

-- Rebuild every period of some schools (a NULL dirty day, the nightly rebuild): their
-- old cells go, every period from their first data to today is computed in one
-- statement; the periods they had and have are returned for the district sums.
CREATE FUNCTION rollup_rebuild_schools(p_schools uuid[]) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE old_k text[]; old_s date[]; ss uuid[]; ks text[]; ps date[];
BEGIN
  SELECT array_agg(x.period_kind), array_agg(x.period_start) INTO old_k, old_s FROM (
    SELECT DISTINCT c.period_kind, c.period_start FROM rollup_cells c JOIN schools sc ON sc.id = c.school_id AND sc.district_id = c.district_id
    WHERE c.school_id = ANY (p_schools)) x;
  DELETE FROM rollup_cells c USING schools sc WHERE sc.id = ANY (p_schools) AND c.district_id = sc.district_id AND c.school_id = sc.id
    AND c.measure <> 'plan_compliance';
  DELETE FROM rollup_computed c WHERE c.school_id = ANY (p_schools);
  SELECT array_agg(s.id), array_agg(p.period_kind), array_agg(p.period_start) INTO ss, ks, ps
  FROM unnest(p_schools) s (id), LATERAL rollup_school_periods(s.id) p;
  IF ss IS NOT NULL THEN
    PERFORM rollup_refresh_periods(ss, ks, ps);
  END IF;
  RETURN QUERY SELECT DISTINCT x.k, x.p FROM unnest(coalesce(old_k, '{}') || coalesce(ks, '{}'), coalesce(old_s, '{}') || coalesce(ps, '{}')) AS x (k, p);
END $$;

CREATE OR REPLACE FUNCTION rollup_rebuild_school(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT * FROM rollup_rebuild_schools(ARRAY[p_school])
$$;

-- Every period (of every kind) from the school's first data to today. rollup_day is
-- monotonic, so rollup_day(min(t)) = min(rollup_day(t)) and the (school, time) indexes
-- answer each bound with one index probe instead of a scan of the school's rows.
CREATE OR REPLACE FUNCTION rollup_school_periods(p_school uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH first AS (
    SELECT least(
      rollup_day((SELECT min(occurred_at) FROM counseling_sessions WHERE school_id = p_school)),
      rollup_day((SELECT min(opened_at) FROM case_files WHERE school_id = p_school)),
      rollup_day((SELECT min(taken_at) FROM assessments WHERE school_id = p_school)),
      rollup_day((SELECT min(opened_at) FROM crises WHERE school_id = p_school)),
      rollup_day((SELECT min(sent_at) FROM referrals WHERE school_id = p_school)),
      rollup_day((SELECT min(opens_at) FROM campaigns WHERE p_school = ANY (school_ids))),
      (SELECT min(week_start) FROM barometer_reports WHERE school_id = p_school),
      (SELECT min(held_on) FROM activities WHERE school_id = p_school),
      rollup_day((SELECT min(created_at) FROM appointments WHERE school_id = p_school AND source = 'public_request'))) AS d
  ), days AS (
    SELECT generate_series(f.d, greatest(f.d, rollup_day(now()), rollup_day((SELECT max(occurred_at) FROM counseling_sessions WHERE school_id = p_school))),
      interval '1 day')::date AS d FROM first f WHERE f.d IS NOT NULL
  )
  SELECT DISTINCT k, rollup_period_start(k, days.d) FROM days, unnest(ARRAY['week', 'month', 'term']) k
$$;

-- The cells of several publication units of one measure: one index range per unit (the
-- generic plan of a join of the units read the measure's every period).
CREATE OR REPLACE FUNCTION rollup_units_cells(p_district uuid, p_measure text, p_kinds text[], p_froms date[], p_tos date[])
RETURNS TABLE (unit integer, period_kind text, period_start date, school_id uuid, grade text, gender text, category text, students bigint, value bigint, schools integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_kinds), 0) LOOP
    RETURN QUERY SELECT i, c.period_kind, c.period_start, c.school_id, c.grade, c.gender, c.category, c.students, c.value, c.schools
    FROM rollup_cells c WHERE c.district_id = p_district AND c.measure = p_measure
      AND c.period_start >= p_froms[i] AND c.period_start <= p_tos[i] AND c.period_kind = ANY (string_to_array(p_kinds[i], ','))
      AND (c.school_id = '00000000-0000-0000-0000-000000000000' OR (c.grade = '' AND c.gender = ''))
      AND NOT (c.grade <> '' AND c.gender <> '');
  END LOOP;
END $$;

-- Replace the labels of several units of one measure (one index range per unit, as above).
CREATE OR REPLACE FUNCTION rollup_put_published_units(p_district uuid, p_measure text, p_kinds text[], p_froms date[], p_tos date[], p_threshold integer,
  p_period_kinds text[], p_starts date[], p_row_kinds text[], p_row_keys text[], p_categories text[], p_labels text[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_kinds), 0) LOOP
    DELETE FROM rollup_published p WHERE p.district_id = p_district AND p.measure = p_measure
      AND p.period_kind = ANY (string_to_array(p_kinds[i], ',')) AND p.period_start >= p_froms[i] AND p.period_start <= p_tos[i];
  END LOOP;
  INSERT INTO rollup_published (district_id, measure, period_kind, period_start, row_kind, row_key, category, label, threshold)
  SELECT p_district, p_measure, x.k, x.s, x.rk, x.key, x.c, x.l, p_threshold
  FROM unnest(p_period_kinds, p_starts, p_row_kinds, p_row_keys, p_categories, p_labels) AS x (k, s, rk, key, c, l);
END $$;

-- The periods of several schools that were never computed.
CREATE FUNCTION rollup_uncomputed_periods_of(p_schools uuid[]) RETURNS TABLE (school_id uuid, period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, p.period_kind, p.period_start FROM unnest(p_schools) s (id), LATERAL rollup_school_periods(s.id) p
  WHERE NOT EXISTS (SELECT 1 FROM rollup_computed c WHERE c.school_id = s.id AND c.period_kind = p.period_kind AND c.period_start = p.period_start)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['rollup_claim_marks(uuid, integer)', 'rollup_consume_marks(uuid)', 'rollup_compute_set(uuid[], text[], date[])',
    'rollup_refresh_periods(uuid[], text[], date[])', 'rollup_refresh_dirty(uuid[], text[], date[])', 'rollup_refresh_district_periods(uuid, text[], date[])', 'rollup_rebuild_schools(uuid[])',
    'rollup_uncomputed_periods_of(uuid[])'] LOOP
    EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
    IF f <> 'rollup_compute_set(uuid[], text[], date[])' THEN
      EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO xinqiao_app';
    END IF;
  END LOOP;
END $$;
-- +goose StatementEnd
