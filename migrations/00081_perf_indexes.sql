-- +goose Up
-- Performance (issue 10, docs/BENCHMARKS.md): indexes the synthetic district's profiles
-- showed missing. The rollup computes one school and period at a time, so each of its
-- range scans needs (school, time); the tier measure looks up each case file's last
-- change before a period's end; the research export counts a student's sessions by year.
CREATE INDEX counseling_sessions_occurred ON counseling_sessions (school_id, occurred_at);
CREATE INDEX assessments_taken ON assessments (school_id, taken_at);
CREATE INDEX risk_tier_changes_file ON risk_tier_changes (school_id, case_file_id, changed_at DESC, id DESC);
CREATE INDEX referrals_sent ON referrals (school_id, sent_at);
CREATE INDEX crises_opened ON crises (school_id, opened_at);
-- The export's per-student counts scanned every crisis and referral of the school per row.
CREATE INDEX crises_student ON crises (school_id, student_id);
CREATE INDEX referrals_student ON referrals (school_id, student_id);

-- +goose Down
DROP INDEX referrals_student;
DROP INDEX crises_student;
DROP INDEX crises_opened;
DROP INDEX referrals_sent;
DROP INDEX risk_tier_changes_file;
DROP INDEX assessments_taken;
DROP INDEX counseling_sessions_occurred;
