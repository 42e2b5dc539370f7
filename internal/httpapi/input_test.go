package httpapi_test

import (
	"strings"
	"testing"
)

// Bad input gets a clear 4xx problem+json and changes nothing.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.token("district.admin")
	schools := "/api/v1/districts/" + w.district.String() + "/schools"
	before := w.scalar(`SELECT count(*) FROM schools`)
	tests := []struct {
		name        string
		body        any
		contentType string
		status      int
		wantType    string
		wantField   string
	}{
		{"malformed JSON", []byte(`{"name": "x",`), "", 400, "urn:xinqiao:problem:malformed", ""},
		{"not an object", []byte(`[1,2]`), "", 400, "urn:xinqiao:problem:malformed", ""},
		{"trailing data", []byte(`{"name":"a","code":"ab","kind":"k12"} {}`), "", 400, "urn:xinqiao:problem:malformed", ""},
		{"empty body", []byte(``), "", 400, "urn:xinqiao:problem:malformed", ""},
		{"unknown field", []byte(`{"name":"新学校","code":"new-1","kind":"k12","admin":true}`), "", 422, "urn:xinqiao:problem:invalid", "admin"},
		{"wrong type", []byte(`{"name":42,"code":"new-2","kind":"k12"}`), "", 422, "urn:xinqiao:problem:invalid", "name"},
		{"missing fields", map[string]string{"name": "新学校"}, "", 422, "urn:xinqiao:problem:invalid", "code"},
		{"bad enum", map[string]string{"name": "新学校", "code": "new-3", "kind": "college"}, "", 422, "urn:xinqiao:problem:invalid", "kind"},
		{"oversize body", []byte(`{"name":"` + strings.Repeat("长", 1<<19) + `","code":"x1","kind":"k12"}`), "", 413, "urn:xinqiao:problem:too_large", ""},
		{"wrong content type", []byte(`name=x`), "application/x-www-form-urlencoded", 415, "urn:xinqiao:problem:unsupported", ""},
		{"duplicate code", map[string]string{"name": "重复", "code": "s1", "kind": "k12"}, "", 409, "urn:xinqiao:problem:conflict", "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.contentType != "" {
				r = w.do(admin, "POST", schools, tt.body, "Content-Type", tt.contentType)
			} else {
				r = w.do(admin, "POST", schools, tt.body)
			}
			if r.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, r.status, r.body)
			}
			p := w.problem(t, r)
			if p.Type != tt.wantType {
				t.Fatalf("want type %s, got %s", tt.wantType, p.Type)
			}
			if tt.wantField != "" {
				found := false
				for _, f := range p.Errors {
					found = found || f.Field == tt.wantField
				}
				if !found {
					t.Fatalf("want a field error on %q: %s", tt.wantField, r.body)
				}
			}
			if strings.Contains(string(r.body), "SQLSTATE") || strings.Contains(string(r.body), "pgx") {
				t.Fatalf("internal details leaked: %s", r.body)
			}
		})
	}
	if after := w.scalar(`SELECT count(*) FROM schools`); after != before {
		t.Fatalf("bad requests wrote schools: %d -> %d", before, after)
	}
}

func TestQueryParametersAreValidated(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	leader := w.token("leader.s1")
	base := "/api/v1/schools/" + w.schools["s1"].String()
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=abc", "?cursor=***", "?cursor=bm9wZQ", "?homeroom_id=nope", "?status=expelled"} {
		r := w.do(leader, "GET", base+"/students"+q, nil)
		if r.status != 422 {
			t.Errorf("%s: want 422, got %d %s", q, r.status, r.body)
		}
	}
	if r := w.do(leader, "GET", base+"/audit?from=yesterday", nil); r.status != 422 {
		t.Errorf("bad time: %d", r.status)
	}
	if r := w.do(leader, "GET", base+"/students/not-a-uuid", nil); r.status != 404 {
		t.Errorf("malformed id answers 404: %d", r.status)
	}
}

func TestPaginationWalksEveryRowOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	leader := w.token("leader.s1")
	path := "/api/v1/schools/" + w.schools["s1"].String() + "/students?limit=5"
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		r := w.do(leader, "GET", path+cursor, nil)
		var p struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.decode(t, &p)
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("row %s seen twice", it.ID)
			}
			seen[it.ID] = true
		}
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *p.NextCursor
	}
	if len(seen) != 12 {
		t.Fatalf("want 12 students, saw %d", len(seen))
	}
}
