package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/fault"
)

// consentWorld is a case file of school s1 with helpers for its consents and disclosures.
type consentWorld struct {
	*world
	own       target
	counselor string
	file      string // the case file's API path
}

func newConsentWorld(t *testing.T) *consentWorld {
	w := newWorld(t)
	own := w.target("s1")
	return &consentWorld{world: w, own: own, counselor: w.token("counselor.s1"),
		file: "/api/v1/schools/" + own.school.String() + "/case-files/" + own.caseFile.String()}
}

// otherFile opens the case file of another student of school code and returns its id.
func (w *consentWorld) otherFile(t *testing.T, code string) uuid.UUID {
	student := w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, w.schools[code])
	cf, err := w.cases.Open(context.Background(), w.counselorActor(t, code), w.schools[code], student)
	if err != nil {
		t.Fatal(err)
	}
	return cf.ID
}

func day(offset int) string {
	return time.Now().In(consent.Zone).AddDate(0, 0, offset).Format(time.DateOnly)
}

func ago(d time.Duration) string { return time.Now().Add(-d).Format(time.RFC3339) }

// consent records a consent through the API and returns it.
func (w *consentWorld) consent(t *testing.T, file string, body map[string]any) consent.Consent {
	t.Helper()
	r := w.do(w.counselor, "POST", file+"/consents", body)
	if r.status != 201 {
		t.Fatalf("record consent: %d %s", r.status, r.body)
	}
	var c consent.Consent
	r.decode(t, &c)
	return c
}

func sharing(recipient, from, until string) map[string]any {
	return map[string]any{"given_by": "guardian", "guardian": "王丽（母亲）", "scope": "sharing", "recipient_name": recipient,
		"valid_from": from, "valid_until": until}
}

func underConsent(id uuid.UUID, recipient string) map[string]any {
	return map[string]any{"recipient_kind": "hospital", "recipient_name": recipient, "legal_basis": "consent", "consent_id": id,
		"items": []map[string]any{{"type": "risk_tier"}, {"type": "summary_text"}}, "disclosed_at": ago(time.Minute)}
}

func (w *consentWorld) rows() int {
	return w.scalar(`SELECT (SELECT count(*) FROM consents) + (SELECT count(*) FROM consent_revocations) + (SELECT count(*) FROM disclosures)
		+ (SELECT count(*) FROM refused_inquiries)`)
}

