-- +goose Up
-- The relay re-sends the unfinished jobs of the last day when Redis comes back without
-- its data (see internal/jobs/relay.go). It reads which runs finished (ids, type and
-- status only, nothing confidential) and finds recently dispatched rows by an index.
CREATE POLICY job_runs_relay_read ON job_runs FOR SELECT USING (app_scope() = 'relay');
CREATE INDEX outbox_dispatched ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_dispatched;
DROP POLICY job_runs_relay_read ON job_runs;
