-- +goose Up
-- Each case file's content is sealed under a key of its own, wrapped by the school's data
-- key. The key row is visible exactly when its case file is (the policy asks the
-- case_files policies), and it goes with the case file: destroying a file after its
-- retention period destroys its key (crypto-shred), so any copy of its ciphertext left
-- anywhere can no longer be read.
CREATE TABLE case_file_keys (
  school_id          uuid NOT NULL,
  case_file_id       uuid NOT NULL,
  school_key_version integer NOT NULL,
  wrapped            bytea NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, case_file_id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id) ON DELETE CASCADE
);
ALTER TABLE case_file_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_file_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY case_file_keys_with_file ON case_file_keys TO xinqiao_app
  USING (EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = case_file_keys.school_id AND c.id = case_file_keys.case_file_id));
CREATE POLICY case_file_keys_retention ON case_file_keys FOR DELETE TO CURRENT_USER USING (true);
CREATE POLICY case_file_keys_retention_read ON case_file_keys FOR SELECT TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON case_file_keys TO xinqiao_app;
