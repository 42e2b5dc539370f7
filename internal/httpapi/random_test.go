package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/httpapi"
)

// foreignIDs collects, as the owner, ids of rows that belong to the foreign district:
// every table with a uuid id and a district_id or school_id column, up to a few rows each.
func (w *world) foreignIDs() []string {
	ctx := context.Background()
	var out []string
	w.ownerQuery(func(tx pgx.Tx) {
		rows, err := tx.Query(ctx, `SELECT c.table_name,
			bool_or(c2.column_name = 'district_id'), bool_or(c2.column_name = 'school_id')
			FROM information_schema.columns c
			JOIN information_schema.columns c2 ON c2.table_schema = c.table_schema AND c2.table_name = c.table_name
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
			WHERE c.table_schema = 'public' AND c.column_name = 'id' AND c.data_type = 'uuid'
			GROUP BY c.table_name`)
		if err != nil {
			w.t.Fatal(err)
		}
		type tbl struct {
			name             string
			district, school bool
		}
		var tables []tbl
		for rows.Next() {
			var t tbl
			if err := rows.Scan(&t.name, &t.district, &t.school); err != nil {
				w.t.Fatal(err)
			}
			if t.district || t.school || t.name == "schools" || t.name == "districts" {
				tables = append(tables, t)
			}
		}
		rows.Close()
		for _, t := range tables {
			var where string
			switch {
			case t.name == "districts":
				where = "id = $1"
			case t.district:
				where = "district_id = $1"
			default:
				where = "school_id IN (SELECT id FROM schools WHERE district_id = $1)"
			}
			r, err := tx.Query(ctx, fmt.Sprintf(`SELECT id::text FROM %s WHERE %s LIMIT 5`, pgx.Identifier{t.name}.Sanitize(), where), w.foreignDistrict)
			if err != nil {
				w.t.Fatalf("%s: %v", t.name, err)
			}
			for r.Next() {
				var id string
				if err := r.Scan(&id); err != nil {
					w.t.Fatal(err)
				}
				out = append(out, id)
			}
			r.Close()
		}
	})
	return out
}

// schemaGen generates request values from the OpenAPI schemas: a plausible value, or,
// at random, a boundary or wrong one.
type schemaGen struct {
	rng     *rand.Rand
	schemas map[string]any
	ids     []string // ids to use for uuid fields: own, foreign and random ones
}

var boundaryStrings = []string{"", " ", "\x00", "\u202e", "'; DROP TABLE students; --", "<script>alert(1)</script>", "../../etc/passwd",
	"9999-99-99", "2026-02-30", "-1", "NaN", "💥", strings.Repeat("长", 5000)}

func (g *schemaGen) boundary() any {
	switch g.rng.IntN(12) {
	case 0:
		return nil
	case 1:
		return ""
	case 2:
		return strings.Repeat("x", 70_000)
	case 3:
		return -1
	case 4:
		return 1e300
	case 5:
		return map[string]any{"unknown": true}
	case 6:
		return []any{nil, 1, "a"}
	case 7:
		return true
	case 8:
		return -9007199254740993
	case 9:
		return g.ids[g.rng.IntN(len(g.ids))]
	case 10:
		return "not-a-uuid"
	}
	return boundaryStrings[g.rng.IntN(len(boundaryStrings))]
}

