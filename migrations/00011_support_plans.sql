-- +goose Up
-- Support plans (一生一策) on the case file, and the district-managed concern taxonomy
-- (关注类别) that session categories are checked against.

-- Concern categories: one taxonomy per district, managed by its administrators and read
-- by the counselors of its schools. Codes never change and rows are never deleted (a
-- category is deactivated instead), so the codes stored on sessions always resolve.
CREATE TABLE concern_categories (
  district_id uuid NOT NULL REFERENCES districts (id),
  code        text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
  name_zh     text NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 40),
  name_en     text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 60),
  position    integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, code)
);
ALTER TABLE concern_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE concern_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY concern_categories_read ON concern_categories FOR SELECT
  USING (district_id = app_district_id() AND app_scope() IN ('district', 'school'));
CREATE POLICY concern_categories_admin_insert ON concern_categories FOR INSERT
  WITH CHECK (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
CREATE POLICY concern_categories_admin_update ON concern_categories FOR UPDATE
  USING (app_scope() = 'district' AND district_id = app_district_id() AND (SELECT app_has_role(ARRAY['district_admin'])));
-- The seeding function below runs as the owner.
CREATE POLICY concern_categories_definer ON concern_categories TO CURRENT_USER USING (true);
GRANT SELECT, INSERT ON concern_categories TO xinqiao_app;
-- Codes are immutable: only these columns may change.
GRANT UPDATE (name_zh, name_en, position, active, updated_at) ON concern_categories TO xinqiao_app;

-- The starting taxonomy (the former fixed list), for existing and new districts.
-- +goose StatementBegin
CREATE FUNCTION seed_concern_categories(p_district uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  INSERT INTO concern_categories (district_id, code, name_zh, name_en, position)
  SELECT p_district, c.code, c.name_zh, c.name_en, c.position FROM (VALUES
    ('learning', '学习', 'Learning', 10),
    ('interpersonal', '人际', 'Interpersonal', 20),
    ('emotion', '情绪', 'Emotion', 30),
    ('family', '家庭', 'Family', 40),
    ('adolescence', '青春期', 'Adolescence', 50),
    ('career', '生涯', 'Career', 60),
    ('self_harm_risk', '自伤风险', 'Self-harm risk', 70),
    ('other', '其他', 'Other', 80)) AS c (code, name_zh, name_en, position)
  ON CONFLICT (district_id, code) DO NOTHING
$$;

CREATE FUNCTION districts_seed_concern_categories() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM seed_concern_categories(NEW.id);
  RETURN NEW;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION seed_concern_categories(uuid), districts_seed_concern_categories() FROM PUBLIC;
CREATE TRIGGER districts_seed_concern_categories AFTER INSERT ON districts
  FOR EACH ROW EXECUTE FUNCTION districts_seed_concern_categories();
SELECT seed_concern_categories(id) FROM districts;

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES
  ('p', 'district_admin', 'district:*', 'concern_categories', 'read'),
  ('p', 'district_admin', 'district:*', 'concern_categories', 'write'),
  ('p', 'counselor', 'school:*', 'concern_categories', 'read');

-- Support plans (一生一策): goals and actions (items), who is responsible, when the next
-- review is due, and every review recorded. Free text (items, review outcomes) is
-- encrypted with the school's data key. Items are replaced, never rewritten: an edit
-- marks the old items removed and adds new ones. Reviews are never changed.
CREATE TABLE support_plans (
  school_id           uuid NOT NULL,
  id                  uuid NOT NULL,
  case_file_id        uuid NOT NULL,
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'discontinued')),
  responsible_user_id uuid REFERENCES users (id),
  responsible_role    text CHECK (length(responsible_role) BETWEEN 1 AND 40),
  review_date         date NOT NULL,
  created_by          uuid NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  closed_at           timestamptz,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, case_file_id) REFERENCES case_files (school_id, id),
  CHECK (responsible_user_id IS NOT NULL OR responsible_role IS NOT NULL),
  CHECK ((status = 'active') = (closed_at IS NULL))
);
CREATE INDEX support_plans_case_file ON support_plans (school_id, case_file_id, created_at);
CREATE INDEX support_plans_due ON support_plans (review_date) WHERE status = 'active';

