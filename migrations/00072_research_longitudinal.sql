-- +goose Up
-- Longitudinal research exports (纵向研究): a district admin may approve a request as
-- longitudinal. Its pseudonymous ids then come from the district's persistent research
-- key (sealed with the master key like the school data keys), so the ids of the same
-- student match across the years and exports approved that way. Every other export keeps
-- a key made for it alone and destroyed after the run: those can never be linked.
ALTER TABLE research_requests ADD COLUMN longitudinal boolean NOT NULL DEFAULT false;
GRANT UPDATE (longitudinal) ON research_requests TO xinqiao_app;

CREATE TABLE research_keys (
  district_id   uuid PRIMARY KEY REFERENCES districts (id),
  master_key_id text NOT NULL,
  sealed        bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE research_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE research_keys FORCE ROW LEVEL SECURITY;
-- Only the export job (app.scope = 'jobs') and the key maintenance commands ('keys') see it.
CREATE POLICY research_keys_job ON research_keys
  USING (app_scope() IN ('jobs', 'keys')) WITH CHECK (app_scope() = 'jobs');
GRANT SELECT, INSERT ON research_keys TO xinqiao_app;
