-- +goose Up
-- Risk tiers (预警分级): the current tier on the case file and every change with who,
-- when and why (the reason is encrypted). School leaders read the warning list — tiers
-- and dates, never notes — through the case_files policy below; sessions stay counselor-only.
ALTER TABLE case_files ADD COLUMN risk_tier text NOT NULL DEFAULT 'none'
  CHECK (risk_tier IN ('none', 'watch', 'elevated', 'high', 'crisis'));
ALTER TABLE case_files ADD COLUMN last_contact_at timestamptz;
CREATE INDEX case_files_warning ON case_files (school_id, risk_tier, last_contact_at);

CREATE TABLE risk_tier_changes (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  case_file_id uuid NOT NULL,
  from_tier    text NOT NULL,
  to_tier      text NOT NULL CHECK (to_tier IN ('none', 'watch', 'elevated', 'high', 'crisis')),
  reason       bytea NOT NULL,
  changed_by   uuid NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id)
);
ALTER TABLE risk_tier_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_tier_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_tier_changes_counselors ON risk_tier_changes
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT ON risk_tier_changes TO xinqiao_app;

-- School leaders may read case files (status, tier, dates) for the warning list.
CREATE POLICY case_files_leaders_read ON case_files FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['school_leader'])));

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'warning_list', 'read'),
  ('p', 'school_leader', 'school:*', 'warning_list', 'read');
CREATE INDEX case_files_student ON case_files (school_id, student_id);
CREATE INDEX case_file_counselors_user ON case_file_counselors (school_id, user_id, case_file_id);
CREATE INDEX students_number_pattern ON students (school_id, student_number text_pattern_ops);