// Bad input is a 422 problem naming the field, and nothing is stored.
func TestConsentAndDisclosureValidation(t *testing.T) {
	t.Parallel()
	w := newConsentWorld(t)
	otherFile := w.otherFile(t, "s1")
	otherPath := "/api/v1/schools/" + w.own.school.String() + "/case-files/" + otherFile.String()
	foreign := w.target("s2")
	ownSession := w.newSession("s1", w.own.caseFile, false)
	otherSession := w.newSession("s1", otherFile, false)
	foreignSession := w.newSession("s2", foreign.caseFile, false)
	otherConsent := w.consent(t, otherPath, sharing("市第一人民医院", day(0), ""))
	foreignConsent, err := (&consent.Service{DB: w.db.App, Cipher: w.cases.Cipher}).Record(context.Background(), w.counselorActor(t, "s2"),
		foreign.school, foreign.caseFile, consent.Input{GivenBy: "student", Scope: "sharing", RecipientName: "市第一人民医院", ValidFrom: day(0)})
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"recipient_kind": "hospital", "recipient_name": "市第一人民医院", "legal_basis": "imminent_danger",
		"justification": "学生当日有自杀计划", "items": []map[string]any{{"type": "session", "id": ownSession}}, "disclosed_at": ago(time.Hour)}
	with := func(base map[string]any, kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	okConsent := sharing("市第一人民医院", day(0), day(30))
	tests := []struct {
		name, route string
		body        map[string]any
		field       string
	}{
		{"consent: no given_by", "/consents", with(okConsent, "given_by", nil), "given_by"},
		{"consent: unknown giver", "/consents", with(okConsent, "given_by", "teacher"), "given_by"},
		{"consent: guardian unnamed", "/consents", with(okConsent, "guardian", " "), "guardian"},
		{"consent: student names a guardian", "/consents", with(okConsent, "given_by", "student"), "guardian"},
		{"consent: unknown scope", "/consents", with(okConsent, "scope", "everything"), "scope"},
		{"consent: sharing without recipient", "/consents", with(okConsent, "recipient_name", "  "), "recipient_name"},
		{"consent: screening with a recipient", "/consents", with(okConsent, "scope", "screening"), "recipient_name"},
		{"consent: no valid_from", "/consents", with(okConsent, "valid_from", nil), "valid_from"},
		{"consent: malformed valid_from", "/consents", with(okConsent, "valid_from", "2026/01/01"), "valid_from"},
		{"consent: valid_until before valid_from", "/consents", with(okConsent, "valid_until", day(-1)), "valid_until"},
		{"revoke: no reason", "/consents/" + otherConsent.ID.String() + "/revoke", map[string]any{"reason": ""}, "reason"},
		{"disclosure: no recipient", "/disclosures", with(good, "recipient_name", ""), "recipient_name"},
		{"disclosure: unknown recipient kind", "/disclosures", with(good, "recipient_kind", "police"), "recipient_kind"},
		{"disclosure: unknown legal basis", "/disclosures", with(good, "legal_basis", "curiosity"), "legal_basis"},
		{"disclosure: imminent danger unjustified", "/disclosures", with(good, "justification", " "), "justification"},
		{"disclosure: legal obligation unjustified", "/disclosures", with(good, "legal_basis", "legal_obligation", "justification", nil), "justification"},
		{"disclosure: consent basis without a consent", "/disclosures", with(good, "legal_basis", "consent"), "consent_id"},
		{"disclosure: a consent cited on another basis", "/disclosures", with(good, "consent_id", otherConsent.ID), "consent_id"},
		{"disclosure: consent of another case file", "/disclosures", underConsent(otherConsent.ID, "市第一人民医院"), "consent_id"},
		{"disclosure: consent of another school", "/disclosures", underConsent(foreignConsent.ID, "市第一人民医院"), "consent_id"},
		{"disclosure: consent that does not exist", "/disclosures", underConsent(uuid.New(), "市第一人民医院"), "consent_id"},
		{"disclosure: no items", "/disclosures", with(good, "items", []any{}), "items"},
		{"disclosure: unknown item type", "/disclosures", with(good, "items", []map[string]any{{"type": "diary"}}), "items[0].type"},
		{"disclosure: session without id", "/disclosures", with(good, "items", []map[string]any{{"type": "session"}}), "items[0].id"},
		{"disclosure: risk tier with an id", "/disclosures", with(good, "items", []map[string]any{{"type": "risk_tier", "id": ownSession}}), "items[0].id"},
		{"disclosure: an item twice", "/disclosures", with(good, "items", []map[string]any{{"type": "risk_tier"}, {"type": "risk_tier"}}), "items[1]"},
		{"disclosure: session of another case file", "/disclosures",
			with(good, "items", []map[string]any{{"type": "session", "id": ownSession}, {"type": "session", "id": otherSession}}), "items[1].id"},
		{"disclosure: session of another school", "/disclosures", with(good, "items", []map[string]any{{"type": "session", "id": foreignSession}}), "items[0].id"},
		{"disclosure: in the future", "/disclosures", with(good, "disclosed_at", time.Now().Add(time.Hour).Format(time.RFC3339)), "disclosed_at"},
		{"disclosure: no date", "/disclosures", with(good, "disclosed_at", nil), "disclosed_at"},
		{"inquiry: unknown requester kind", "/inquiries", map[string]any{"requester_kind": "spy", "requester": "x", "asked": "x", "refusal_reason": "x", "inquired_at": ago(time.Hour)}, "requester_kind"},
		{"inquiry: nobody asked", "/inquiries", map[string]any{"requester_kind": "police", "requester": "", "asked": "x", "refusal_reason": "x", "inquired_at": ago(time.Hour)}, "requester"},
		{"inquiry: no refusal reason", "/inquiries", map[string]any{"requester_kind": "police", "requester": "x", "asked": "x", "inquired_at": ago(time.Hour)}, "refusal_reason"},
		{"inquiry: nothing asked", "/inquiries", map[string]any{"requester_kind": "police", "requester": "x", "asked": " ", "refusal_reason": "x", "inquired_at": ago(time.Hour)}, "asked"},
		{"inquiry: in the future", "/inquiries", map[string]any{"requester_kind": "police", "requester": "x", "asked": "x", "refusal_reason": "x", "inquired_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, "inquired_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.rows()
			r := w.do(w.counselor, "POST", w.file+tt.route, tt.body)
			if r.status != 422 {
				t.Fatalf("want 422, got %d %s", r.status, r.body)
			}
			p := w.problem(t, r)
			found := false
			for _, f := range p.Errors {
				found = found || f.Field == tt.field
			}
			if !found {
				t.Fatalf("no error on field %s: %s", tt.field, r.body)
			}
			if after := w.rows(); after != before {
				t.Fatalf("a refused request stored rows: %d -> %d", before, after)
			}
		})
	}
	// The good bodies pass, so the table above tests what it says.
	if r := w.do(w.counselor, "POST", w.file+"/disclosures", good); r.status != 201 {
		t.Fatalf("good disclosure: %d %s", r.status, r.body)
	}
	if r := w.do(w.counselor, "POST", w.file+"/consents", okConsent); r.status != 201 {
		t.Fatalf("good consent: %d %s", r.status, r.body)
	}
	// A consent of another case file or school is not found on this file's path.
	for _, id := range []uuid.UUID{otherConsent.ID, foreignConsent.ID} {
		if r := w.do(w.counselor, "POST", w.file+"/consents/"+id.String()+"/revoke", map[string]any{"reason": "x"}); r.status != 404 {
			t.Fatalf("revoke a consent of another file: %d %s", r.status, r.body)
		}
	}
}

