package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/httpapi"
)

// safeQueryParameters are the only query parameters a GET operation may declare: ids,
// enum filters, dates, paging. A search term, a name, a number, a phone, a note or any
// free text goes in a POST body (…/search), never in an address.
var safeQueryParameters = map[string]bool{
	"cursor": true, "limit": true, "status": true, "homeroom_id": true, "grade_id": true, "user_id": true,
	"school_id": true, "actor_id": true, "object_type": true, "object_id": true, "action": true, "outcome": true,
	"from": true, "to": true, "risk_tier": true, "counselor_id": true, "mine": true, "contact_before": true,
	"contact_after": true, "all": true, "case_file_id": true, "format": true, "measure": true, "period_kind": true,
	"term_id": true, "weeks": true, "kind": true, "topic": true, "audience": true,
}

// safeOnOperation allows a parameter on one operation only, with the reason.
var safeOnOperation = map[string]string{
	// The resource library holds books and materials, never people: its words search titles.
	"GET /api/v1/districts/{districtId}/library q": "searches titles of library materials",
	"GET /api/v1/schools/{schoolId}/library q":     "searches titles of library materials",
}

var confidentialParameter = regexp.MustCompile(`(?i)^q$|name|number|phone|note|search|text|email|mail|contact$|reason|comment|answer|address|birth|id_card`)

// Every GET operation of the OpenAPI document declares only query parameters from the
// allowlist; none that could carry a name, a number or free text.
func TestOpenAPIGetOperationsCarryNoConfidentialQueryParameters(t *testing.T) {
	t.Parallel()
	for name := range safeQueryParameters {
		if confidentialParameter.MatchString(name) && !strings.HasPrefix(name, "contact_") {
			t.Fatalf("the allowlist itself holds %q", name)
		}
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	gets := 0
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Parameters []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				} `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue // path-level entries that are not operations
			}
			for _, p := range op.Parameters {
				if p.In == "path" || p.In == "header" || p.In == "cookie" {
					continue
				}
				if p.In == "query" && method != "get" {
					t.Errorf("%s %s declares query parameter %q: bodies carry the input of non-GET operations", strings.ToUpper(method), path, p.Name)
				}
				key := "GET " + path + " " + p.Name
				if safeQueryParameters[p.Name] || safeOnOperation[key] != "" {
					continue
				}
				t.Errorf("%s declares query parameter %q, which is not on the allowlist of safe parameters (confidential-looking: %v): move it to a POST body",
					strings.ToUpper(method)+" "+path, p.Name, confidentialParameter.MatchString(p.Name))
			}
			if method == "get" {
				gets++
			}
		}
	}
	if gets < 100 {
		t.Fatalf("only %d GET operations found: the document was not read", gets)
	}
}

// decodings are the readings of a cursor an attacker would try.
func decodings(c string) []string {
	out := []string{c}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(c); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// No cursor the API issues contains a name, a student number or a username, in clear
// or base64; cursors work on the route and for the user that got them only.
func TestCursorsCarryNoNameOrNumber(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	s := "/api/v1/schools/" + own.school.String()
	d := "/api/v1/districts/" + w.district.String()
	var secrets []string
	w.ownerQuery(func(tx pgx.Tx) {
		for _, q := range []string{`SELECT student_number FROM students`, `SELECT name FROM students`,
			`SELECT username FROM users`, `SELECT display_name FROM users`} {
			rows, err := tx.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				if len(v) >= 3 {
					secrets = append(secrets, v)
				}
			}
		}
	})
	// A second case file, so that the catalogue has a second page.
	var free uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(context.Background(), `SELECT id FROM students s WHERE school_id = $1
			AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, own.school).Scan(&free)
	})
	if _, err := w.cases.Open(context.Background(), w.counselorActor(t, "s1"), own.school, free); err != nil {
		t.Fatal(err)
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	type list struct {
		user, method, path string
		body               map[string]any
	}
	lists := []list{
		{"leader.s1", "GET", s + "/students?limit=1", nil},
		{"leader.s1", "POST", s + "/students/search", map[string]any{"limit": 1}},
		{"counselor.s1", "POST", s + "/students/search", map[string]any{"q": own.studentNumber[:2], "limit": 1}},
		{"counselor.s1", "GET", s + "/case-files?limit=1", nil},
		{"counselor.s1", "POST", s + "/case-files/search", map[string]any{"limit": 1}},
		{"district.admin", "GET", d + "/users?limit=1", nil},
		{"district.admin", "POST", d + "/users/search", map[string]any{"q": "s1", "limit": 1}},
		{"district.admin", "GET", d + "/schools?limit=1", nil},
		{"district.admin", "GET", d + "/memberships?limit=1", nil},
		{"district.admin", "GET", d + "/audit?limit=1", nil},
		{"leader.s1", "GET", s + "/staff?limit=1", nil},
		{"leader.s1", "GET", s + "/audit?limit=1", nil},
	}
	page := func(l list, cursor string) (int, []json.RawMessage, *string) {
		path, body := l.path, l.body
		if cursor != "" && l.method == "GET" {
			path += "&cursor=" + cursor
		}
		if l.method == "POST" {
			b := map[string]any{}
			for k, v := range l.body {
				b[k] = v
			}
			if cursor != "" {
				b["cursor"] = cursor
			}
			body = b
		}
		var res any
		if body != nil {
			res = body
		}
		r := w.do(w.token(l.user), l.method, path, res)
		var p struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if r.status == 200 {
			r.decode(t, &p)
		}
		return r.status, p.Items, p.NextCursor
	}
	issued := 0
	for _, l := range lists {
		cursor, seen := "", map[string]bool{}
		for n := 0; n < 3; n++ {
			status, items, next := page(l, cursor)
			if status != 200 {
				t.Fatalf("%s %s (page %d): %d", l.method, l.path, n+1, status)
			}
			for _, it := range items {
				if seen[string(it)] {
					t.Fatalf("%s %s: a row seen twice", l.method, l.path)
				}
				seen[string(it)] = true
			}
			if next == nil {
				break
			}
			issued++
			for _, text := range decodings(*next) {
				for _, secret := range secrets {
					if strings.Contains(text, secret) {
						t.Fatalf("%s %s: the cursor %q carries %q", l.method, l.path, *next, secret)
					}
				}
			}
			cursor = *next
		}
		if cursor == "" {
			t.Fatalf("%s %s issued no cursor: the check saw nothing", l.method, l.path)
		}
		// The cursor works for this user on this route only.
		other := list{"counselor.s1", l.method, l.path, l.body}
		if l.user == "counselor.s1" {
			other.user = "leader.s1"
		}
		if strings.HasPrefix(l.path, d) {
			other.user = "district.supervisor"
		}
		if status, _, _ := page(other, cursor); status != 422 && status != 403 {
			t.Errorf("%s %s: another user's cursor answers %d, want 422", l.method, l.path, status)
		}
	}
	if issued < len(lists) {
		t.Fatalf("only %d cursors issued", issued)
	}
	// A cursor of the POST search is not valid on the GET list, and the reverse.
	_, _, next := page(lists[1], "")
	if status, _, _ := page(lists[0], *next); status != 422 {
		t.Fatalf("a search cursor on the GET list: %d", status)
	}
}

