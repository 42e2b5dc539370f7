-- +goose Up
-- Transactional outbox: a change that needs background work inserts a row here in its
-- own transaction; the relay in `xinqiao worker` hands rows to asynq with TaskID = id.
-- Payloads carry ids and kinds only, never confidential values.
CREATE TABLE outbox (
  id            uuid PRIMARY KEY,
  district_id   uuid,
  school_id     uuid,
  task_type     text NOT NULL CHECK (task_type ~ '^[a-z_]+:[a-z_]+$'),
  payload       jsonb NOT NULL DEFAULT '{}',
  trace_context jsonb NOT NULL DEFAULT '{}', -- W3C trace context of the producing request
  queue         text NOT NULL DEFAULT 'default' CHECK (queue IN ('critical', 'default', 'low')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  available_at  timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text NOT NULL DEFAULT '',
  dispatched_at timestamptz,
  UNIQUE (school_id, id)
);
CREATE INDEX outbox_pending ON outbox (available_at) WHERE dispatched_at IS NULL;

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
-- Producers write within their own scope.
CREATE POLICY outbox_produce ON outbox FOR INSERT
  WITH CHECK (district_id IS NOT DISTINCT FROM app_district_id() AND school_id IS NOT DISTINCT FROM app_school_id());
-- The relay (app.scope = 'relay') reads and updates every pending row: they hold ids only.
CREATE POLICY outbox_relay_read ON outbox FOR SELECT USING (app_scope() = 'relay');
CREATE POLICY outbox_relay_update ON outbox FOR UPDATE USING (app_scope() = 'relay');
GRANT SELECT, INSERT, UPDATE ON outbox TO xinqiao_app;
