package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
	"golang.org/x/time/rate"

	"github.com/xinqiao/xinqiao/internal/httpapi"
	"github.com/xinqiao/xinqiao/internal/instrument"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/screening"
)

// The built-in instruments' ids (migration 00019).
var (
	phq9ID = uuid.MustParse("00000000-0000-4000-8000-00000000f009")
	gad7ID = uuid.MustParse("00000000-0000-4000-8000-00000000f007")
)

// phq9Answers answers PHQ-9 with every item at v.
func phq9Answers(v int) map[string]int {
	m := map[string]int{}
	for i := 1; i <= 9; i++ {
		m[fmt.Sprint(i)] = v
	}
	return m
}

// testDefinition is a small custom instrument: three items, one reverse-scored.
func testDefinition(code string, licensed bool) instrument.Definition {
	opts := []instrument.Option{{Value: 0, Label: instrument.Text{ZH: "否", EN: "No"}}, {Value: 1, Label: instrument.Text{ZH: "有时", EN: "Sometimes"}},
		{Value: 2, Label: instrument.Text{ZH: "经常", EN: "Often"}}}
	return instrument.Definition{Code: code, Name: instrument.Text{ZH: "自编量表 " + code, EN: "Custom " + code},
		Stem: instrument.Text{ZH: "最近一周", EN: "In the last week"}, Options: opts,
		Items: []instrument.Item{{Code: "a", Text: instrument.Text{ZH: "我感到紧张", EN: "I felt tense"}},
			{Code: "b", Text: instrument.Text{ZH: "我睡得不好", EN: "I slept badly"}},
			{Code: "c", Text: instrument.Text{ZH: "我心情愉快", EN: "I felt cheerful"}, Reverse: true}},
		Bands: []instrument.Band{{Code: "low", Min: 0, Max: 2, Label: instrument.Text{ZH: "低", EN: "Low"}},
			{Code: "high", Min: 3, Max: 6, Label: instrument.Text{ZH: "高", EN: "High"}}},
		Licensed: licensed}
}