func (g *schemaGen) value(s any, depth int) any {
	m, _ := s.(map[string]any)
	if m == nil || depth > 6 {
		return nil
	}
	if g.rng.IntN(8) == 0 {
		return g.boundary()
	}
	if ref, ok := m["$ref"].(string); ok {
		return g.value(g.schemas[strings.TrimPrefix(ref, "#/components/schemas/")], depth+1)
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := m[k].([]any); ok && len(alts) > 0 {
			return g.value(alts[g.rng.IntN(len(alts))], depth+1)
		}
	}
	if enum, ok := m["enum"].([]any); ok && len(enum) > 0 {
		return enum[g.rng.IntN(len(enum))]
	}
	typ := m["type"]
	if ts, ok := typ.([]any); ok && len(ts) > 0 {
		typ = ts[g.rng.IntN(len(ts))]
	}
	switch typ {
	case "object", nil:
		props, _ := m["properties"].(map[string]any)
		out := map[string]any{}
		for name, ps := range props {
			if g.rng.IntN(6) != 0 {
				out[name] = g.value(ps, depth+1)
			}
		}
		if g.rng.IntN(10) == 0 {
			out["unknown_field"] = 1
		}
		return out
	case "array":
		n := g.rng.IntN(4)
		if g.rng.IntN(20) == 0 {
			n = 500
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(m["items"], depth+1)
		}
		return out
	case "integer":
		return []int{0, 1, 5, 42, -1, 1 << 31, 100000}[g.rng.IntN(7)]
	case "number":
		return []float64{0, 0.5, -1, 1e9, 3.14}[g.rng.IntN(5)]
	case "boolean":
		return g.rng.IntN(2) == 0
	case "null":
		return nil
	}
	switch m["format"] {
	case "uuid":
		return g.ids[g.rng.IntN(len(g.ids))]
	case "date":
		return time.Now().AddDate(0, 0, g.rng.IntN(60)-30).Format(time.DateOnly)
	case "date-time":
		return time.Now().Add(time.Duration(g.rng.IntN(96)-48) * time.Hour).Format(time.RFC3339)
	}
	return []string{"测试", "a", "routine", "counselor", "student", "x" + strconv.Itoa(g.rng.IntN(1000))}[g.rng.IntN(6)]
}

