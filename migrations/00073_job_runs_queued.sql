-- +goose Up
-- Queued jobs for the admins' job status page: outbox rows of the district (or of the
-- system) whose task has not started yet (no job_runs row with the outbox id, which is
-- the asynq task id). Only ids, types and times: never a payload.
-- +goose StatementBegin
CREATE FUNCTION job_runs_queued(p_district uuid) RETURNS TABLE (id text, task_type text, district_id uuid, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.id::text, o.task_type, o.district_id, o.created_at FROM outbox o
  WHERE app_scope() = 'district' AND p_district = app_district_id() AND app_has_role(ARRAY['district_admin'])
    AND (o.district_id IS NULL OR o.district_id = p_district) AND o.created_at > now() - interval '7 days'
    AND NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.id = o.id::text)
  ORDER BY o.created_at DESC LIMIT 200
$$;
-- +goose StatementEnd
CREATE POLICY outbox_job_runs_definer ON outbox FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY job_runs_queued_definer ON job_runs FOR SELECT TO CURRENT_USER USING (true);
REVOKE ALL ON FUNCTION job_runs_queued(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION job_runs_queued(uuid) TO xinqiao_app;
