-- +goose Up
-- The grantee may end their emergency access before it expires. Only their own, still
-- active grant, and only its end time: a narrow function rather than an UPDATE right.
-- +goose StatementBegin
CREATE FUNCTION emergency_grant_end(p_school uuid, p_grant uuid) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH e AS (
    UPDATE emergency_grants SET ended_at = now()
    WHERE school_id = p_school AND id = p_grant AND grantee_id = app_user_id()
      AND ended_at IS NULL AND expires_at > now()
      AND CASE app_scope()
            WHEN 'school' THEN p_school = app_school_id()
            WHEN 'district' THEN EXISTS (SELECT 1 FROM schools s WHERE s.id = p_school AND s.district_id = app_district_id())
            ELSE false END
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM e)
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION emergency_grant_end(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION emergency_grant_end(uuid, uuid) TO xinqiao_app;
