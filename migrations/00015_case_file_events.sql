-- +goose Up
-- The case-file timeline: one view merging every kind of entry of a case file in time
-- order. It runs with the privileges and row-level security of the reader (security
-- invoker), so each reader sees exactly the entries the policies of each table allow.
-- It carries kinds, dates, actors and short codes — never free text, which stays
-- encrypted in each table and is read through its own route.

-- The caseload-only rule and emergency access reach the tables added since 00013.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['documents', 'consents', 'disclosures', 'refused_inquiries', 'support_plans', 'emergency_grants'] LOOP
    EXECUTE format($p$CREATE POLICY %I ON %I AS RESTRICTIVE FOR SELECT TO xinqiao_app
      USING ((SELECT caseload_open()) OR case_file_assigned_to_me(school_id, case_file_id))$p$, t || '_caseload', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['documents', 'consents', 'disclosures', 'refused_inquiries', 'support_plans', 'case_file_handoffs'] LOOP
    EXECUTE format($p$CREATE POLICY %I ON %I FOR SELECT TO xinqiao_app
      USING ((SELECT app_has_role(ARRAY['school_leader', 'district_supervisor'])) AND case_file_emergency(school_id, case_file_id))$p$,
      t || '_emergency_read', t);
  END LOOP;
END $$;
-- +goose StatementEnd
CREATE POLICY support_plan_items_caseload ON support_plan_items AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING (EXISTS (SELECT 1 FROM support_plans p WHERE p.school_id = support_plan_items.school_id AND p.id = support_plan_items.plan_id));
CREATE POLICY support_plan_reviews_caseload ON support_plan_reviews AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING (EXISTS (SELECT 1 FROM support_plans p WHERE p.school_id = support_plan_reviews.school_id AND p.id = support_plan_reviews.plan_id));
CREATE POLICY consent_revocations_caseload ON consent_revocations AS RESTRICTIVE FOR SELECT TO xinqiao_app
  USING (EXISTS (SELECT 1 FROM consents c WHERE c.school_id = consent_revocations.school_id AND c.id = consent_revocations.consent_id));

CREATE VIEW case_file_events WITH (security_invoker = true) AS
  SELECT school_id, case_file_id, 'session'::text AS kind, id, occurred_at AS at, created_by AS actor_id, channel AS code
    FROM counseling_sessions
  UNION ALL
  SELECT school_id, case_file_id, 'risk_tier', id, changed_at, changed_by, from_tier || '>' || to_tier FROM risk_tier_changes
  UNION ALL
  SELECT school_id, case_file_id, 'handoff', id, handed_at, handed_by, NULL FROM case_file_handoffs
  UNION ALL
  SELECT school_id, case_file_id, 'concern', id, raised_at, raised_by, urgency FROM concerns WHERE case_file_id IS NOT NULL
  UNION ALL
  SELECT school_id, case_file_id, 'document', id, uploaded_at, uploaded_by, kind FROM documents
  UNION ALL
  SELECT school_id, case_file_id, 'consent', id, recorded_at, recorded_by, scope FROM consents
  UNION ALL
  SELECT c.school_id, c.case_file_id, 'consent_revoked', r.consent_id, r.revoked_at, r.revoked_by, c.scope
    FROM consent_revocations r JOIN consents c ON c.school_id = r.school_id AND c.id = r.consent_id
  UNION ALL
  SELECT school_id, case_file_id, 'disclosure', id, disclosed_at, recorded_by, recipient_kind FROM disclosures
  UNION ALL
  SELECT school_id, case_file_id, 'refused_inquiry', id, inquired_at, recorded_by, requester_kind FROM refused_inquiries
  UNION ALL
  SELECT school_id, case_file_id, 'support_plan', id, created_at, created_by, status FROM support_plans
  UNION ALL
  SELECT p.school_id, p.case_file_id, 'support_plan_review', v.id, v.created_at, v.created_by, v.status_after
    FROM support_plan_reviews v JOIN support_plans p ON p.school_id = v.school_id AND p.id = v.plan_id
  UNION ALL
  SELECT school_id, case_file_id, 'emergency_access', id, granted_at, grantee_id, grantee_role FROM emergency_grants;
GRANT SELECT ON case_file_events TO xinqiao_app;
