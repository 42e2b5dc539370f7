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
-- The cells of one publication unit: every school cell, and the district's all-schools
-- cells by grade, by gender and in total.
CREATE FUNCTION rollup_unit_cells(p_district uuid, p_measure text, p_kinds text[], p_from date, p_to date)
RETURNS TABLE (period_kind text, period_start date, school_id uuid, grade text, gender text, category text, students bigint, value bigint, schools integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.period_kind, c.period_start, c.school_id, c.grade, c.gender, c.category, c.students, c.value, c.schools
  FROM rollup_cells c
  WHERE c.district_id = p_district AND c.measure = p_measure AND c.period_kind = ANY (p_kinds)
    AND c.period_start >= p_from AND c.period_start <= p_to
    AND (c.school_id = '00000000-0000-0000-0000-000000000000' OR (c.grade = '' AND c.gender = ''))
    AND NOT (c.grade <> '' AND c.gender <> '')
$$;

CREATE FUNCTION rollup_threshold(p_district uuid) RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT threshold FROM rollup_settings WHERE district_id = p_district), 5)
$$;

-- Replace one unit's labels.
CREATE FUNCTION rollup_put_published(p_district uuid, p_measure text, p_kinds text[], p_from date, p_to date, p_threshold integer,
  p_period_kinds text[], p_starts date[], p_row_kinds text[], p_row_keys text[], p_categories text[], p_labels text[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM rollup_published WHERE district_id = p_district AND measure = p_measure AND period_kind = ANY (p_kinds)
    AND period_start >= p_from AND period_start <= p_to;
  INSERT INTO rollup_published (district_id, measure, period_kind, period_start, row_kind, row_key, category, label, threshold)
  SELECT p_district, p_measure, x.k, x.s, x.rk, x.key, x.c, x.l, p_threshold
  FROM unnest(p_period_kinds, p_starts, p_row_kinds, p_row_keys, p_categories, p_labels) AS x (k, s, rk, key, c, l);
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
  FOREACH f IN ARRAY ARRAY['rollup_unit_cells(uuid, text, text[], date, date)', 'rollup_threshold(uuid)',
    'rollup_put_published(uuid, text, text[], date, date, integer, text[], date[], text[], text[], text[], text[])',
    'rollup_clear_published(uuid)', 'rollup_withdraw_published(uuid)', 'rollup_district_periods(uuid)'] LOOP
    EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
    EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO xinqiao_app';
  END LOOP;
END $$;
-- +goose StatementEnd
