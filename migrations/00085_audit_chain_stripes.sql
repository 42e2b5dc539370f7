-- +goose Up
-- Performance (issue 10, docs/BENCHMARKS.md item 1): every audited request of a school
-- locked the school's one chain head from its audit INSERT until COMMIT (WAL flush
-- included), so a school's requests ran one at a time. Each school's (district's, and
-- the system's) chain is now striped over 16 chains, the stripe chosen by the database
-- connection (pg_backend_pid() % 16): concurrent transactions on different connections
-- rarely share a head. Stripe 0 keeps the old name ("school:<id>"), so existing rows
-- and heads continue unchanged; the others are "school:<id>/<k>" (k = 1..15). Each
-- stripe is an ordinary chain (seq from 1, its own head); `xinqiao audit verify` walks
-- every head and also reports rows whose chain has no head. Within a stripe the head's
-- row lock still orders the rows (two connections may share a stripe; they take turns).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
  head audit_chain_heads%ROWTYPE;
  stripe int := pg_backend_pid() % 16;
BEGIN
  NEW.chain := CASE
    WHEN NEW.school_id IS NOT NULL THEN 'school:' || NEW.school_id
    WHEN NEW.district_id IS NOT NULL THEN 'district:' || NEW.district_id
    ELSE 'system' END;
  IF stripe <> 0 THEN
    NEW.chain := NEW.chain || '/' || stripe;
  END IF;
  NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
  INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (NEW.chain, 0, repeat('0', 64))
    ON CONFLICT (chain) DO NOTHING;
  SELECT * INTO head FROM audit_chain_heads WHERE chain = NEW.chain FOR UPDATE;
  NEW.seq := head.last_seq + 1;
  NEW.prev_hash := head.last_hash;
  NEW.hash := encode(sha256(convert_to(audit_canonical(NEW), 'UTF8')), 'hex');
  UPDATE audit_chain_heads SET last_seq = NEW.seq, last_hash = NEW.hash WHERE chain = NEW.chain;
  RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The viewer lists a school's (district's) rows of all its stripes in time order.
CREATE INDEX audit_log_school_time ON audit_log (school_id, occurred_at DESC, id DESC) WHERE school_id IS NOT NULL;
CREATE INDEX audit_log_district_time ON audit_log (district_id, occurred_at DESC, id DESC) WHERE school_id IS NULL;
DROP INDEX audit_log_school;
DROP INDEX audit_log_district;

-- +goose Down
CREATE INDEX audit_log_school ON audit_log (school_id, occurred_at DESC) WHERE school_id IS NOT NULL;
CREATE INDEX audit_log_district ON audit_log (district_id, occurred_at DESC) WHERE school_id IS NULL;
DROP INDEX audit_log_school_time;
DROP INDEX audit_log_district_time;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
  head audit_chain_heads%ROWTYPE;
BEGIN
  NEW.chain := CASE
    WHEN NEW.school_id IS NOT NULL THEN 'school:' || NEW.school_id
    WHEN NEW.district_id IS NOT NULL THEN 'district:' || NEW.district_id
    ELSE 'system' END;
  NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
  INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (NEW.chain, 0, repeat('0', 64))
    ON CONFLICT (chain) DO NOTHING;
  SELECT * INTO head FROM audit_chain_heads WHERE chain = NEW.chain FOR UPDATE;
  NEW.seq := head.last_seq + 1;
  NEW.prev_hash := head.last_hash;
  NEW.hash := encode(sha256(convert_to(audit_canonical(NEW), 'UTF8')), 'hex');
  UPDATE audit_chain_heads SET last_seq = NEW.seq, last_hash = NEW.hash WHERE chain = NEW.chain;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
