-- +goose Up
-- `xinqiao keys rotate` (app.scope = 'keys') seals again what is sealed directly under a
-- master key besides the school data keys: the users' TOTP secrets and the districts'
-- longitudinal research keys. It reads and rewrites them; nothing else runs in that scope.
CREATE POLICY user_mfa_keys_rotate ON user_mfa
  USING (app_scope() = 'keys') WITH CHECK (app_scope() = 'keys');
CREATE POLICY research_keys_rotate ON research_keys FOR UPDATE
  USING (app_scope() = 'keys') WITH CHECK (app_scope() = 'keys');
GRANT UPDATE (master_key_id, sealed) ON research_keys TO xinqiao_app;

-- +goose Down
REVOKE UPDATE (master_key_id, sealed) ON research_keys FROM xinqiao_app;
DROP POLICY research_keys_rotate ON research_keys;
DROP POLICY user_mfa_keys_rotate ON user_mfa;
