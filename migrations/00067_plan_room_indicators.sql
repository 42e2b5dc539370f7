-- +goose Up
-- The counseling room feeds the district plan's compliance (达标情况): "the room is open
-- at least N hours a week" from the published opening hours minus the room's closures,
-- and "at least X % of the public requests answered within 2 school days". District
-- roles do not read the room's tables; these functions give the plan what it computes
-- from — weekly minutes, closure dates, request and answer times, never who asked — for
-- schools of the caller's district (a school actor: its own school only).
CREATE POLICY room_opening_hours_plan_definer ON room_opening_hours FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY room_closures_plan_definer ON room_closures FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION plan_room_schools(p_schools uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id FROM schools s WHERE s.id = ANY (p_schools) AND s.district_id = app_district_id()
    AND (app_scope() = 'district' OR (app_scope() = 'school' AND s.id = app_school_id()))
$$;
CREATE FUNCTION plan_room_opening_hours(p_schools uuid[]) RETURNS TABLE (school_id uuid, weekday smallint, minutes integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT h.school_id, h.weekday, sum(h.closes_min - h.opens_min)::integer FROM room_opening_hours h
  WHERE h.school_id IN (SELECT plan_room_schools(p_schools)) GROUP BY h.school_id, h.weekday
$$;
CREATE FUNCTION plan_room_closures(p_schools uuid[], p_from date, p_to date) RETURNS TABLE (school_id uuid, starts_on date, ends_on date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.school_id, c.starts_on, c.ends_on FROM room_closures c
  WHERE c.school_id IN (SELECT plan_room_schools(p_schools)) AND c.counselor_id IS NULL
    AND c.ends_on >= p_from AND c.starts_on <= p_to
$$;
CREATE FUNCTION plan_room_requests(p_schools uuid[], p_from timestamptz, p_to timestamptz)
  RETURNS TABLE (school_id uuid, created_at timestamptz, answered_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.school_id, a.created_at, a.answered_at FROM appointments a
  WHERE a.school_id IN (SELECT plan_room_schools(p_schools)) AND a.source = 'public_request'
    AND a.created_at >= p_from AND a.created_at < p_to
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION plan_room_schools(uuid[]), plan_room_opening_hours(uuid[]), plan_room_closures(uuid[], date, date),
  plan_room_requests(uuid[], timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plan_room_schools(uuid[]), plan_room_opening_hours(uuid[]), plan_room_closures(uuid[], date, date),
  plan_room_requests(uuid[], timestamptz, timestamptz) TO xinqiao_app;
