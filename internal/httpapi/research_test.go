package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/parquet-go/parquet-go"

	"github.com/xinqiao/xinqiao/internal/research"
	"github.com/xinqiao/xinqiao/internal/scope"
)

func (w *world) researcherActor(t target) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE district_id = $1 AND scope_type = 'district' AND role = 'researcher' LIMIT 1`, t.district)
	return scope.Actor{UserID: user, Username: "researcher", DistrictID: t.district, Kind: scope.District, Roles: []string{scope.Researcher}}
}

// researchRequest files a request in t's district (the matrix's fixture); exported runs
// the export so it is ready to download.
func (w *world) researchRequest(t target, exported bool) uuid.UUID {
	key := fmt.Sprintf("research/%s/%v", t.district, exported)
	w.mu.Lock()
	id, ok := w.cached[key]
	w.mu.Unlock()
	if ok {
		return id
	}
	req, err := w.research.File(bg(), w.researcherActor(t), t.district, research.RequestInput{Purpose: "年度趋势", Years: []int{time.Now().Year()},
		Fields: []string{"gender", "phq9_band"}, EthicsRef: "IRB-1"})
	if err != nil {
		w.t.Fatal(err)
	}
	if exported {
		if _, err := w.research.Decide(bg(), w.districtAdmin(t), t.district, req.ID, research.Decision{Approve: true}); err != nil {
			w.t.Fatal(err)
		}
		if err := w.research.Run(bg(), t.district, req.ID, nil); err != nil {
			w.t.Fatal(err)
		}
	}
	w.mu.Lock()
	w.cached[key] = req.ID
	w.mu.Unlock()
	return req.ID
}

func TestResearchExportIsKAnonymousUnlinkableAndHoldsNoIdentifier(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	w.randomHistory(rand.New(rand.NewPCG(3, 4)), w.district, 25)
	researcher, admin := w.token("researcher"), w.token("district.admin")
	base := "/api/v1/districts/" + w.district.String() + "/research/requests"
	all := []string{"school", "grade", "gender", "age_band", "has_case_file", "max_risk_tier", "sessions", "crises", "referrals", "phq9_band", "gad7_band"}
	file := func() research.Request {
		r := w.do(researcher, "POST", base, map[string]any{"purpose": "心理健康服务使用的年度研究", "years": []int{time.Now().Year()}, "fields": all,
			"ethics_ref": "IRB-2026-017", "k": 5})
		var req research.Request
		r.decode(t, &req)
		if r.status != 201 || req.Status != "pending" {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
		return req
	}
	req := file()
	// Nothing runs or downloads before approval.
	if r := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/data.csv", base, req.ID), nil); r.status != 409 {
		t.Fatalf("download before approval: %d", r.status)
	}
	if err := w.research.Run(bg(), w.district, req.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.scalarText(`SELECT status FROM research_requests WHERE id = $1`, req.ID); got != "pending" {
		t.Fatalf("an unapproved request ran: %s", got)
	}
	if r := w.do(admin, "POST", fmt.Sprintf("%s/%s/decision", base, req.ID), map[string]any{"approve": true}); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM outbox WHERE task_type = 'research:export' AND payload->>'request_id' = $1`, req.ID.String()); n != 1 {
		t.Fatalf("the export was not queued: %d", n)
	}
	if r := w.do(admin, "POST", fmt.Sprintf("%s/%s/decision", base, req.ID), map[string]any{"approve": false, "reason": "x"}); r.status != 409 {
		t.Errorf("second decision: %d", r.status)
	}
	if err := w.research.Run(bg(), w.district, req.ID, nil); err != nil {
		t.Fatal(err)
	}
	r := w.do(researcher, "GET", fmt.Sprintf("%s/%s", base, req.ID), nil)
	r.decode(t, &req)
	if req.Status != "ready" || req.Progress != 100 || len(req.Files) != 5 || req.Report == nil {
		t.Fatalf("after the run: %s", r.body)
	}
	files := map[string][]byte{}
	for _, f := range req.Files {
		r := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/%s", base, req.ID, f.Name), nil)
		if r.status != 200 {
			t.Fatalf("download %s: %d", f.Name, r.status)
		}
		sum := sha256.Sum256(r.body)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: SHA-256 differs from the listing", f.Name)
		}
		files[f.Name] = r.body
	}
	var manifest struct {
		Files []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest.Files) != 4 {
		t.Fatalf("manifest: %v %s", err, files["manifest.json"])
	}
	for _, m := range manifest.Files {
		sum := sha256.Sum256(files[m.Name])
		if hex.EncodeToString(sum[:]) != m.SHA256 {
			t.Errorf("manifest SHA-256 of %s is wrong", m.Name)
		}
	}
	if !bytes.HasPrefix(files["data.csv"], []byte("\ufeff")) {
		t.Error("the CSV has no BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(files["data.csv"], []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("csv: %v %d", err, len(rows))
	}
	header := rows[0]
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, header)
		return -1
	}
	// Every combination of quasi-identifiers holds at least k rows.
	classes := map[string]int{}
	for _, rec := range rows[1:] {
		classes[rec[col("school")]+"|"+rec[col("grade")]+"|"+rec[col("gender")]+"|"+rec[col("age_band")]]++
	}
	for c, n := range classes {
		if n < 5 {
			t.Errorf("class %q holds %d < k rows", c, n)
		}
	}
	if req.Report.SmallestClass < 5 || req.Report.RowsOut != len(rows)-1 {
		t.Errorf("report: %+v", req.Report)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(files["data.parquet"]), int64(len(files["data.parquet"])))
	if err != nil || pf.NumRows() != int64(len(rows)-1) {
		t.Fatalf("parquet: %v rows=%d", err, pf.NumRows())
	}
	// No name, student number, phone, id or note of the roster is in any file (canaries).
	var canaries []string
	w.ownerQuery(func(tx pgx.Tx) {
		r, err := tx.Query(context.Background(), `SELECT s.name, s.student_number, s.id::text, coalesce(g->>'phone', '') FROM students s
			LEFT JOIN LATERAL jsonb_array_elements(s.guardians) g ON true JOIN schools sc ON sc.id = s.school_id WHERE sc.district_id = $1`, w.district)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var name, number, id, phone string
			if err := r.Scan(&name, &number, &id, &phone); err != nil {
				t.Fatal(err)
			}
			canaries = append(canaries, name, id)
			if len(number) > 5 {
				canaries = append(canaries, number)
			}
			if phone != "" {
				canaries = append(canaries, phone)
			}
		}
	})
	canaries = append(canaries, canary("s1"), s1.school.String(), "示范")
	for name, b := range files {
		for _, c := range canaries {
			if c != "" && bytes.Contains(b, []byte(c)) {
				t.Fatalf("%s contains %q", name, c)
			}
		}
	}
	// A second export of the same year cannot be linked to the first: other pseudonyms.
	second := file()
	w.do(admin, "POST", fmt.Sprintf("%s/%s/decision", base, second.ID), map[string]any{"approve": true})
	if err := w.research.Run(bg(), w.district, second.ID, nil); err != nil {
		t.Fatal(err)
	}
	again := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/data.csv", base, second.ID), nil)
	rows2, _ := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(again.body, []byte("\ufeff")))).ReadAll()
	first := map[string]bool{}
	for _, rec := range rows[1:] {
		first[rec[0]] = true
	}
	for _, rec := range rows2[1:] {
		if first[rec[0]] {
			t.Fatal("two exports share a pseudonym")
		}
	}
	// Downloads end with the download period; they are audited.
	if w.auditCount("research.download", "allowed") < 5 {
		t.Error("downloads are not audited")
	}
	w.clock.Advance(15 * 24 * time.Hour)
	if r := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/data.csv", base, req.ID), nil); r.status != 410 {
		t.Errorf("after the download period: %d", r.status)
	}
}

func TestResearchRequestBadInputProducesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	researcher := w.token("researcher")
	base := "/api/v1/districts/" + w.district.String() + "/research/requests"
	year := time.Now().Year()
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"purpose": "x", "years": []int{year}, "fields": []string{"name"}, "ethics_ref": "IRB"}, "fields[0]"},
		{map[string]any{"purpose": "x", "years": []int{year}, "fields": []string{"gender", "student_number"}, "ethics_ref": "IRB"}, "fields[1]"},
		{map[string]any{"purpose": "x", "years": []int{year}, "fields": []string{"gender"}, "ethics_ref": "IRB", "k": 3}, "k"},
		{map[string]any{"purpose": "x", "years": []int{year + 1}, "fields": []string{"gender"}, "ethics_ref": "IRB"}, "years[0]"},
		{map[string]any{"purpose": "x", "years": []int{year}, "fields": []string{"gender"}, "ethics_ref": ""}, "ethics_ref"},
	} {
		r := w.do(researcher, "POST", base, c.body)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM research_requests`); n != 0 {
		t.Fatalf("bad requests stored: %d", n)
	}
	// A researcher sees only their own; rejection needs a reason.
	req := w.researchRequest(w.target("s1"), false)
	if r := w.do(w.token("district.admin"), "POST", fmt.Sprintf("%s/%s/decision", base, req), map[string]any{"approve": false}); r.status != 422 {
		t.Errorf("rejection without reason: %d", r.status)
	}
	if r := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/manifest.json", base, uuid.New()), nil); r.status != 404 {
		t.Errorf("unknown request: %d", r.status)
	}
}

// TestLongitudinalExportsLinkAcrossYearsOrdinaryOnesDoNot: two exports the district
// approved as longitudinal (different years) share the pseudonyms of the same students;
// two ordinary exports of those years share none; the key is kept sealed, never plain.
func TestLongitudinalExportsLinkAcrossYearsOrdinaryOnesDoNot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	researcher, admin := w.token("researcher"), w.token("district.admin")
	base := "/api/v1/districts/" + w.district.String() + "/research/requests"
	year := time.Now().Year()
	export := func(y int, longitudinal bool) map[string]bool {
		r := w.do(researcher, "POST", base, map[string]any{"purpose": "纵向研究", "years": []int{y}, "fields": []string{"gender"}, "ethics_ref": "IRB-L"})
		var req research.Request
		r.decode(t, &req)
		if r.status != 201 {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
		d := w.do(admin, "POST", fmt.Sprintf("%s/%s/decision", base, req.ID), map[string]any{"approve": true, "longitudinal": longitudinal})
		d.decode(t, &req)
		if d.status != 200 || req.Longitudinal != longitudinal {
			t.Fatalf("decide: %d %s", d.status, d.body)
		}
		if err := w.research.Run(bg(), w.district, req.ID, nil); err != nil {
			t.Fatal(err)
		}
		f := w.do(researcher, "GET", fmt.Sprintf("%s/%s/files/data.csv", base, req.ID), nil)
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(f.body, []byte("\ufeff")))).ReadAll()
		if f.status != 200 || err != nil || len(rows) < 2 {
			t.Fatalf("download: %d %v", f.status, err)
		}
		pids := map[string]bool{}
		for _, rec := range rows[1:] {
			pids[rec[0]] = true
		}
		return pids
	}
	shared := func(a, b map[string]bool) int {
		n := 0
		for p := range a {
			if b[p] {
				n++
			}
		}
		return n
	}
	l1, l2 := export(year-1, true), export(year, true)
	if n := shared(l1, l2); n == 0 || n != len(l1) {
		t.Fatalf("longitudinal exports of %d and %d share %d of %d pseudonyms", year-1, year, n, len(l1))
	}
	o1, o2 := export(year-1, false), export(year, false)
	if n := shared(o1, o2); n != 0 {
		t.Fatalf("ordinary exports share %d pseudonyms", n)
	}
	if n := shared(o1, l1) + shared(o2, l2); n != 0 {
		t.Fatalf("an ordinary export shares %d pseudonyms with a longitudinal one", n)
	}
	// One sealed key per district; an approval cannot be longitudinal without approving.
	if n := w.scalar(`SELECT count(*) FROM research_keys WHERE district_id = $1 AND length(sealed) > 32`, w.district); n != 1 {
		t.Fatalf("research keys: %d", n)
	}
	r := w.do(researcher, "POST", base, map[string]any{"purpose": "x", "years": []int{year}, "fields": []string{"gender"}, "ethics_ref": "IRB"})
	var req research.Request
	r.decode(t, &req)
	if d := w.do(admin, "POST", fmt.Sprintf("%s/%s/decision", base, req.ID), map[string]any{"approve": false, "reason": "no", "longitudinal": true}); d.status != 422 {
		t.Errorf("a longitudinal rejection: %d", d.status)
	}
	// The application role cannot read the key outside the job.
	err := w.db.App.InTx(bg(), w.districtAdmin(w.target("s1")), func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(bg(), `SELECT count(*) FROM research_keys`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("a district admin sees %d research keys", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