// Searches travel in POST bodies; a GET list refuses a search term in its address.
func TestSearchTermsNeverTravelInAddresses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	s := "/api/v1/schools/" + own.school.String()
	d := "/api/v1/districts/" + w.district.String()
	leader, counselor, admin := w.token("leader.s1"), w.token("counselor.s1"), w.token("district.admin")
	for _, c := range []struct{ token, path string }{
		{leader, s + "/students?q=" + own.studentNumber},
		{counselor, s + "/case-files?q=" + own.studentNumber},
		{admin, d + "/users?q=counselor"},
		{admin, d + "/users?q="},
	} {
		r := w.do(c.token, "GET", c.path, nil)
		if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), "/search") {
			t.Errorf("GET %s: %d %s", c.path, r.status, r.body)
		}
	}
	var found struct {
		Items []struct {
			StudentNumber string `json:"student_number"`
		} `json:"items"`
	}
	r := w.do(leader, "POST", s+"/students/search", map[string]any{"q": own.studentNumber, "status": "enrolled"})
	r.decode(t, &found)
	if r.status != 200 || len(found.Items) != 1 || found.Items[0].StudentNumber != own.studentNumber {
		t.Fatalf("student search: %d %s", r.status, r.body)
	}
	var users struct {
		Items []struct {
			Username string `json:"username"`
		} `json:"items"`
	}
	r = w.do(admin, "POST", d+"/users/search", map[string]any{"q": "counselor.s1"})
	r.decode(t, &users)
	if r.status != 200 || len(users.Items) != 1 || users.Items[0].Username != "counselor.s1" {
		t.Fatalf("user search: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		path  string
		body  any
		field string
	}{
		{s + "/students/search", map[string]any{"q": strings.Repeat("长", 30)}, "q"},
		{s + "/students/search", map[string]any{"limit": 500}, "limit"},
		{s + "/students/search", map[string]any{"cursor": "bm9wZQ"}, "cursor"},
		{s + "/students/search", map[string]any{"name": "x"}, ""},
		{s + "/case-files/search", map[string]any{"contact_before": "yesterday"}, ""},
	} {
		r := w.do(counselor, "POST", c.path, c.body)
		if r.status != 422 && r.status != 400 {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
			continue
		}
		if pr := w.problem(t, r); c.field != "" && (len(pr.Errors) == 0 || pr.Errors[0].Field != c.field) {
			t.Errorf("%v: want a field error on %s: %s", c.body, c.field, r.body)
		}
	}
	// A search is a read: the teacher reads the own homeroom, a liaison nothing.
	if r := w.do(w.token("teacher.s1"), "POST", s+"/students/search", map[string]any{}); r.status != 200 {
		t.Fatalf("teacher search: %d", r.status)
	}
	if r := w.do(w.token("liaison.s1"), "POST", s+"/students/search", map[string]any{}); r.status != 403 {
		t.Fatalf("liaison search: %d", r.status)
	}
}