// A disclosure under consent is recorded only while an active consent of this file
// covers sharing with that recipient: revoked, expired, not yet valid, another scope or
// another recipient are refused with 409, nothing is stored, and the refusal is audited.
func TestConsentCoversDisclosure(t *testing.T) {
	t.Parallel()
	w := newConsentWorld(t)
	const hospital = "市第一人民医院"
	active := w.consent(t, w.file, sharing(hospital, day(-10), day(30)))
	openEnded := w.consent(t, w.file, sharing(hospital, day(-10), ""))
	expired := w.consent(t, w.file, sharing(hospital, day(-30), day(-1)))
	pending := w.consent(t, w.file, sharing(hospital, day(3), ""))
	referral := w.consent(t, w.file, map[string]any{"given_by": "student", "scope": "referral", "recipient_name": hospital, "valid_from": day(0)})
	revoked := w.consent(t, w.file, sharing(hospital, day(-10), ""))
	r := w.do(w.counselor, "POST", w.file+"/consents/"+revoked.ID.String()+"/revoke", map[string]any{"reason": "家长来电撤回同意"})
	if r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	var rc consent.Consent
	r.decode(t, &rc)
	if rc.Status != consent.Revoked || rc.Revocation == nil || rc.Revocation.Reason != "家长来电撤回同意" {
		t.Fatalf("revoked consent: %s", r.body)
	}
	if r := w.do(w.counselor, "POST", w.file+"/consents/"+revoked.ID.String()+"/revoke", map[string]any{"reason": "again"}); r.status != 409 {
		t.Fatalf("revoking twice: %d", r.status)
	}
	for _, c := range []struct {
		consent.Consent
		want string
	}{{active, consent.Active}, {openEnded, consent.Active}, {expired, consent.Expired}, {pending, consent.Pending}, {referral, consent.Active}} {
		if c.Status != c.want {
			t.Fatalf("consent %s: status %s, want %s", c.ID, c.Status, c.want)
		}
	}
	tests := []struct {
		name      string
		body      map[string]any
		status    int
		code      string
		recipient string
	}{
		{"active consent", underConsent(active.ID, hospital), 201, "", ""},
		{"open-ended consent, recipient written differently", underConsent(openEnded.ID, " 市第一人民医院  "), 201, "", ""},
		{"revoked consent", underConsent(revoked.ID, hospital), 409, consent.CodeRevoked, ""},
		{"expired consent", underConsent(expired.ID, hospital), 409, consent.CodeExpired, ""},
		{"consent not yet valid", underConsent(pending.ID, hospital), 409, consent.CodeNotYetValid, ""},
		{"consent of another scope", underConsent(referral.ID, hospital), 409, consent.CodeWrongScope, ""},
		{"consent for another recipient", underConsent(active.ID, "市精神卫生中心"), 409, consent.CodeWrongReceiver, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.scalar(`SELECT count(*) FROM disclosures`)
			denied := w.auditCount("disclosures.create", "denied")
			r := w.do(w.counselor, "POST", w.file+"/disclosures", tt.body)
			if r.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, r.status, r.body)
			}
			after := w.scalar(`SELECT count(*) FROM disclosures`)
			if tt.status == 201 {
				if after != before+1 {
					t.Fatal("the disclosure is not stored")
				}
				return
			}
			p := w.problem(t, r)
			if len(p.Errors) != 1 || p.Errors[0].Field != "consent_id" || p.Errors[0].Code != tt.code {
				t.Fatalf("want code %s: %s", tt.code, r.body)
			}
			if after != before {
				t.Fatal("a refused disclosure was stored")
			}
			if w.auditCount("disclosures.create", "denied") != denied+1 ||
				w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'disclosures.create' AND outcome = 'denied' AND reason = $1`, tt.code) < 1 {
				t.Fatal("the refusal is not audited")
			}
		})
	}
	// The consent's dates are judged on the day of the disclosure: one made yesterday, the
	// last day of a consent, is covered when recorded today. A revocation blocks whatever
	// is recorded after it, back-dated or not.
	yesterday := underConsent(expired.ID, hospital)
	yesterday["disclosed_at"] = time.Now().Add(-24 * time.Hour).Format(time.RFC3339)
	if r := w.do(w.counselor, "POST", w.file+"/disclosures", yesterday); r.status != 201 {
		t.Fatalf("a disclosure on the consent's last day: %d %s", r.status, r.body)
	}
	backdated := underConsent(revoked.ID, hospital)
	backdated["disclosed_at"] = time.Now().Add(-48 * time.Hour).Format(time.RFC3339)
	if r := w.do(w.counselor, "POST", w.file+"/disclosures", backdated); r.status != 409 {
		t.Fatalf("a disclosure back-dated before the revocation: %d %s", r.status, r.body)
	}
	// Revoking the active consent blocks what it allowed a moment ago.
	if r := w.do(w.counselor, "POST", w.file+"/consents/"+active.ID.String()+"/revoke", map[string]any{"reason": "学生本人反对"}); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := w.do(w.counselor, "POST", w.file+"/disclosures", underConsent(active.ID, hospital)); r.status != 409 {
		t.Fatalf("after revocation: %d %s", r.status, r.body)
	}
}

// Require is what other domains call in their own transaction before an action a
// consent must cover.
func TestConsentRequire(t *testing.T) {
	t.Parallel()
	w := newConsentWorld(t)
	a := w.counselorActor(t, "s1")
	svc := &consent.Service{DB: w.db.App, Cipher: w.cases.Cipher}
	ctx := context.Background()
	require := func(scope, recipient string) (uuid.UUID, error) {
		var id uuid.UUID
		err := w.db.App.InTx(ctx, a, func(tx pgx.Tx) error {
			var err error
			id, err = consent.Require(ctx, tx, w.own.school, w.own.caseFile, scope, recipient)
			return err
		})
		return id, err
	}
	refused := func(t *testing.T, scope, recipient string) {
		t.Helper()
		_, err := require(scope, recipient)
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.Conflict || len(fe.Fields) != 1 || fe.Fields[0].Code != consent.CodeRequired {
			t.Fatalf("%s %q: want a conflict %s, got %v", scope, recipient, consent.CodeRequired, err)
		}
	}
	refused(t, consent.Screening, "")
	refused(t, consent.Sharing, "市第一人民医院")
	screening, err := svc.Record(ctx, a, w.own.school, w.own.caseFile, consent.Input{GivenBy: "guardian", Guardian: "父亲 李强", Scope: "screening", ValidFrom: day(0)})
	if err != nil {
		t.Fatal(err)
	}
	referral, err := svc.Record(ctx, a, w.own.school, w.own.caseFile, consent.Input{GivenBy: "student", Scope: "referral", ValidFrom: day(-5), ValidUntil: day(5)})
	if err != nil {
		t.Fatal(err)
	}
	share, err := svc.Record(ctx, a, w.own.school, w.own.caseFile, consent.Input{GivenBy: "guardian", Guardian: "母亲", Scope: "sharing", RecipientName: "市第一人民医院", ValidFrom: day(0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Record(ctx, a, w.own.school, w.own.caseFile, consent.Input{GivenBy: "student", Scope: "referral", ValidFrom: day(-9), ValidUntil: day(-2)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scope, recipient string
		want             uuid.UUID
	}{
		{consent.Screening, "", screening.ID},
		{consent.Referral, "任何医院", referral.ID},
		{consent.Sharing, "市第一人民医院", share.ID},
	} {
		if id, err := require(c.scope, c.recipient); err != nil || id != c.want {
			t.Fatalf("%s %q: %v %v", c.scope, c.recipient, id, err)
		}
	}
	refused(t, consent.Sharing, "市精神卫生中心")
	for _, c := range []consent.Consent{screening, referral, share} {
		if _, err := svc.Revoke(ctx, a, w.own.school, w.own.caseFile, c.ID, "撤回"); err != nil {
			t.Fatal(err)
		}
	}
	refused(t, consent.Screening, "")
	refused(t, consent.Referral, "任何医院") // the remaining referral consent has expired
	refused(t, consent.Sharing, "市第一人民医院")
	// A school leader's transaction sees no consent at all (row-level security).
	err = w.db.App.InTx(ctx, w.leaderActor(t, "s1"), func(tx pgx.Tx) error {
		_, err := consent.Require(ctx, tx, w.own.school, w.own.caseFile, consent.Screening, "")
		return err
	})
	if fault.KindOf(err) != fault.Conflict {
		t.Fatalf("leader: %v", err)
	}
}

// The log merges disclosures and refused inquiries in time order; free text is
// encrypted at rest; the app role can neither change nor delete an entry; reads and
// writes are audited; other roles see nothing.
func TestDisclosureLogAppendOnlyEncryptedAudited(t *testing.T) {
	t.Parallel()
	w := newConsentWorld(t)
	const (
		guardian      = "张秀英（外婆，监护人）"
		justification = "学生在校内表示当晚要结束生命"
		asked         = "派出所民警要求调取全部咨询记录"
		refusal       = "无法律文书，且未涉及刑事案件"
		revocation    = "外婆认为医院泄露了信息"
	)
	session := w.newSession("s1", w.own.caseFile, true)
	c := w.consent(t, w.file, map[string]any{"given_by": "guardian", "guardian": guardian, "scope": "sharing",
		"recipient_name": "市第一人民医院", "valid_from": day(-1)})
	steps := []struct {
		route string
		body  map[string]any
	}{
		{"/inquiries", map[string]any{"requester_kind": "police", "requester": "王警官", "organisation": "城东派出所", "asked": asked,
			"refusal_reason": refusal, "inquired_at": ago(3 * time.Hour)}},
		{"/disclosures", map[string]any{"recipient_kind": "guardian", "recipient_name": "张秀英", "legal_basis": "imminent_danger",
			"justification": justification, "items": []map[string]any{{"type": "risk_tier"}, {"type": "session", "id": session}}, "disclosed_at": ago(4 * time.Hour)}},
		{"/disclosures", underConsent(c.ID, "市第一人民医院")},
		{"/consents/" + c.ID.String() + "/revoke", map[string]any{"reason": revocation}},
	}
	for _, s := range steps {
		if r := w.do(w.counselor, "POST", w.file+s.route, s.body); r.status >= 300 {
			t.Fatalf("%s: %d %s", s.route, r.status, r.body)
		}
	}
	r := w.do(w.counselor, "GET", w.file+"/disclosures", nil)
	var log struct {
		Items []disclosure.Entry `json:"items"`
	}
	r.decode(t, &log)
	if len(log.Items) != 3 || log.Items[0].Type != "disclosure" || log.Items[1].Type != "refused_inquiry" || log.Items[2].Type != "disclosure" {
		t.Fatalf("log order: %s", r.body)
	}
	d, q := log.Items[0].Disclosure, log.Items[1].Inquiry
	if d.Justification != justification || len(d.Items) != 2 || d.Items[1].ID == nil || *d.Items[1].ID != session ||
		q.Asked != asked || q.RefusalReason != refusal || q.Organisation != "城东派出所" ||
		log.Items[2].Disclosure.ConsentID == nil || *log.Items[2].Disclosure.ConsentID != c.ID {
		t.Fatalf("log content: %s", r.body)
	}
	r = w.do(w.counselor, "GET", w.file+"/consents", nil)
	var consents struct {
		Items []consent.Consent `json:"items"`
	}
	r.decode(t, &consents)
	if len(consents.Items) != 1 || consents.Items[0].Guardian != guardian || consents.Items[0].Revocation == nil ||
		consents.Items[0].Revocation.Reason != revocation || consents.Items[0].Status != consent.Revoked {
		t.Fatalf("consents: %s", r.body)
	}
	// At rest, the free text is not readable.
	w.ownerQuery(func(tx pgx.Tx) {
		var blobs [][]byte
		for _, q := range []string{`SELECT guardian FROM consents`, `SELECT reason FROM consent_revocations`,
			`SELECT justification FROM disclosures WHERE justification IS NOT NULL`, `SELECT asked FROM refused_inquiries`, `SELECT refusal_reason FROM refused_inquiries`} {
			var b []byte
			if err := tx.QueryRow(context.Background(), q).Scan(&b); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			blobs = append(blobs, b)
		}
		for _, b := range blobs {
			for _, plain := range []string{guardian, "张秀英", "外婆", justification, "结束生命", asked, "民警", refusal, "法律文书", revocation, "泄露"} {
				if len(b) == 0 || bytes.Contains(b, []byte(plain)) {
					t.Fatalf("free text stored in clear: %q", plain)
				}
			}
		}
	})
	// Append-only: the app role, even as the school's counselor, cannot change or delete.
	ctx := context.Background()
	for _, stmt := range []string{
		`UPDATE disclosures SET recipient_name = 'x'`, `DELETE FROM disclosures`,
		`UPDATE refused_inquiries SET requester = 'x'`, `DELETE FROM refused_inquiries`,
		`UPDATE consents SET valid_until = '2099-01-01'`, `DELETE FROM consents`,
		`UPDATE consent_revocations SET revoked_at = now()`, `DELETE FROM consent_revocations`,
	} {
		err := w.db.App.InTx(ctx, w.counselorActor(t, "s1"), func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt)
			return err
		})
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "42501" {
			t.Fatalf("%s as the app role: want permission denied, got %v", stmt, err)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM disclosures`); n != 2 {
		t.Fatalf("disclosures after the attempts: %d", n)
	}
	// Other roles of the school see no row, even in SQL.
	err := w.db.App.InTx(ctx, w.leaderActor(t, "s1"), func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM consents) + (SELECT count(*) FROM disclosures) + (SELECT count(*) FROM refused_inquiries)`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Fatalf("a school leader reads %d rows", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"leader.s1", "teacher.s1"} {
		for _, path := range []string{"/disclosures", "/consents"} {
			if r := w.do(w.token(who), "GET", w.file+path, nil); r.status != 403 || strings.Contains(string(r.body), "张秀英") {
				t.Fatalf("%s GET %s: %d", who, path, r.status)
			}
		}
	}
	// Every read and write is audited.
	for action, want := range map[string]int{"consents.create": 1, "consents.revoke": 1, "consents.list": 1,
		"disclosures.create": 2, "inquiries.create": 1, "disclosures.log": 1} {
		if n := w.auditCount(action, "allowed"); n != want {
			t.Errorf("audit %s: %d rows, want %d", action, n, want)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action LIKE 'disclosures.%' AND (reason LIKE '%张%' OR reason LIKE '%结束%')`); n != 0 {
		t.Fatal("audit reasons carry free text")
	}
}