func (w *world) districtAdmin(t target) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE district_id = $1 AND scope_type = 'district' AND role = 'district_admin' LIMIT 1`, t.district)
	return scope.Actor{UserID: user, Username: "district_admin", DistrictID: t.district, Kind: scope.District, Roles: []string{scope.DistrictAdmin}}
}

// newInstrument stores a custom instrument in t's district through the service.
func (w *world) newInstrument(t target, code string, licensed bool) uuid.UUID {
	d := testDefinition(code, licensed)
	ins, err := w.screening.CreateInstrument(bg(), w.districtAdmin(t), t.district, screening.DefinitionInput{Definition: &d})
	if err != nil {
		w.t.Fatalf("create instrument: %v", err)
	}
	return ins.ID
}

func (w *world) newLicence(t target, code string) {
	if _, err := w.screening.RecordLicence(bg(), w.districtAdmin(t), t.district, screening.LicenceInput{InstrumentCode: code,
		Holder: "区心理辅导中心", Reference: "LIC-" + code, ValidUntil: time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}); err != nil {
		w.t.Fatalf("record licence: %v", err)
	}
}

// newCampaign opens a PHQ-9 campaign for every school of t's district.
func (w *world) newCampaign(t target, consent string, instruments ...uuid.UUID) uuid.UUID {
	if len(instruments) == 0 {
		instruments = []uuid.UUID{phq9ID}
	}
	var schools []uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		rows, _ := tx.Query(context.Background(), `SELECT id FROM schools WHERE district_id = $1`, t.district)
		schools, _ = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	})
	c, err := w.screening.CreateCampaign(bg(), w.districtAdmin(t), t.district, screening.CampaignInput{Title: "秋季心理测查",
		InstrumentIDs: instruments, SchoolIDs: schools, OpensAt: w.clock.Now().Add(-time.Hour), ClosesAt: w.clock.Now().AddDate(0, 0, 14),
		ConsentRule: consent, StudentMessage: "请根据最近两周的真实感受作答。"})
	if err != nil {
		w.t.Fatalf("create campaign: %v", err)
	}
	return c.ID
}

// newAssessment records a paper PHQ-9 for t's student with every item at v.
func (w *world) newAssessment(t target, v int) screening.Assessment {
	a, err := w.screening.RecordPaper(bg(), w.counselorActor(w.t, t.code), t.school, t.student, screening.PaperInput{InstrumentID: phq9ID, Answers: phq9Answers(v)})
	if err != nil {
		w.t.Fatalf("record assessment: %v", err)
	}
	return a
}

// newAlert records a PHQ-9 with item 9 answered 1 and returns its alert.
func (w *world) newAlert(t target) uuid.UUID {
	answers := phq9Answers(0)
	answers["9"] = 1
	a, err := w.screening.RecordPaper(bg(), w.counselorActor(w.t, t.code), t.school, t.student, screening.PaperInput{InstrumentID: phq9ID, Answers: answers})
	if err != nil {
		w.t.Fatalf("record assessment: %v", err)
	}
	return w.id(`SELECT id FROM screening_alerts WHERE school_id = $1 AND assessment_id = $2`, t.school, a.ID)
}

func (w *world) scalarText(sql string, args ...any) string {
	w.t.Helper()
	var s string
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
			w.t.Fatalf("%s: %v", sql, err)
		}
	})
	return s
}

// uuidFromPath returns the id that follows segment in path.
func uuidFromPath(path, segment string) uuid.UUID {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p == segment && i+1 < len(parts) {
			return uuid.MustParse(parts[i+1])
		}
	}
	return uuid.Nil
}

// issueCodes issues codes for t's homeroom as the counselor and returns them by student.
func (w *world) issueCodes(t target, campaign uuid.UUID) map[uuid.UUID]string {
	w.t.Helper()
	r := w.do(w.token("counselor."+t.code), "POST", fmt.Sprintf("/api/v1/schools/%s/campaigns/%s/codes", t.school, campaign),
		map[string]any{"homeroom_id": t.homeroom})
	if r.status != http.StatusCreated {
		w.t.Fatalf("issue codes: %d %s", r.status, r.body)
	}
	var sheet struct {
		Items []struct {
			StudentID uuid.UUID `json:"student_id"`
			Code      string    `json:"code"`
			URL       string    `json:"url"`
		} `json:"items"`
	}
	r.decode(w.t, &sheet)
	out := map[uuid.UUID]string{}
	for _, it := range sheet.Items {
		if !strings.HasPrefix(it.URL, "/s/") {
			w.t.Fatalf("code url %q", it.URL)
		}
		out[it.StudentID] = it.Code
	}
	return out
}

type form struct {
	Title       string `json:"title"`
	Instruments []struct {
		ID    uuid.UUID `json:"id"`
		Code  string    `json:"code"`
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	} `json:"instruments"`
}

func TestStudentAnswersPHQ9ByCodeAndTheCounselorIsAlertedTheSameDay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	campaign := w.newCampaign(s1, "none")
	codes := w.issueCodes(s1, campaign)
	code := codes[s1.student]
	if code == "" {
		t.Fatalf("no code for the student: %v", codes)
	}

	// The student page: questions, no scores, bands or labels; nothing is used up.
	r := w.do("", "GET", "/api/v1/s/"+code, nil)
	if r.status != 200 {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("student page is cacheable: %q", r.header.Get("Cache-Control"))
	}
	for _, leak := range []string{"band", "min", "max", "critical", "total", "severe", "重度"} {
		if strings.Contains(string(r.body), `"`+leak+`"`) || strings.Contains(string(r.body), leak+`"`) && leak == "重度" {
			t.Errorf("the student page shows %q: %s", leak, r.body)
		}
	}
	var f form
	r.decode(t, &f)
	if len(f.Instruments) != 1 || f.Instruments[0].Code != "phq9" || len(f.Instruments[0].Items) != 9 {
		t.Fatalf("form = %+v", f)
	}

	answers := phq9Answers(1)
	answers["9"] = 2
	r = w.do("", "POST", "/api/v1/s/"+strings.ToLower(code), map[string]any{"answers": map[string]any{f.Instruments[0].ID.String(): answers}})
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	for _, leak := range []string{"total", "band", "score", "critical"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("the thank-you page shows %q: %s", leak, r.body)
		}
	}

	// Scored on submit, with the instrument version.
	if n := w.scalar(`SELECT count(*) FROM assessments WHERE school_id = $1 AND student_id = $2 AND total = 10 AND band = 'moderate'
		AND instrument_version = 1 AND critical = '{9}' AND source = 'code'`, s1.school, s1.student); n != 1 {
		t.Fatalf("stored assessments = %d", n)
	}
	// The counselor sees the alert and has an inbox task due within the deadline.
	r = w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+s1.school.String()+"/screening-alerts", nil)
	var alerts struct {
		Items []screening.Alert `json:"items"`
	}
	r.decode(t, &alerts)
	if len(alerts.Items) != 1 || alerts.Items[0].Reason != "critical_item" || alerts.Items[0].StudentID != s1.student || alerts.Items[0].SuggestedTier != "high" {
		t.Fatalf("alerts = %+v", alerts.Items)
	}
	if d := alerts.Items[0].DueAt.Sub(alerts.Items[0].CreatedAt); d != 4*time.Hour {
		t.Errorf("deadline = %v, want 4h", d)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE school_id = $1 AND kind = 'screening_alert' AND subject_id = $2 AND done_at IS NULL`,
		s1.school, alerts.Items[0].ID); n < 1 {
		t.Fatalf("counselor tasks = %d", n)
	}

	// The code works once.
	for _, m := range []string{"GET", "POST"} {
		r = w.do("", m, "/api/v1/s/"+code, map[string]any{"answers": map[string]any{f.Instruments[0].ID.String(): answers}})
		if r.status != http.StatusConflict || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s a used code: %d %s", m, r.status, r.body)
		}
	}

	// Acknowledging opens the case file and closes every counselor's task.
	r = w.do(w.token("counselor.s1"), "POST", fmt.Sprintf("/api/v1/schools/%s/screening-alerts/%s/acknowledge", s1.school, alerts.Items[0].ID),
		map[string]any{"outcome": "case_opened", "open_case_file": true})
	var acked screening.Alert
	r.decode(t, &acked)
	if r.status != 200 || acked.CaseFileID == nil || acked.AcknowledgedAt == nil {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE school_id = $1 AND subject_id = $2 AND done_at IS NULL`, s1.school, acked.ID); n != 0 {
		t.Errorf("open alert tasks after acknowledgement = %d", n)
	}
	r = w.do(w.token("counselor.s1"), "POST", fmt.Sprintf("/api/v1/schools/%s/screening-alerts/%s/acknowledge", s1.school, acked.ID),
		map[string]any{"outcome": "monitoring"})
	if r.status != http.StatusConflict {
		t.Errorf("second acknowledgement: %d", r.status)
	}
	// The answers are sealed at rest.
	if n := w.scalar(`SELECT count(*) FROM assessments WHERE school_id = $1 AND position(convert_to('"9":', 'UTF8') in answers) > 0`, s1.school); n != 0 {
		t.Errorf("answers stored in clear")
	}
	// The counselor reads the sheet with its answers; reading is audited.
	r = w.do(w.token("counselor.s1"), "GET", fmt.Sprintf("/api/v1/schools/%s/assessments/%s", s1.school, alerts.Items[0].AssessmentID), nil)
	var sheet screening.Assessment
	r.decode(t, &sheet)
	if sheet.Answers["9"] != 2 || sheet.BandLabel.ZH != "中度" {
		t.Errorf("sheet = %+v", sheet)
	}
	if w.auditCount("assessments.read", "allowed") != 1 {
		t.Errorf("reading a sheet is not audited")
	}
}