CREATE TABLE support_plan_items (
  school_id  uuid NOT NULL,
  id         uuid NOT NULL,
  plan_id    uuid NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('goal', 'action')),
  position   integer NOT NULL,
  body       bytea NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  removed_by uuid,
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, plan_id) REFERENCES support_plans (school_id, id)
);
CREATE INDEX support_plan_items_plan ON support_plan_items (school_id, plan_id) WHERE removed_at IS NULL;

CREATE TABLE support_plan_reviews (
  school_id        uuid NOT NULL,
  id               uuid NOT NULL,
  plan_id          uuid NOT NULL,
  reviewed_on      date NOT NULL,
  due_date         date NOT NULL, -- the review date the plan had when this review was recorded
  outcome          bytea NOT NULL,
  next_review_date date,
  status_after     text NOT NULL CHECK (status_after IN ('active', 'completed', 'discontinued')),
  created_by       uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (school_id, id),
  FOREIGN KEY (school_id, plan_id) REFERENCES support_plans (school_id, id),
  CHECK ((status_after = 'active') = (next_review_date IS NOT NULL))
);
CREATE INDEX support_plan_reviews_plan ON support_plan_reviews (school_id, plan_id, created_at);

-- An item's text never changes; it can only be marked removed, once.
-- +goose StatementBegin
CREATE FUNCTION support_plan_items_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.body IS DISTINCT FROM OLD.body OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
      OR NEW.position IS DISTINCT FROM OLD.position OR OLD.removed_at IS NOT NULL THEN
    RAISE EXCEPTION 'support plan items are replaced, never rewritten' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER support_plan_items_lock BEFORE UPDATE ON support_plan_items FOR EACH ROW EXECUTE FUNCTION support_plan_items_lock();

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['support_plans', 'support_plan_items', 'support_plan_reviews'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I USING (app_scope() = 'school' AND school_id = app_school_id()
      AND (SELECT app_has_role(ARRAY['counselor'])))$p$, t || '_counselors', t);
  END LOOP;
END $$;
-- +goose StatementEnd
GRANT SELECT, INSERT, UPDATE ON support_plans, support_plan_items TO xinqiao_app;
-- Reviews are the plan's history: never changed.
GRANT SELECT, INSERT ON support_plan_reviews TO xinqiao_app;

-- Recording a review closes the review task of every counselor of the file, not only the
-- recorder's own: counselors of the school may see and close these tasks (kind, ids and
-- a date; never text).
CREATE POLICY inbox_items_plan_review_read ON inbox_items FOR SELECT
  USING (app_scope() = 'school' AND school_id = app_school_id() AND kind = 'support_plan_review_due'
    AND (SELECT app_has_role(ARRAY['counselor'])));
CREATE POLICY inbox_items_plan_review_close ON inbox_items FOR UPDATE
  USING (app_scope() = 'school' AND school_id = app_school_id() AND kind = 'support_plan_review_due'
    AND (SELECT app_has_role(ARRAY['counselor'])));

-- The reminder job runs without a user: this function lists, across schools, the active
-- plans whose review date has passed (in China time) with the counselors of their case
-- files, and can do nothing else.
CREATE POLICY support_plans_definer ON support_plans FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY case_file_counselors_definer ON case_file_counselors FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION support_plans_review_overdue()
RETURNS TABLE (district_id uuid, school_id uuid, plan_id uuid, case_file_id uuid, review_date date, counselor_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT sc.district_id, p.school_id, p.id, p.case_file_id, p.review_date, k.user_id
  FROM support_plans p
  JOIN schools sc ON sc.id = p.school_id
  JOIN case_file_counselors k ON k.school_id = p.school_id AND k.case_file_id = p.case_file_id
  WHERE p.status = 'active' AND p.review_date < (now() AT TIME ZONE 'Asia/Shanghai')::date
    AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = k.user_id AND m.school_id = p.school_id
                AND m.scope_type = 'school' AND m.role = 'counselor')
  ORDER BY sc.district_id, p.school_id, p.id, k.user_id
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION support_plans_review_overdue() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION support_plans_review_overdue() TO xinqiao_app;
