-- +goose Up
-- Case-file documents (资料): consent forms, letters, drawings, reports. The bytes live in
-- the object store (one bucket per district, key <school>/<case file>/<uuid>, server-side
-- encryption); this table holds what they are. Title and file name are free text and are
-- stored encrypted with the school's data key. Same reach as case files: the school's
-- counselors only. Rows are never changed or deleted by the application.
-- A document may be linked to a session of the same case file (e.g. the scan of the
-- letter that led to it): the composite key below enforces "same case file".
ALTER TABLE counseling_sessions ADD CONSTRAINT counseling_sessions_case_file_id UNIQUE (school_id, case_file_id, id);

CREATE TABLE documents (
  school_id    uuid NOT NULL,
  id           uuid NOT NULL,
  case_file_id uuid NOT NULL,
  session_id   uuid,
  kind         text NOT NULL CHECK (kind IN ('consent_form', 'letter', 'drawing', 'report', 'other')),
  title        bytea NOT NULL,
  filename     bytea NOT NULL,
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/webp',
                 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'audio/mp4', 'audio/mpeg')),
  size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
  sha256       bytea NOT NULL CHECK (length(sha256) = 32),
  object_key   text NOT NULL UNIQUE CHECK (object_key = school_id::text || '/' || case_file_id::text || '/' || id::text),
  uploaded_by  uuid NOT NULL REFERENCES users (id),
  uploaded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  FOREIGN KEY (school_id, case_file_id, session_id) REFERENCES counseling_sessions (school_id, case_file_id, id)
);
CREATE INDEX documents_case_file ON documents (school_id, case_file_id, uploaded_at);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_counselors ON documents
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT ON documents TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'counselor', 'school:*', 'documents', 'read'),
  ('p', 'counselor', 'school:*', 'documents', 'write');

-- The orphan reconciliation job runs without a user. It asks these functions which of the
-- district buckets it found belong to this database, and which of the object keys it
-- found there are document keys of this database's schools without a row — and learns
-- nothing else. Keys of other deployments sharing the object store are never orphans.
CREATE POLICY documents_definer ON documents FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION document_known_districts(p_ids uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT id FROM districts WHERE id = ANY (p_ids)
$$;
CREATE FUNCTION document_keys_unreferenced(p_district uuid, p_keys text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k FROM unnest(p_keys) AS k
  WHERE EXISTS (SELECT 1 FROM schools s WHERE s.district_id = p_district AND s.id::text = split_part(k, '/', 1))
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.object_key = k)
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION document_known_districts(uuid[]), document_keys_unreferenced(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION document_known_districts(uuid[]), document_keys_unreferenced(uuid, text[]) TO xinqiao_app;