func TestACodeIsUsedExactlyOnceUnderConcurrentSubmission(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	campaign := w.newCampaign(s1, "none")
	code := w.issueCodes(s1, campaign)[s1.student]
	body := map[string]any{"answers": map[string]any{phq9ID.String(): phq9Answers(0)}}
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses <- w.do("", "POST", "/api/v1/s/"+code, body).status
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("statuses = %v, want exactly one 201 and %d × 409", count, n-1)
	}
	if got := w.scalar(`SELECT count(*) FROM assessments WHERE school_id = $1 AND student_id = $2`, s1.school, s1.student); got != 1 {
		t.Fatalf("assessments = %d", got)
	}
}

func TestStudentPageBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	campaign := w.newCampaign(s1, "none")
	codes := w.issueCodes(s1, campaign)
	code := codes[s1.student]
	missing := phq9Answers(0)
	delete(missing, "9")
	delete(missing, "3")
	outOfRange := phq9Answers(0)
	outOfRange["2"] = 4
	extra := phq9Answers(0)
	extra["10"] = 1
	cases := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"missing items are named", map[string]any{"answers": map[string]any{phq9ID.String(): missing}}, 422,
			[]string{"answers." + phq9ID.String() + ".3", "answers." + phq9ID.String() + ".9"}},
		{"an answer out of range", map[string]any{"answers": map[string]any{phq9ID.String(): outOfRange}}, 422, []string{"answers." + phq9ID.String() + ".2"}},
		{"an unknown item", map[string]any{"answers": map[string]any{phq9ID.String(): extra}}, 422, []string{"answers." + phq9ID.String() + ".10"}},
		{"an instrument not in the questionnaire", map[string]any{"answers": map[string]any{phq9ID.String(): phq9Answers(0), gad7ID.String(): map[string]int{"1": 0}}}, 422,
			[]string{"answers." + gad7ID.String()}},
		{"no answers at all", map[string]any{"answers": map[string]any{}}, 422, []string{"answers." + phq9ID.String() + ".1"}},
		{"a string instead of a number", `{"answers":{"` + phq9ID.String() + `":{"1":"x"}}}`, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r = w.do("", "POST", "/api/v1/s/"+code, c.body)
			if r.status != c.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			p := w.problem(t, r)
			for _, f := range c.fields {
				found := false
				for _, e := range p.Errors {
					found = found || e.Field == f
				}
				if !found {
					t.Errorf("field %s not named: %+v", f, p.Errors)
				}
			}
		})
	}
	if n := w.scalar(`SELECT count(*) FROM assessments WHERE school_id = $1`, s1.school); n != 0 {
		t.Fatalf("bad input stored %d assessments", n)
	}
	if n := w.scalar(`SELECT count(*) FROM screening_codes WHERE school_id = $1 AND used_at IS NOT NULL`, s1.school); n != 0 {
		t.Fatalf("bad input used up a code")
	}
	// Unknown, revoked and expired codes.
	if r := w.do("", "GET", "/api/v1/s/ABCD-EFGH-JK", nil); r.status != 404 {
		t.Errorf("unknown code: %d", r.status)
	}
	if r := w.do("", "GET", "/api/v1/s/not-a-code!", nil); r.status != 404 {
		t.Errorf("malformed code: %d", r.status)
	}
	fresh := w.issueCodes(s1, campaign) // re-issuing ends the earlier codes
	if r := w.do("", "GET", "/api/v1/s/"+code, nil); r.status != http.StatusGone {
		t.Errorf("replaced code: %d", r.status)
	}
	w.clock.Advance(15 * 24 * time.Hour) // the window has closed
	if r := w.do("", "POST", "/api/v1/s/"+fresh[s1.student], map[string]any{"answers": map[string]any{phq9ID.String(): phq9Answers(0)}}); r.status != http.StatusGone {
		t.Errorf("code after the window: %d %s", r.status, r.body)
	}
}