// Every route of the OpenAPI document, called as every role (and anonymously) with
// random, boundary and wrong payloads and ids (own, random, foreign-tenant, malformed):
// never a 5xx, never a panic, every error a problem, and no answer names a row of the
// foreign district. XINQIAO_RANDOM_SEED replays a run.
func TestOpenAPIRandomRequests(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(w *world) { w.limits = &httpapi.Limits{} }) // sizes as in production, no rate limits
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("XINQIAO_RANDOM_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (XINQIAO_RANDOM_SEED replays it)", seed)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	own := w.target("s1")
	foreign := w.foreignIDs()
	var echoed sync.Map // foreign ids a request body carried (see below)
	if len(foreign) < 20 {
		t.Fatalf("only %d foreign ids", len(foreign))
	}
	ids := append([]string{own.school.String(), own.student.String(), own.caseFile.String(), own.homeroom.String(), uuid.NewString(), uuid.Nil.String()}, foreign...)
	malformed := []string{"x", "00000000-0000-0000-0000-00000000000Z", "%00", "..", strings.Repeat("9", 300), "%E5%AD%A6", "-1", "null"}
	// A random request may log a token out (or revoke its session): a 401 to a token
	// logs its user in again.
	users := append([]string{""}, roles...)
	tokens := make([]string, len(users))
	for i, r := range roles {
		tokens[i+1] = w.token(roleUser[r])
	}
	var tokMu sync.Mutex
	type op struct{ method, path string }
	var ops []op
	for p, methods := range doc.Paths {
		for m := range methods {
			if m == "get" || m == "post" || m == "put" || m == "patch" || m == "delete" {
				ops = append(ops, op{strings.ToUpper(m), p})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	param := regexp.MustCompile(`\{[A-Za-z]+\}`)
	var (
		mu       sync.Mutex
		failures int
		sent     int
		statuses = map[int]int{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures++
		if failures <= 40 {
			t.Errorf(format, args...)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	work := make(chan int)
	var wg sync.WaitGroup
	for worker := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(worker)))
			g := &schemaGen{rng: rng, schemas: doc.Components.Schemas, ids: ids}
			for i := range work {
				o := ops[i]
				var spec struct {
					RequestBody struct {
						Content map[string]struct {
							Schema any `json:"schema"`
						} `json:"content"`
					} `json:"requestBody"`
				}
				json.Unmarshal(doc.Paths[o.path][strings.ToLower(o.method)], &spec)
				for ti := range users {
					for range 2 {
						tokMu.Lock()
						tok := tokens[ti]
						tokMu.Unlock()
						if time.Now().After(deadline) {
							continue
						}
						path := param.ReplaceAllStringFunc(o.path, func(p string) string {
							switch n := rng.IntN(10); {
							case p == "{schoolId}" && n < 6:
								return own.school.String()
							case p == "{districtId}" && n < 6:
								return own.district.String()
							case n < 4:
								return own.student.String()
							case n < 6:
								return foreign[rng.IntN(len(foreign))]
							case n < 8:
								return uuid.NewString()
							}
							return malformed[rng.IntN(len(malformed))]
						})
						if rng.IntN(4) == 0 {
							path += "?limit=" + []string{"-1", "0", "100000", "x"}[rng.IntN(4)] + "&cursor=" + []string{"", "!!", "azpleXg", foreign[0]}[rng.IntN(4)] +
								"&q=" + []string{"%27", "长", "%00"}[rng.IntN(3)] + "&from=" + []string{"2026-13-01", "x"}[rng.IntN(2)]
						}
						req, err := http.NewRequest(o.method, w.srv.URL+path, nil)
						if err != nil {
							continue // a malformed id the client refuses to send
						}
						var sentBody []byte
						if _, multi := spec.RequestBody.Content["multipart/form-data"]; multi && rng.IntN(3) > 0 {
							var buf bytes.Buffer
							mw := multipart.NewWriter(&buf)
							fw, _ := mw.CreateFormFile("file", []string{"a.png", "a.csv", "a.xlsx", "../../x", ""}[rng.IntN(5)])
							junk := make([]byte, rng.IntN(4096))
							for i := range junk {
								junk[i] = byte(rng.IntN(256))
							}
							fw.Write(junk)
							for _, f := range []string{"title", "kind", "audiences", "topics", "session_id"} {
								if rng.IntN(2) == 0 {
									v, _ := json.Marshal(g.boundary())
									mw.WriteField(f, string(v))
								}
							}
							mw.Close()
							sentBody = buf.Bytes()
							req.Body, req.ContentLength = ioNopCloser(buf.Bytes()), int64(buf.Len())
							req.Header.Set("Content-Type", mw.FormDataContentType())
						} else if o.method != "GET" && o.method != "DELETE" {
							var body []byte
							switch rng.IntN(12) {
							case 0:
								body = nil
							case 1:
								body = []byte(`{"a":`)
							case 2:
								body = []byte(`null`)
							case 3:
								body = []byte(`[]`)
							default:
								var schema any
								if c, ok := spec.RequestBody.Content["application/json"]; ok {
									schema = c.Schema
								}
								body, _ = json.Marshal(g.value(schema, 0))
							}
							sentBody = body
							req.Body, req.ContentLength = ioNopCloser(body), int64(len(body))
							ct := "application/json"
							if rng.IntN(15) == 0 {
								ct = "text/plain"
							}
							req.Header.Set("Content-Type", ct)
						}
						if tok != "" {
							req.Header.Set("Authorization", "Bearer "+tok)
						}
						// A foreign id the client itself wrote into a body (a free-text field,
						// say) may come back later in what it wrote: an echo of what the
						// client knew, not a leak. Remember it.
						for _, id := range foreign {
							if bytes.Contains(sentBody, []byte(id)) {
								echoed.Store(id, true)
							}
						}
						res := w.send(req)
						if res.status == 401 && tok != "" {
							fresh := w.login(roleUser[users[ti]])
							tokMu.Lock()
							tokens[ti] = fresh
							tokMu.Unlock()
						}
						mu.Lock()
						sent++
						statuses[res.status]++
						mu.Unlock()
						if res.status >= 500 {
							fail("%s %s: %d %s", o.method, path, res.status, truncateBody(res.body))
						} else if res.status >= 400 && res.header.Get("Content-Type") != "application/problem+json" {
							fail("%s %s: %d without problem+json", o.method, path, res.status)
						}
						for _, id := range foreign {
							if _, own := echoed.Load(id); !own && bytes.Contains(res.body, []byte(id)) && !strings.Contains(path, id) {
								fail("%s %s: the answer names the foreign row %s", o.method, o.path, id)
								break
							}
						}
					}
				}
			}
		}()
	}
	for i := range ops {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("%d operations, %d requests, statuses %v", len(ops), sent, statuses)
	if time.Now().After(deadline) {
		t.Logf("the time budget ran out: later operations were sent fewer requests")
	}
	if sent < len(ops) {
		t.Fatalf("only %d requests for %d operations", sent, len(ops))
	}
	if logs := w.logText(); strings.Contains(logs, `"msg":"panic"`) {
		t.Fatalf("a handler panicked:\n%s", firstLine(logs, `"msg":"panic"`))
	}
}
