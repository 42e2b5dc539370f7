-- +goose Up
-- Orphan objects of every kind: besides case-file documents (document_keys_unreferenced,
-- 00008), plan evidence (<school>/evidence/<id>) and library documents (library/<id>)
-- get a "which of these keys have no row" function for the one reconciliation job. The
-- functions need no user and tell nothing but which of the given keys are unreferenced.
CREATE POLICY program_evidence_reconcile_definer ON program_evidence FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY library_items_reconcile_definer ON library_items FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION evidence_keys_unreferenced(p_district uuid, p_keys text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k FROM unnest(p_keys) AS k
  WHERE EXISTS (SELECT 1 FROM schools s WHERE s.district_id = p_district AND s.id::text = split_part(k, '/', 1))
    AND NOT EXISTS (SELECT 1 FROM program_evidence e WHERE e.object_key = k)
$$;
CREATE FUNCTION library_keys_unreferenced(p_district uuid, p_keys text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k FROM unnest(p_keys) AS k
  WHERE EXISTS (SELECT 1 FROM districts d WHERE d.id = p_district)
    AND NOT EXISTS (SELECT 1 FROM library_items i WHERE i.district_id = p_district AND i.object_key = k)
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION evidence_keys_unreferenced(uuid, text[]), library_keys_unreferenced(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION evidence_keys_unreferenced(uuid, text[]), library_keys_unreferenced(uuid, text[]) TO xinqiao_app;