func TestGuessingCodesIsRateLimited(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(w *world) {
		w.codeLimits = &httpapi.CodeLimiter{Requests: rate.Inf, Burst: 1, Misses: rate.Every(time.Hour), MissBurst: 5}
	})
	s1 := w.target("s1")
	code := w.issueCodes(s1, w.newCampaign(s1, "none"))[s1.student]
	for i := range 5 {
		if r := w.do("", "GET", fmt.Sprintf("/api/v1/s/ZZZZ-ZZZZ-%02d", 22+i), nil); r.status != 404 {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	r := w.do("", "GET", "/api/v1/s/"+code, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong guesses even a right code must wait: %d", r.status)
	}
	if p := w.problem(t, r); p.Status != 429 {
		t.Errorf("problem = %+v", p)
	}
}

func TestInstrumentVersionsAreImmutableOnceUsed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	admin := w.token("district.admin")
	base := "/api/v1/districts/" + s1.district.String() + "/instruments"
	d := testDefinition("mood3", false)
	r := w.do(admin, "POST", base, map[string]any{"definition": d})
	var v1 screening.Instrument
	r.decode(t, &v1)
	if r.status != 201 || v1.Version != 1 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	// Unused: edited in place.
	d.Name.ZH = "情绪三题"
	r = w.do(admin, "PUT", base+"/"+v1.ID.String(), map[string]any{"definition": d})
	var edited screening.Instrument
	r.decode(t, &edited)
	if r.status != 200 || edited.ID != v1.ID || edited.Version != 1 || edited.Name.ZH != "情绪三题" {
		t.Fatalf("edit unused: %d %s", r.status, r.body)
	}
	// Used by a sheet: the edit makes version 2; the sheet keeps version 1.
	sheet, err := w.screening.RecordPaper(bg(), w.counselorActor(t, "s1"), s1.school, s1.student,
		screening.PaperInput{InstrumentID: v1.ID, Answers: map[string]int{"a": 2, "b": 1, "c": 0}})
	if err != nil {
		t.Fatal(err)
	}
	if sheet.Total != 5 || sheet.Band != "high" { // c reversed: 2 − 0 = 2
		t.Fatalf("sheet = %+v", sheet)
	}
	d.Bands[1].Label.ZH = "偏高"
	r = w.do(admin, "PUT", base+"/"+v1.ID.String(), map[string]any{"definition": d})
	var v2 screening.Instrument
	r.decode(t, &v2)
	if r.status != 200 || v2.ID == v1.ID || v2.Version != 2 {
		t.Fatalf("edit used: %d %s", r.status, r.body)
	}
	if got := w.scalarText(`SELECT definition->'bands'->1->'label'->>'zh' FROM instruments WHERE id = $1`, v1.ID); got != "高" {
		t.Errorf("version 1 changed: %q", got)
	}
	if n := w.scalar(`SELECT instrument_version FROM assessments WHERE id = $1`, sheet.ID); n != 1 {
		t.Errorf("the sheet's version = %d", n)
	}
	// Even a direct UPDATE by the application role cannot change a used version.
	err = w.db.App.InTx(bg(), w.districtAdmin(s1), func(tx pgx.Tx) error {
		_, err := tx.Exec(bg(), `UPDATE instruments SET definition = '{}' WHERE id = $1`, v1.ID)
		return err
	})
	if err == nil {
		t.Fatal("a used version was changed in the database")
	}
	// Editing the old version once a newer one exists is refused; built-ins are read-only.
	if r := w.do(admin, "PUT", base+"/"+v1.ID.String(), map[string]any{"definition": d}); r.status != 409 {
		t.Errorf("edit of a superseded version: %d", r.status)
	}
	if r := w.do(admin, "PUT", base+"/"+phq9ID.String(), map[string]any{"definition": instrument.PHQ9()}); r.status != 409 {
		t.Errorf("edit of a built-in: %d", r.status)
	}
	// The list shows the latest version of each code.
	r = w.do(admin, "GET", base, nil)
	var list struct {
		Items []screening.Instrument `json:"items"`
	}
	r.decode(t, &list)
	var codes []string
	for _, it := range list.Items {
		codes = append(codes, fmt.Sprintf("%s@%d", it.Code, it.Version))
	}
	if strings.Join(codes, ",") != "gad7@1,phq9@1,mood3@2" {
		t.Errorf("list = %v", codes)
	}
}

