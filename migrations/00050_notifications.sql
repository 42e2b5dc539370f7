-- +goose Up
-- Notifications (通知): the district-level inbox of district staff, each user's own
-- e-mail preference, and the e-mail deliveries of inbox items.
--
-- The district inbox mirrors inbox_items for users who act in a district scope (区管理员,
-- 督导, 研究人员): kinds, ids and short parameters, never free text from a case file. A
-- user reads and closes only their own items; actors of the district or of one of its
-- schools (e.g. a crisis escalation job acting for a school) may address an item to a
-- district user.
CREATE TABLE district_inbox_items (
  district_id  uuid NOT NULL REFERENCES districts (id),
  id           uuid NOT NULL,
  user_id      uuid NOT NULL REFERENCES users (id),
  kind         text NOT NULL CHECK (kind ~ '^[a-z_]{2,64}$'),
  is_task      boolean NOT NULL DEFAULT false,
  subject_type text NOT NULL DEFAULT '' CHECK (length(subject_type) <= 64),
  subject_id   uuid,
  params       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object' AND length(params::text) <= 2000),
  dedupe_key   text CHECK (length(dedupe_key) <= 200),
  due_at       timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  read_at      timestamptz,
  done_at      timestamptz,
  PRIMARY KEY (district_id, id),
  UNIQUE (district_id, user_id, dedupe_key)
);
CREATE INDEX district_inbox_items_user ON district_inbox_items (district_id, user_id, done_at, created_at DESC);
ALTER TABLE district_inbox_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE district_inbox_items FORCE ROW LEVEL SECURITY;
CREATE POLICY district_inbox_items_own ON district_inbox_items
  USING (app_scope() = 'district' AND district_id = app_district_id() AND user_id = app_user_id());
CREATE POLICY district_inbox_items_post ON district_inbox_items FOR INSERT
  WITH CHECK (app_scope() IN ('district', 'school') AND district_id = app_district_id());
GRANT SELECT, INSERT, UPDATE ON district_inbox_items TO xinqiao_app;

-- Each user's own notification settings: an optional e-mail address and whether inbox
-- items are announced there. Only the user reads and writes them; the mailer job (scope
-- 'mailer' of one district) reads them to address a message.
CREATE TABLE notification_settings (
  district_id   uuid NOT NULL REFERENCES districts (id),
  user_id       uuid NOT NULL REFERENCES users (id),
  email         text CHECK (email IS NULL OR (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$')),
  email_enabled boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, user_id),
  CHECK (NOT email_enabled OR email IS NOT NULL)
);
ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_settings_own ON notification_settings
  USING (district_id = app_district_id() AND user_id = app_user_id())
  WITH CHECK (district_id = app_district_id() AND user_id = app_user_id());
CREATE POLICY notification_settings_mailer ON notification_settings FOR SELECT
  USING (app_scope() = 'mailer' AND district_id = app_district_id());
GRANT SELECT, INSERT, UPDATE ON notification_settings TO xinqiao_app;
-- The mailer also checks that the addressee's account is still enabled.
CREATE POLICY users_mailer_read ON users FOR SELECT
  USING (app_scope() = 'mailer' AND district_id = app_district_id());

-- One row per inbox item announced by e-mail (school or district item): the job's
-- record that makes sending exactly-once under retries. status: sending (claimed with a
-- lease), sent, skipped (e-mail off for the user or the deployment, or the account is
-- disabled), failed (the SMTP send failed; asynq retries). message_id is derived from
-- the item id.
CREATE TABLE email_deliveries (
  district_id uuid NOT NULL REFERENCES districts (id),
  item_id     uuid NOT NULL,
  school_id   uuid REFERENCES schools (id), -- NULL for a district inbox item
  user_id     uuid NOT NULL REFERENCES users (id),
  message_id  text NOT NULL CHECK (length(message_id) <= 200),
  status      text NOT NULL CHECK (status IN ('sending', 'sent', 'skipped', 'failed')),
  skip_reason text NOT NULL DEFAULT '' CHECK (skip_reason IN ('', 'email_off', 'smtp_off', 'user_disabled')),
  attempts    integer NOT NULL DEFAULT 0,
  lease_until timestamptz,
  last_error  text NOT NULL DEFAULT '' CHECK (length(last_error) <= 500),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  PRIMARY KEY (district_id, item_id)
);
ALTER TABLE email_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY email_deliveries_mailer ON email_deliveries
  USING (app_scope() = 'mailer' AND district_id = app_district_id())
  WITH CHECK (app_scope() = 'mailer' AND district_id = app_district_id());
GRANT SELECT, INSERT, UPDATE ON email_deliveries TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'inbox', 'read'),
  ('p', 'district_admin', 'district:*', 'inbox', 'write'),
  ('p', 'district_supervisor', 'district:*', 'inbox', 'read'),
  ('p', 'district_supervisor', 'district:*', 'inbox', 'write'),
  ('p', 'researcher', 'district:*', 'inbox', 'read'),
  ('p', 'researcher', 'district:*', 'inbox', 'write');
