-- +goose Up
-- School leaders read the district's concern categories: the emergency-access view of a
-- case file names the categories of its sessions. The taxonomy itself is not confidential.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'school_leader', 'school:*', 'concern_categories', 'read');
