-- +goose Up
-- The resource library (心理健康图书资料): the district's psychoeducation materials —
-- documents (bytes in the district's MinIO bucket), links and book records — that every school of the district can
-- search by topic and audience and add to; the copies of a book each school holds; and
-- the loans of those copies to students or staff with a due date. A copy is lent to one
-- borrower at a time: a unique index over open loans refuses a second one.
CREATE TABLE library_items (
  district_id     uuid NOT NULL REFERENCES districts (id),
  id              uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('document', 'link', 'book')),
  title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  author          text NOT NULL DEFAULT '' CHECK (length(author) <= 100),
  summary         text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
  topics          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(topics) <= 10),
  audiences       text[] NOT NULL CHECK (cardinality(audiences) BETWEEN 1 AND 4
                    AND audiences <@ ARRAY['student', 'guardian', 'teacher', 'counselor']),
  url             text CHECK (url ~ '^https?://' AND length(url) <= 1000),
  isbn            text CHECK (isbn ~ '^[0-9X-]{10,17}$'),
  publisher       text NOT NULL DEFAULT '' CHECK (length(publisher) <= 100),
  filename        text CHECK (length(filename) BETWEEN 1 AND 200),
  content_type    text,
  size_bytes      bigint CHECK (size_bytes > 0),
  sha256          bytea CHECK (length(sha256) = 32),
  object_key      text UNIQUE,
  owner_school_id uuid, -- the school that added it; NULL: the district's own
  created_by      uuid NOT NULL REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, id),
  FOREIGN KEY (district_id, owner_school_id) REFERENCES schools (district_id, id),
  CHECK ((kind = 'link') = (url IS NOT NULL)),
  CHECK (kind = 'book' OR isbn IS NULL),
  CHECK ((kind = 'document') = (object_key IS NOT NULL AND filename IS NOT NULL AND content_type IS NOT NULL
    AND size_bytes IS NOT NULL AND sha256 IS NOT NULL))
);
CREATE INDEX library_items_topics ON library_items USING gin (topics);
CREATE INDEX library_items_title ON library_items (district_id, title);
ALTER TABLE library_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE library_items FORCE ROW LEVEL SECURITY;
-- Every school of the district and the district itself read the whole library.
CREATE POLICY library_items_read ON library_items FOR SELECT
  USING (district_id = app_district_id() AND app_scope() IN ('district', 'school'));
-- District administrators add the district's materials; counselors add their school's.
CREATE POLICY library_items_district_add ON library_items FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND owner_school_id IS NULL
    AND created_by = app_user_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY library_items_school_add ON library_items FOR INSERT
  WITH CHECK (app_scope() = 'school' AND district_id = app_district_id() AND owner_school_id = app_school_id()
    AND created_by = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT ON library_items TO xinqiao_app;

CREATE TABLE library_copies (
  school_id   uuid NOT NULL REFERENCES schools (id),
  id          uuid NOT NULL,
  district_id uuid NOT NULL,
  item_id     uuid NOT NULL,
  label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 50), -- shelf mark or barcode
  added_by    uuid NOT NULL REFERENCES users (id),
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  UNIQUE (school_id, label),
  FOREIGN KEY (district_id, item_id) REFERENCES library_items (district_id, id),
  FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, id)
);
CREATE INDEX library_copies_item ON library_copies (district_id, item_id);
ALTER TABLE library_copies ENABLE ROW LEVEL SECURITY;
ALTER TABLE library_copies FORCE ROW LEVEL SECURITY;
CREATE POLICY library_copies_read ON library_copies FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id());
CREATE POLICY library_copies_add ON library_copies FOR INSERT
  WITH CHECK (app_scope() = 'school' AND school_id = app_school_id() AND district_id = app_district_id()
    AND added_by = app_user_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT ON library_copies TO xinqiao_app;

-- Loans name who borrowed: counselors only.
CREATE TABLE library_loans (
  school_id     uuid NOT NULL,
  id            uuid NOT NULL,
  copy_id       uuid NOT NULL,
  student_id    uuid,
  staff_user_id uuid REFERENCES users (id),
  lent_by       uuid NOT NULL REFERENCES users (id),
  lent_at       timestamptz NOT NULL DEFAULT now(),
  due_on        date NOT NULL,
  returned_at   timestamptz,
  returned_to   uuid REFERENCES users (id),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, copy_id) REFERENCES library_copies (school_id, id),
  FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
  CHECK ((student_id IS NULL) <> (staff_user_id IS NULL)),
  CHECK ((returned_at IS NULL) = (returned_to IS NULL))
);
-- A copy already lent cannot be lent again until it is returned.
CREATE UNIQUE INDEX library_loans_one_open ON library_loans (school_id, copy_id) WHERE returned_at IS NULL;
CREATE INDEX library_loans_due ON library_loans (school_id, due_on) WHERE returned_at IS NULL;
ALTER TABLE library_loans ENABLE ROW LEVEL SECURITY;
ALTER TABLE library_loans FORCE ROW LEVEL SECURITY;
CREATE POLICY library_loans_counselors ON library_loans
  USING (app_scope() = 'school' AND school_id = app_school_id() AND (SELECT app_has_role(ARRAY['counselor'])));
GRANT SELECT, INSERT, UPDATE ON library_loans TO xinqiao_app;
-- Whether a copy is out (not who has it): anyone who may read the library of the school.
-- +goose StatementBegin
CREATE FUNCTION library_copies_out(p_school uuid) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT copy_id FROM library_loans
  WHERE school_id = p_school AND p_school = app_school_id() AND app_scope() = 'school' AND returned_at IS NULL
$$;
-- +goose StatementEnd
CREATE POLICY library_loans_definer ON library_loans FOR SELECT TO CURRENT_USER USING (true);
REVOKE ALL ON FUNCTION library_copies_out(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION library_copies_out(uuid) TO xinqiao_app;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'library', 'read'),
  ('p', 'district_admin', 'district:*', 'library', 'write'),
  ('p', 'counselor', 'school:*', 'library', 'read'),
  ('p', 'counselor', 'school:*', 'library', 'write'),
  ('p', 'school_leader', 'school:*', 'library', 'read'),
  ('p', 'homeroom_teacher', 'school:*', 'library', 'read'),
  ('p', 'counselor', 'school:*', 'library_loans', 'read'),
  ('p', 'counselor', 'school:*', 'library_loans', 'write');
