-- +goose Up
-- The published (suppressed) rollups, precomputed by the rollup job: one label per
-- district, measure, period, row (the district, a school, a grade, a gender) and
-- category — a number, "<k" or "*" — never a raw count that suppression hides. A unit
-- (one week; one term with its months for flows; one month or term for stocks) is
-- suppressed as a whole and rewritten whenever one of its cells changes, so reads are a
-- plain index scan. District roles read only this table: the raw cells are no longer
-- readable by the application role at all (only the job's definer functions touch them).
CREATE TABLE rollup_published (
  district_id  uuid NOT NULL REFERENCES districts (id),
  measure      text NOT NULL,
  period_kind  text NOT NULL CHECK (period_kind IN ('week', 'month', 'term')),
  period_start date NOT NULL,
  row_kind     text NOT NULL CHECK (row_kind IN ('district', 'school', 'grade', 'gender')),
  row_key      text NOT NULL DEFAULT '',
  category     text NOT NULL, -- '#total' is the row total
  label        text NOT NULL CHECK (label ~ '^([0-9]+|<[0-9]+|\*)$'),
  threshold    integer NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, measure, period_kind, period_start, row_kind, row_key, category)
);
ALTER TABLE rollup_published ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_published FORCE ROW LEVEL SECURITY;
CREATE POLICY rollup_published_district ON rollup_published FOR SELECT
  USING (app_scope() = 'district' AND district_id = app_district_id()
    AND (SELECT app_has_role(ARRAY['district_admin', 'district_supervisor', 'researcher'])));
CREATE POLICY rollup_published_definer ON rollup_published TO CURRENT_USER USING (true);
GRANT SELECT ON rollup_published TO xinqiao_app;

-- Raw cells: nobody but the job's definer functions.
DROP POLICY rollup_cells_district ON rollup_cells;
REVOKE SELECT ON rollup_cells FROM xinqiao_app;
CREATE POLICY rollup_settings_definer ON rollup_settings FOR SELECT TO CURRENT_USER USING (true);

-- +goose StatementBegin
-- The cells of several units of one measure at once; unit is the 1-based position of the
-- unit (kinds as "week", "month", "term" or "month,term"; from and to inclusive).
CREATE FUNCTION rollup_units_cells(p_district uuid, p_measure text, p_kinds text[], p_froms date[], p_tos date[])
RETURNS TABLE (unit integer, period_kind text, period_start date, school_id uuid, grade text, gender text, category text, students bigint, value bigint, schools integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.n::int, c.period_kind, c.period_start, c.school_id, c.grade, c.gender, c.category, c.students, c.value, c.schools
  FROM unnest(p_kinds, p_froms, p_tos) WITH ORDINALITY AS u (k, f, t, n)
  JOIN rollup_cells c ON c.district_id = p_district AND c.measure = p_measure AND c.period_kind = ANY (string_to_array(u.k, ','))
    AND c.period_start >= u.f AND c.period_start <= u.t
  WHERE (c.school_id = '00000000-0000-0000-0000-000000000000' OR (c.grade = '' AND c.gender = ''))
    AND NOT (c.grade <> '' AND c.gender <> '')
$$;

-- Replace the labels of several units of one measure.
CREATE FUNCTION rollup_put_published_units(p_district uuid, p_measure text, p_kinds text[], p_froms date[], p_tos date[], p_threshold integer,
  p_period_kinds text[], p_starts date[], p_row_kinds text[], p_row_keys text[], p_categories text[], p_labels text[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_published p USING unnest(p_kinds, p_froms, p_tos) AS u (k, f, t)
  WHERE p.district_id = p_district AND p.measure = p_measure AND p.period_kind = ANY (string_to_array(u.k, ','))
    AND p.period_start >= u.f AND p.period_start <= u.t;
  INSERT INTO rollup_published (district_id, measure, period_kind, period_start, row_kind, row_key, category, label, threshold)
  SELECT p_district, p_measure, x.k, x.s, x.rk, x.key, x.c, x.l, p_threshold
  FROM unnest(p_period_kinds, p_starts, p_row_kinds, p_row_keys, p_categories, p_labels) AS x (k, s, rk, key, c, l);
$$;

CREATE FUNCTION rollup_threshold(p_district uuid) RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT threshold FROM rollup_settings WHERE district_id = p_district), 5)
$$;

CREATE FUNCTION rollup_clear_published(p_district uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_published WHERE district_id = p_district;
$$;

-- A district admin's threshold change withdraws the district's publication until the job
-- has suppressed it again with the new threshold (never a label made with the old one).
CREATE FUNCTION rollup_withdraw_published(p_district uuid) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  IF app_scope() IS DISTINCT FROM 'district' OR app_district_id() IS DISTINCT FROM p_district OR NOT app_has_role(ARRAY['district_admin']) THEN
    RAISE EXCEPTION 'not a district admin of this district' USING ERRCODE = '42501';
  END IF;
  DELETE FROM rollup_published WHERE district_id = p_district;
END $$;

-- Periods whose publication units must be suppressed again: written by each refresh
-- batch (same transaction as the cells), consumed once at the end of the refresh, so a
-- unit touched by many batches is suppressed once.
CREATE TABLE rollup_publish_dirty (
  district_id  uuid NOT NULL,
  period_kind  text NOT NULL,
  period_start date NOT NULL,
  PRIMARY KEY (district_id, period_kind, period_start)
);
ALTER TABLE rollup_publish_dirty ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_publish_dirty FORCE ROW LEVEL SECURITY;
CREATE POLICY rollup_publish_dirty_definer ON rollup_publish_dirty TO CURRENT_USER USING (true);

CREATE FUNCTION rollup_publish_mark(p_district uuid, p_kinds text[], p_starts date[]) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  INSERT INTO rollup_publish_dirty (district_id, period_kind, period_start)
  SELECT DISTINCT p_district, x.k, x.s FROM unnest(p_kinds, p_starts) AS x (k, s) ON CONFLICT DO NOTHING;
$$;

-- Claim every pending period (the caller holds the rollup lock; its transaction publishes them).
CREATE FUNCTION rollup_publish_claim(p_district uuid) RETURNS TABLE (district_id uuid, period_kind text, period_start date)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_publish_dirty d WHERE p_district IS NULL OR d.district_id = p_district
  RETURNING d.district_id, d.period_kind, d.period_start
$$;

-- The periods (of every kind) that hold cells of a district.
CREATE FUNCTION rollup_district_periods(p_district uuid) RETURNS TABLE (period_kind text, period_start date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT c.period_kind, c.period_start FROM rollup_cells c WHERE c.district_id = p_district
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['rollup_units_cells(uuid, text, text[], date[], date[])', 'rollup_threshold(uuid)',
    'rollup_put_published_units(uuid, text, text[], date[], date[], integer, text[], date[], text[], text[], text[], text[])',
    'rollup_clear_published(uuid)', 'rollup_withdraw_published(uuid)', 'rollup_district_periods(uuid)',
    'rollup_publish_mark(uuid, text[], date[])', 'rollup_publish_claim(uuid)'] LOOP
    EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
    EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO xinqiao_app';
  END LOOP;
END $$;
-- +goose StatementEnd