func TestBuiltinInstrumentRowsMatchTheCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for id, d := range map[uuid.UUID]instrument.Definition{phq9ID: instrument.PHQ9(), gad7ID: instrument.GAD7()} {
		want, _ := json.Marshal(d)
		var same bool
		w.ownerQuery(func(tx pgx.Tx) {
			if err := tx.QueryRow(bg(), `SELECT definition = $2::jsonb FROM instruments WHERE id = $1 AND district_id IS NULL`, id, string(want)).Scan(&same); err != nil {
				t.Fatal(err)
			}
		})
		if !same {
			t.Errorf("built-in %s in migration 00019 differs from instrument.%s()", d.Code, strings.ToUpper(d.Code))
		}
	}
}

func TestInstrumentDefinitionErrorsAreNamed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	admin := w.token("district.admin")
	base := "/api/v1/districts/" + s1.district.String() + "/instruments"
	bad := testDefinition("bad", false)
	bad.Items[1].Code = "a"
	bad.Bands[1].Min = 4
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no definition", map[string]any{}, 422, "definition"},
		{"a built-in code", map[string]any{"definition": testDefinition("phq9", false)}, 422, "definition.code"},
		{"duplicate items and a gap in the bands", map[string]any{"definition": bad}, 422, "definition.items[1].code"},
		{"malformed JSON", `{"definition": {"items": 3}}`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{base, base + "/validate"} {
				r := w.do(admin, "POST", path, c.body)
				if r.status != c.status {
					t.Fatalf("%s: %d %s", path, r.status, r.body)
				}
				if c.field != "" && !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
					t.Errorf("%s: field %s not named: %s", path, c.field, r.body)
				}
			}
		})
	}
	if n := w.scalar(`SELECT count(*) FROM instruments WHERE district_id IS NOT NULL`); n != 0 {
		t.Fatalf("bad definitions stored %d rows", n)
	}
	r := w.do(admin, "POST", base+"/validate", map[string]any{"definition": instrument.GAD7()})
	if r.status != 422 { // a built-in code
		t.Errorf("validate a built-in: %d", r.status)
	}
	r = w.do(admin, "POST", base+"/validate", map[string]any{"definition": testDefinition("ok", false)})
	if r.status != 200 || !strings.Contains(string(r.body), `"total_max":6`) {
		t.Errorf("validate: %d %s", r.status, r.body)
	}
}

