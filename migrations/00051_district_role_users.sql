-- +goose Up
-- The users holding a district role (e.g. every district supervisor) of the caller's own
-- district, for addressing district inbox items from a school or district scope — a
-- crisis escalated by a job acting for a school. Ids only; disabled accounts are left out.
-- +goose StatementBegin
CREATE FUNCTION district_role_users(p_district uuid, p_role text) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE m.scope_type = 'district' AND m.district_id = p_district AND m.role = p_role AND NOT u.disabled
    AND p_district = app_district_id() AND app_scope() IN ('school', 'district')
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION district_role_users(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_role_users(uuid, text) TO xinqiao_app;
