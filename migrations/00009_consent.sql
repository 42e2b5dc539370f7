-- +goose Up
-- Consent (知情同意) and disclosure (信息披露) on the case file.
--
-- consents: a guardian's or student's recorded permission, for one scope (screening,
-- referral, sharing with a named recipient) and a period of dates. A consent is never
-- changed: its revocation is a row of its own in consent_revocations (at most one).
-- disclosures: every time something from a case file left the counselor — to whom, on
-- which legal basis (a consent of this case file, imminent danger, a legal obligation),
-- exactly which items, and when. refused_inquiries: outside requests for the file (外调)
-- that were refused. All four are append-only: the app role may SELECT and INSERT and
-- nothing else; corrections are new entries. Free text (the guardian's name and
-- relation, reasons, justifications, what was asked) is encrypted with the school's
-- data key. Only the school's counselors reach any of it (row-level security).
CREATE TABLE consents (
  school_id      uuid NOT NULL,
  id             uuid NOT NULL,
  case_file_id   uuid NOT NULL,
  given_by       text NOT NULL CHECK (given_by IN ('guardian', 'student')),
  guardian       bytea,
  scope          text NOT NULL CHECK (scope IN ('screening', 'referral', 'sharing')),
  recipient_name text NOT NULL DEFAULT '' CHECK (length(recipient_name) <= 200),
  valid_from     date NOT NULL,
  valid_until    date,
  recorded_by    uuid NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, case_file_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK (valid_until IS NULL OR valid_until >= valid_from),
  CHECK ((given_by = 'guardian') = (guardian IS NOT NULL)),
  CHECK (scope <> 'sharing' OR recipient_name <> ''),
  CHECK (scope <> 'screening' OR recipient_name = '')
);
CREATE INDEX consents_file ON consents (school_id, case_file_id, scope);

CREATE TABLE consent_revocations (
  school_id  uuid NOT NULL,
  consent_id uuid NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  revoked_by uuid NOT NULL,
  reason     bytea NOT NULL,
  PRIMARY KEY (school_id, consent_id),
  FOREIGN KEY (school_id, consent_id) REFERENCES consents (school_id, id)
);

CREATE TABLE disclosures (
  school_id      uuid NOT NULL,
  id             uuid NOT NULL,
  case_file_id   uuid NOT NULL,
  recipient_kind text NOT NULL CHECK (recipient_kind IN ('guardian', 'school_leader', 'hospital', 'teacher', 'other')),
  recipient_name text NOT NULL CHECK (length(recipient_name) BETWEEN 1 AND 200),
  legal_basis    text NOT NULL CHECK (legal_basis IN ('consent', 'imminent_danger', 'legal_obligation')),
  consent_id     uuid,
  justification  bytea,
  items          jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) BETWEEN 1 AND 100),
  disclosed_at   timestamptz NOT NULL,
  recorded_by    uuid NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  -- A consent cited as the legal basis belongs to the same case file.
  FOREIGN KEY (school_id, case_file_id, consent_id) REFERENCES consents (school_id, case_file_id, id),
  CHECK ((legal_basis = 'consent') = (consent_id IS NOT NULL)),
  CHECK (legal_basis = 'consent' OR justification IS NOT NULL)
);
CREATE INDEX disclosures_file ON disclosures (school_id, case_file_id, disclosed_at);

CREATE TABLE refused_inquiries (
  school_id      uuid NOT NULL,
  id             uuid NOT NULL,
  case_file_id   uuid NOT NULL,
  requester_kind text NOT NULL CHECK (requester_kind IN ('police', 'other_school', 'media', 'employer', 'other')),
  requester      text NOT NULL CHECK (length(requester) BETWEEN 1 AND 200),
  organisation   text NOT NULL DEFAULT '' CHECK (length(organisation) <= 200),
  asked          bytea NOT NULL,
  refusal_reason bytea NOT NULL,
  inquired_at    timestamptz NOT NULL,
  recorded_by    uuid NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id)
);
CREATE INDEX refused_inquiries_file ON refused_inquiries (school_id, case_file_id, inquired_at);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['consents', 'consent_revocations', 'disclosures', 'refused_inquiries'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I USING (app_scope() = 'school' AND school_id = app_school_id()
      AND (SELECT app_has_role(ARRAY['counselor'])))$p$, t || '_counselors', t);
  END LOOP;
END $$;
-- +goose StatementEnd
-- Append-only: no UPDATE, no DELETE.
GRANT SELECT, INSERT ON consents, consent_revocations, disclosures, refused_inquiries TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'consents', 'read'),
  ('p', 'counselor', 'school:*', 'consents', 'write'),
  ('p', 'counselor', 'school:*', 'disclosures', 'read'),
  ('p', 'counselor', 'school:*', 'disclosures', 'write');