func TestLicensedInstrumentsNeedALicenceBeforeASchoolUsesThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1, s2 := w.target("s1"), w.target("s2")
	admin := w.token("district.admin")
	d := "/api/v1/districts/" + s1.district.String()
	scl := w.newInstrument(s1, "scl90", true)
	r := w.do(admin, "POST", d+"/instrument-enablements", map[string]any{"school_id": s1.school, "instrument_code": "scl90"})
	if r.status != 409 || !strings.Contains(string(r.body), "licence") {
		t.Fatalf("enable without licence: %d %s", r.status, r.body)
	}
	// Paper entry and campaigns refuse it too.
	if _, err := w.screening.RecordPaper(bg(), w.counselorActor(t, "s1"), s1.school, s1.student,
		screening.PaperInput{InstrumentID: scl, Answers: map[string]int{"a": 0, "b": 0, "c": 0}}); err == nil {
		t.Fatal("a school used a licensed instrument without a licence")
	}
	campaign := map[string]any{"title": "SCL", "instrument_ids": []uuid.UUID{scl}, "school_ids": []uuid.UUID{s1.school, s2.school},
		"opens_at": time.Now(), "closes_at": time.Now().AddDate(0, 0, 7), "consent_rule": "opt_in"}
	if r := w.do(admin, "POST", d+"/campaigns", campaign); r.status != 409 {
		t.Fatalf("campaign with an unlicensed instrument: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", d+"/instrument-licences", map[string]any{"instrument_code": "scl90", "holder": "区中心", "reference": "合同 2026-18",
		"valid_until": time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}); r.status != 201 {
		t.Fatalf("record licence: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", d+"/instrument-enablements", map[string]any{"school_id": s1.school, "instrument_code": "scl90"}); r.status != 201 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	// s2 is not enabled yet: the campaign for both is still refused; for s1 alone it runs.
	if r := w.do(admin, "POST", d+"/campaigns", campaign); r.status != 409 {
		t.Fatalf("campaign for a school without the instrument: %d", r.status)
	}
	campaign["school_ids"] = []uuid.UUID{s1.school}
	if r := w.do(admin, "POST", d+"/campaigns", campaign); r.status != 201 {
		t.Fatalf("campaign: %d %s", r.status, r.body)
	}
	if _, err := w.screening.RecordPaper(bg(), w.counselorActor(t, "s1"), s1.school, s1.student,
		screening.PaperInput{InstrumentID: scl, Answers: map[string]int{"a": 0, "b": 0, "c": 0}}); err != nil {
		t.Fatalf("licensed and enabled: %v", err)
	}
	// Public-domain instruments need nothing.
	if r := w.do(admin, "POST", d+"/instrument-enablements", map[string]any{"school_id": s1.school, "instrument_code": "phq9"}); r.status != 422 {
		t.Errorf("enable a public instrument: %d", r.status)
	}
}

func TestUnacknowledgedAlertsEscalateOnceToTheLeaderThenTheDistrict(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	alert := w.newAlert(s1)
	steps := func() int {
		n, err := w.screening.EscalateOverdue(bg())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	level := func() string {
		return w.scalarText(`SELECT escalation FROM screening_alerts WHERE id = $1`, alert)
	}
	supervisor := w.token("district.supervisor")
	board := func() []screening.Escalation {
		r := w.do(supervisor, "GET", "/api/v1/districts/"+s1.district.String()+"/screening-escalations", nil)
		if r.status != 200 {
			t.Fatalf("board: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), s1.student.String()) || strings.Contains(string(r.body), s1.studentNumber) {
			t.Fatalf("the district board identifies the student: %s", r.body)
		}
		var b struct {
			Items []screening.Escalation `json:"items"`
		}
		r.decode(t, &b)
		return b.Items
	}
	if n := steps(); n != 0 || level() != "none" {
		t.Fatalf("before the deadline: %d steps, level %s", n, level())
	}
	w.clock.Advance(4*time.Hour + time.Minute)
	if n := steps(); n != 1 || level() != "leader" {
		t.Fatalf("after the deadline: %d steps, level %s", n, level())
	}
	if n := steps(); n != 0 {
		t.Fatalf("a repeated run took %d more steps", n)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items i JOIN users u ON u.id = i.user_id
		WHERE i.school_id = $1 AND u.username = 'leader.s1' AND i.kind = 'screening_alert_escalated'`, s1.school); n != 1 {
		t.Fatalf("leader tasks = %d", n)
	}
	if len(board()) != 0 {
		t.Fatal("the district sees an alert that was not escalated to it")
	}
	w.clock.Advance(4 * time.Hour)
	if n := steps(); n != 1 || level() != "district" {
		t.Fatalf("after the leader's time: %d steps, level %s", n, level())
	}
	if b := board(); len(b) != 1 || b[0].AlertID != alert || b[0].SchoolID != s1.school {
		t.Fatalf("board = %+v", b)
	}
	if n := steps(); n != 0 {
		t.Fatalf("a run after the last level took %d steps", n)
	}
	// An alert acknowledged in time never escalates.
	other := w.newAlert(s1)
	if _, err := w.screening.Acknowledge(bg(), w.counselorActor(t, "s1"), s1.school, other, screening.AckInput{Outcome: "monitoring"}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(24 * time.Hour)
	steps()
	if got := w.scalarText(`SELECT escalation FROM screening_alerts WHERE id = $1`, other); got != "none" {
		t.Fatalf("an acknowledged alert escalated to %s", got)
	}
}

func TestTheCriticalItemAlertCannotBeTurnedOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	admin := w.token("district.admin")
	// No band thresholds at all.
	r := w.do(admin, "PUT", "/api/v1/districts/"+s1.district.String()+"/screening-settings",
		map[string]any{"alert_deadline_minutes": 60, "leader_escalation_minutes": 120, "thresholds": map[string]string{}, "help_contacts": ""})
	if r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	severe := w.newAssessment(s1, 3) // total 27, severe, item 9 = 3
	if severe.Band != "severe" {
		t.Fatalf("band = %s", severe.Band)
	}
	if reason := w.scalarText(`SELECT reason FROM screening_alerts WHERE assessment_id = $1`, severe.ID); reason != "critical_item" {
		t.Fatalf("reason = %s", reason)
	}
	if n := w.scalar(`SELECT extract(epoch FROM due_at - created_at)::int / 60 FROM screening_alerts WHERE assessment_id = $1`, severe.ID); n != 60 {
		t.Errorf("deadline = %d minutes, want the district's 60", n)
	}
	// With a threshold, a band raises an alert without a critical item.
	r = w.do(admin, "PUT", "/api/v1/districts/"+s1.district.String()+"/screening-settings",
		map[string]any{"alert_deadline_minutes": 240, "leader_escalation_minutes": 240, "thresholds": map[string]string{"phq9": "moderate"}, "help_contacts": ""})
	if r.status != 200 {
		t.Fatal(r.status)
	}
	answers := phq9Answers(2)
	answers["9"] = 0 // total 16: moderately severe
	a, err := w.screening.RecordPaper(bg(), w.counselorActor(t, "s1"), s1.school, s1.student, screening.PaperInput{InstrumentID: phq9ID, Answers: answers})
	if err != nil {
		t.Fatal(err)
	}
	if reason := w.scalarText(`SELECT reason || '/' || suggested_tier FROM screening_alerts WHERE assessment_id = $1`, a.ID); reason != "band/elevated" {
		t.Fatalf("band alert = %s", reason)
	}
	mild := w.newAssessment(s1, 0)
	if n := w.scalar(`SELECT count(*) FROM screening_alerts WHERE assessment_id = $1`, mild.ID); n != 0 {
		t.Fatal("a minimal sheet raised an alert")
	}
	// Bad settings.
	for _, body := range []map[string]any{
		{"alert_deadline_minutes": 5, "leader_escalation_minutes": 240, "thresholds": map[string]string{}},
		{"alert_deadline_minutes": 240, "leader_escalation_minutes": 240, "thresholds": map[string]string{"phq9": "catastrophic"}},
	} {
		if r := w.do(admin, "PUT", "/api/v1/districts/"+s1.district.String()+"/screening-settings", body); r.status != 422 {
			t.Errorf("%v: %d", body, r.status)
		}
	}
}

func TestDistrictProgressShowsOnlySuppressedCounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	campaign := w.newCampaign(s1, "opt_out")
	codes := w.issueCodes(s1, campaign)
	if len(codes) < 2 {
		t.Fatalf("codes = %d", len(codes))
	}
	done := 0
	for student, code := range codes {
		if done == len(codes)-1 { // leave one student to refuse below
			break
		}
		if r := w.do("", "POST", "/api/v1/s/"+code, map[string]any{"answers": map[string]any{phq9ID.String(): phq9Answers(0)}}); r.status != 201 {
			t.Fatalf("submit for %s: %d %s", student, r.status, r.body)
		}
		done++
	}
	r := w.do(w.token("district.supervisor"), "GET", fmt.Sprintf("/api/v1/districts/%s/campaigns/%s/progress", s1.district, campaign), nil)
	if r.status != 200 {
		t.Fatalf("progress: %d %s", r.status, r.body)
	}
	var p screening.DistrictProgress
	r.decode(t, &p)
	var completed []string
	for _, sc := range p.Schools {
		for _, g := range sc.Grades {
			if sc.SchoolID == s1.school && g.Grade == s1.gradeName {
				completed = append(completed, g.Completed)
			}
		}
	}
	if strings.Join(completed, ",") != "<5" {
		t.Fatalf("completed in %s = %v: %s", s1.gradeName, completed, r.body)
	}
	if len(p.Bands) != 1 || p.Bands[0].Band != "minimal" || p.Bands[0].Count != "<5" {
		t.Fatalf("bands = %+v", p.Bands)
	}
	for student := range codes {
		if strings.Contains(string(r.body), student.String()) {
			t.Fatal("the district view names a student")
		}
	}
	// The school sees exact numbers per homeroom.
	r = w.do(w.token("leader.s1"), "GET", fmt.Sprintf("/api/v1/schools/%s/campaigns/%s/progress", s1.school, campaign), nil)
	var hp struct {
		Items []screening.HomeroomProgress `json:"items"`
	}
	r.decode(t, &hp)
	found := false
	for _, h := range hp.Items {
		if h.HomeroomID == s1.homeroom {
			found = h.Completed == int64(done) && h.Eligible == int64(len(codes))
		}
	}
	if !found {
		t.Fatalf("homeroom progress = %+v", hp.Items)
	}
	// A guardian's refusal (opt-out) makes the student ineligible and ends the code.
	var refused uuid.UUID
	for student := range codes {
		if w.scalar(`SELECT count(*) FROM assessments WHERE student_id = $1`, student) == 0 {
			refused = student
			break
		}
	}
	r = w.do(w.token("counselor.s1"), "PUT", fmt.Sprintf("/api/v1/schools/%s/campaigns/%s/consents/%s", s1.school, campaign, refused),
		map[string]any{"status": "refused", "guardian": "父亲"})
	var entry screening.RosterEntry
	r.decode(t, &entry)
	if r.status != 200 || entry.Eligible || entry.Consent != "refused" {
		t.Fatalf("refusal: %d %s", r.status, r.body)
	}
	if r := w.do("", "GET", "/api/v1/s/"+codes[refused], nil); r.status != http.StatusGone {
		t.Errorf("the code of a refused student: %d", r.status)
	}
}

func TestStudentTrendWithReliableChange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	d := testDefinition("rc3", false)
	d.ReliableChange = &instrument.ReliableChange{SD: 1, Reliability: 0.5}
	ins, err := w.screening.CreateInstrument(bg(), w.districtAdmin(s1), s1.district, screening.DefinitionInput{Definition: &d})
	if err != nil {
		t.Fatal(err)
	}
	c := w.counselorActor(t, "s1")
	for _, ans := range []map[string]int{{"a": 0, "b": 0, "c": 2}, {"a": 2, "b": 2, "c": 0}, {"a": 2, "b": 2, "c": 1}} {
		if _, err := w.screening.RecordPaper(bg(), c, s1.school, s1.student, screening.PaperInput{InstrumentID: ins.ID, Answers: ans}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
	}
	w.newAssessment(s1, 0)
	r := w.do(w.token("counselor.s1"), "GET", fmt.Sprintf("/api/v1/schools/%s/students/%s/assessments", s1.school, s1.student), nil)
	var h screening.History
	r.decode(t, &h)
	if len(h.Items) != 4 || len(h.Trend) != 2 {
		t.Fatalf("history: %s", r.body)
	}
	pts := h.Trend[0].Points
	if h.Trend[0].InstrumentCode != "rc3" || len(pts) != 3 || pts[0].RCI != nil {
		t.Fatalf("trend = %+v", h.Trend[0])
	}
	// 0 → 6: (6 − 0) / (1 · √2 · √0.5) = 6; 6 → 5: −1.
	if math.Abs(*pts[1].RCI-6) > 1e-9 || pts[1].ReliableChange != "worsened" || math.Abs(*pts[2].RCI+1) > 1e-9 || pts[2].ReliableChange != "none" {
		t.Fatalf("rci = %v %s, %v %s", *pts[1].RCI, pts[1].ReliableChange, *pts[2].RCI, pts[2].ReliableChange)
	}
	if h.Trend[1].InstrumentCode != "phq9" || h.Trend[1].Points[0].RCI != nil {
		t.Fatalf("PHQ-9 defines no RCI: %+v", h.Trend[1])
	}
	if strings.Contains(string(r.body), `"answers"`) {
		t.Error("the history carries item answers")
	}
}

func TestCampaignAndPaperEntryBadInputChangeNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	admin := w.token("district.admin")
	now := time.Now()
	valid := func() map[string]any {
		return map[string]any{"title": "测查", "instrument_ids": []uuid.UUID{phq9ID}, "school_ids": []uuid.UUID{s1.school},
			"opens_at": now, "closes_at": now.AddDate(0, 0, 7), "consent_rule": "opt_in"}
	}
	foreign := w.target("d2.s1")
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"no title", func(m map[string]any) { m["title"] = " " }, "title"},
		{"no instrument", func(m map[string]any) { m["instrument_ids"] = []uuid.UUID{} }, "instrument_ids"},
		{"an instrument twice", func(m map[string]any) { m["instrument_ids"] = []uuid.UUID{phq9ID, phq9ID} }, "instrument_ids"},
		{"an unknown instrument", func(m map[string]any) { m["instrument_ids"] = []uuid.UUID{uuid.New()} }, "instrument_ids[0]"},
		{"a school of another district", func(m map[string]any) { m["school_ids"] = []uuid.UUID{foreign.school} }, "school_ids"},
		{"closing before opening", func(m map[string]any) { m["closes_at"] = now.Add(-time.Hour) }, "closes_at"},
		{"an unknown consent rule", func(m map[string]any) { m["consent_rule"] = "maybe" }, "consent_rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := valid()
			c.edit(m)
			r := w.do(admin, "POST", "/api/v1/districts/"+s1.district.String()+"/campaigns", m)
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	if n := w.scalar(`SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatalf("bad campaigns stored: %d", n)
	}
	counselor := w.token("counselor.s1")
	path := fmt.Sprintf("/api/v1/schools/%s/students/%s/assessments", s1.school, s1.student)
	short := phq9Answers(1)
	delete(short, "5")
	for _, c := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"a missing item is named", map[string]any{"instrument_id": phq9ID, "answers": short}, 422, "answers.5"},
		{"no instrument", map[string]any{"answers": phq9Answers(0)}, 422, "instrument_id"},
		{"a date in the future", map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0), "taken_on": now.AddDate(0, 0, 3).Format(time.DateOnly)}, 422, "taken_on"},
		{"a campaign of no school", map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0), "campaign_id": uuid.New()}, 422, "campaign_id"},
		{"an unknown field", map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0), "score": 3}, 422, "score"},
	} {
		r := w.do(counselor, "POST", path, c.body)
		if r.status != c.status || (c.field != "" && !strings.Contains(string(r.body), `"field":"`+c.field+`"`)) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM assessments`); n != 0 {
		t.Fatalf("bad sheets stored: %d", n)
	}
	// A campaign sheet entered twice is a conflict; an ineligible student (no opt-in) too.
	campaign := w.newCampaign(s1, "opt_in")
	if r := w.do(counselor, "POST", path, map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0), "campaign_id": campaign}); r.status != 409 {
		t.Errorf("sheet without guardian opt-in: %d %s", r.status, r.body)
	}
	w.do(counselor, "PUT", fmt.Sprintf("/api/v1/schools/%s/campaigns/%s/consents/%s", s1.school, campaign, s1.student), map[string]any{"status": "granted"})
	if r := w.do(counselor, "POST", path, map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0), "campaign_id": campaign}); r.status != 201 {
		t.Fatalf("paper sheet: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", path, map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(1), "campaign_id": campaign}); r.status != 409 {
		t.Errorf("second sheet in one campaign: %d %s", r.status, r.body)
	}
}

func TestCodeSheetXLSXHoldsTheCodesThatWork(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	campaign := w.newCampaign(s1, "none")
	r := w.do(w.token("counselor.s1"), "POST", fmt.Sprintf("/api/v1/schools/%s/campaigns/%s/codes.xlsx", s1.school, campaign),
		map[string]any{"homeroom_id": s1.homeroom})
	if r.status != 201 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("xlsx: %d %v", r.status, r.header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("测查码")
	if err != nil || len(rows) < 2 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	if rows[1][0] != s1.studentNumber {
		t.Errorf("first row = %v", rows[1])
	}
	if got := w.do("", "GET", "/api/v1/s/"+rows[1][3], nil); got.status != 200 {
		t.Fatalf("the printed code does not open the page: %d", got.status)
	}
	if !strings.HasSuffix(rows[1][4], "/s/"+strings.ReplaceAll(rows[1][3], "-", "")) {
		t.Errorf("url = %s", rows[1][4])
	}
}
