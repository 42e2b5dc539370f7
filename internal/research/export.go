package research

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/parquet-go/parquet-go"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fault.Wrap(err, "decode")
	}
	return nil
}

// Report says what the export generalized and suppressed to reach k-anonymity.
type Report struct {
	K               int      `json:"k"`
	QuasiIDs        []string `json:"quasi_identifiers"`
	Generalizations []string `json:"generalizations"`
	RowsIn          int      `json:"rows_in"`
	RowsSuppressed  int      `json:"rows_suppressed"`
	RowsOut         int      `json:"rows_out"`
	Classes         int      `json:"equivalence_classes"`
	SmallestClass   int      `json:"smallest_class"`
}

var jobActor = scope.Actor{Kind: "jobs", Username: "system:research_export"}

type source struct {
	student                     uuid.UUID
	school, grade, gender       string
	birthYear, year             int
	hasCaseFile                 bool
	maxTier                     string
	sessions, crises, referrals int64
	phq9, gad7                  *string
}

// row is one output record: field name → value (strings, ints, bools).
type row map[string]any

// Run builds the export of an approved request (the job). It is idempotent: a ready or
// rejected request is left alone, and a retried run rewrites the same objects.
func (s *Service) Run(ctx context.Context, district, id uuid.UUID, progress func(int)) error {
	if progress == nil {
		progress = func(int) {}
	}
	var req Request
	err := s.DB.InTx(ctx, jobActor, func(tx pgx.Tx) error {
		var err error
		if req, err = get(ctx, tx, district, id); err != nil {
			return err
		}
		if req.Status != "approved" && req.Status != "running" && req.Status != "failed" {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE research_requests SET status = 'running', progress = 5 WHERE district_id = $1 AND id = $2`, district, id)
		req.Status = "running"
		return database.MapError(err)
	})
	if err != nil || req.Status != "running" {
		return err
	}
	progress(5)
	var src []source
	err = s.DB.InTx(ctx, jobActor, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT student_id, school_code, grade, gender, birth_year, year, has_case_file, max_tier, sessions, crises, referrals,
			phq9_band, gad7_band FROM research_rows($1, $2)`, district, id)
		if err != nil {
			return database.MapError(err)
		}
		src, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (source, error) {
			var x source
			return x, r.Scan(&x.student, &x.school, &x.grade, &x.gender, &x.birthYear, &x.year, &x.hasCaseFile, &x.maxTier, &x.sessions, &x.crises,
				&x.referrals, &x.phq9, &x.gad7)
		})
		return database.MapError(err)
	})
	if err != nil {
		return err
	}
	progress(30)
	s.setProgress(ctx, district, id, 30)
	var key []byte
	if req.Longitudinal {
		if key, err = s.longitudinalKey(ctx, district); err != nil {
			return err
		}
	} else {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fault.Wrap(err, "export key")
		}
	}
	out, report := build(src, req.Fields, req.K, key)
	// An ordinary export's key exists only in this run: it cannot be linked to any other.
	// The longitudinal key stays sealed in research_keys; this copy goes too.
	clear(key)
	progress(60)
	s.setProgress(ctx, district, id, 60)
	files, err := render(out, req.Fields, report)
	if err != nil {
		return err
	}
	var listed []File
	for _, f := range files {
		k := "research/" + id.String() + "/" + f.Name
		if err := s.Objects.Put(ctx, district, k, bytes.NewReader(f.data), int64(len(f.data)), f.contentType); err != nil {
			return err
		}
		listed = append(listed, File{Name: f.Name, Size: int64(len(f.data)), SHA256: f.sum})
	}
	progress(90)
	available := s.Available
	if available <= 0 {
		available = 14 * 24 * time.Hour
	}
	return s.DB.InTx(ctx, jobActor, func(tx pgx.Tx) error {
		fj, _ := json.Marshal(listed)
		rj, _ := json.Marshal(report)
		now := s.now()
		tag, err := tx.Exec(ctx, `UPDATE research_requests SET status = 'ready', progress = 100, files = $3, report = $4, rows_exported = $5,
			ready_at = $6, expires_at = $7 WHERE district_id = $1 AND id = $2 AND status = 'running'`, district, id, fj, rj, report.RowsOut, now, now.Add(available))
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			return nil // a concurrent run (a re-sent task) finished first: its export and audit row stand
		}
		sys := scope.Actor{DistrictID: district, Kind: scope.District, Username: "system:research_export"}
		if err := database.SetScope(ctx, tx, sys); err != nil {
			return fault.Wrap(err, "scope")
		}
		return audit.Record(ctx, tx, sys, audit.Entry{Action: "research.export", ObjectType: "research_request", ObjectID: id.String(), Reason: strconv.Itoa(report.RowsOut) + " rows"})
	})
}

// longitudinalKey returns the district's persistent research key, creating (and sealing)
// it on first use.
func (s *Service) longitudinalKey(ctx context.Context, district uuid.UUID) ([]byte, error) {
	if s.Keys == nil {
		return nil, fault.New(fault.Internal, "no keyring for the longitudinal research key")
	}
	aad := []byte("xinqiao-research-key|" + district.String())
	var key []byte
	err := s.DB.InTx(ctx, jobActor, func(tx pgx.Tx) error {
		for range 2 {
			var master string
			var sealed []byte
			err := tx.QueryRow(ctx, `SELECT master_key_id, sealed FROM research_keys WHERE district_id = $1`, district).Scan(&master, &sealed)
			if err == nil {
				key, err = s.Keys.Open(master, sealed, aad)
				return err
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return database.MapError(err)
			}
			fresh := make([]byte, 32)
			if _, err := rand.Read(fresh); err != nil {
				return fault.Wrap(err, "research key")
			}
			master, sealed, err = s.Keys.Seal(fresh, aad)
			clear(fresh)
			if err != nil {
				return err
			}
			// Another run may create it at the same time: read back whichever won.
			if _, err := tx.Exec(ctx, `INSERT INTO research_keys (district_id, master_key_id, sealed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				district, master, sealed); err != nil {
				return database.MapError(err)
			}
		}
		return fault.New(fault.Internal, "research key not stored")
	})
	return key, err
}

func (s *Service) setProgress(ctx context.Context, district, id uuid.UUID, pct int) {
	_ = s.DB.InTx(ctx, jobActor, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE research_requests SET progress = $3 WHERE district_id = $1 AND id = $2`, district, id, pct)
		return err
	})
}

func pseudonym(key []byte, kind, v string, n int) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind + ":" + v))
	return hex.EncodeToString(m.Sum(nil))[:n]
}

// AgeBand is the band of an age (fine bands; generalization widens them).
func AgeBand(age int, wide bool) string {
	switch {
	case age >= 18:
		return "18+"
	case wide && age >= 12:
		return "12-17"
	case wide:
		return "6-11"
	case age >= 15:
		return "15-17"
	case age >= 12:
		return "12-14"
	case age >= 9:
		return "9-11"
	default:
		return "6-8"
	}
}

// Stage generalizes a grade name to a school stage.
func Stage(grade string) string {
	switch {
	case strings.ContainsAny(grade, "一二三四五六") && strings.Contains(grade, "年级") && !strings.HasPrefix(grade, "高"):
		return "primary"
	case strings.ContainsAny(grade, "七八九") || strings.HasPrefix(grade, "初"):
		return "junior"
	case strings.HasPrefix(grade, "高"):
		return "senior"
	default:
		return "other"
	}
}

// steps are the global recodings tried, in order, until every class holds k rows.
var steps = []string{"school→*", "grade→stage", "age_band→wide", "gender→*", "grade→*"}

func build(src []source, fields []string, k int, key []byte) ([]row, Report) {
	quasi := []string{}
	for _, f := range Codebook {
		if f.Quasi && slices.Contains(fields, f.Name) {
			quasi = append(quasi, f.Name)
		}
	}
	rep := Report{K: k, QuasiIDs: quasi, Generalizations: []string{}, RowsIn: len(src)}
	applied := map[string]bool{}
	qi := func(x source) map[string]string {
		m := map[string]string{}
		for _, q := range quasi {
			switch q {
			case "school":
				m[q] = pseudonym(key, "school", x.school, 8)
				if applied["school→*"] {
					m[q] = "*"
				}
			case "grade":
				m[q] = x.grade
				if applied["grade→stage"] {
					m[q] = Stage(x.grade)
				}
				if applied["grade→*"] {
					m[q] = "*"
				}
			case "gender":
				m[q] = x.gender
				if applied["gender→*"] {
					m[q] = "*"
				}
			case "age_band":
				m[q] = AgeBand(x.year-x.birthYear, applied["age_band→wide"])
			}
		}
		return m
	}
	classKey := func(m map[string]string) string {
		var b strings.Builder
		for _, q := range quasi {
			b.WriteString(m[q])
			b.WriteByte(0)
		}
		return b.String()
	}
	sizes := func() map[string]int {
		c := map[string]int{}
		for _, x := range src {
			c[classKey(qi(x))]++
		}
		return c
	}
	c := sizes()
	small := func(c map[string]int) int {
		n := 0
		for _, v := range c {
			if v < k {
				n += v
			}
		}
		return n
	}
	// Generalize while more than a small share of rows would have to be suppressed.
	for _, st := range steps {
		if small(c) == 0 || len(quasi) == 0 {
			break
		}
		if !slices.Contains(quasi, strings.SplitN(st, "→", 2)[0]) {
			continue
		}
		applied[st] = true
		rep.Generalizations = append(rep.Generalizations, st)
		c = sizes()
	}
	var out []row
	for _, x := range src {
		m := qi(x)
		if c[classKey(m)] < k {
			rep.RowsSuppressed++
			continue
		}
		r := row{"pid": pseudonym(key, "student", x.student.String(), 20), "year": int32(x.year)}
		for q, v := range m {
			r[q] = v
		}
		for _, f := range fields {
			switch f {
			case "has_case_file":
				r[f] = x.hasCaseFile
			case "max_risk_tier":
				r[f] = x.maxTier
			case "sessions":
				r[f] = int32(x.sessions)
			case "crises":
				r[f] = int32(x.crises)
			case "referrals":
				r[f] = int32(x.referrals)
			case "phq9_band":
				r[f] = deref(x.phq9)
			case "gad7_band":
				r[f] = deref(x.gad7)
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i]["pid"] != out[j]["pid"] {
			return out[i]["pid"].(string) < out[j]["pid"].(string)
		}
		return out[i]["year"].(int32) < out[j]["year"].(int32)
	})
	rep.RowsOut = len(out)
	final := map[string]int{}
	for _, r := range out {
		var b strings.Builder
		for _, q := range quasi {
			b.WriteString(fmt.Sprint(r[q]))
			b.WriteByte(0)
		}
		final[b.String()]++
	}
	rep.Classes = len(final)
	for _, v := range final {
		if rep.SmallestClass == 0 || v < rep.SmallestClass {
			rep.SmallestClass = v
		}
	}
	return out, rep
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type rendered struct {
	Name, contentType, sum string
	data                   []byte
}

func columns(fields []string) []string {
	cols := []string{"pid", "year"}
	for _, f := range Codebook {
		if slices.Contains(fields, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

func render(rows []row, fields []string, rep Report) ([]rendered, error) {
	cols := columns(fields)
	var out []rendered
	add := func(name, ct string, data []byte) {
		sum := sha256.Sum256(data)
		out = append(out, rendered{Name: name, contentType: ct, data: data, sum: hex.EncodeToString(sum[:])})
	}
	// CSV, UTF-8 with a BOM so Excel reads the Chinese correctly.
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write(cols)
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = fmt.Sprint(r[c])
		}
		_ = w.Write(rec)
	}
	w.Flush()
	add("data.csv", "text/csv; charset=utf-8", buf.Bytes())
	// Parquet with the same columns.
	group := parquet.Group{}
	for _, c := range cols {
		switch {
		case c == "year" || c == "sessions" || c == "crises" || c == "referrals":
			group[c] = parquet.Int(32)
		case c == "has_case_file":
			group[c] = parquet.Leaf(parquet.BooleanType)
		default:
			group[c] = parquet.String()
		}
	}
	var pq bytes.Buffer
	pw := parquet.NewGenericWriter[map[string]any](&pq, parquet.NewSchema("export", group))
	maps := make([]map[string]any, len(rows))
	for i, r := range rows {
		maps[i] = r
	}
	if _, err := pw.Write(maps); err != nil {
		return nil, fault.Wrap(err, "parquet")
	}
	if err := pw.Close(); err != nil {
		return nil, fault.Wrap(err, "parquet")
	}
	add("data.parquet", "application/vnd.apache.parquet", pq.Bytes())
	// Codebook of the exported columns.
	var cb bytes.Buffer
	cb.WriteString("\ufeff")
	cw := csv.NewWriter(&cb)
	_ = cw.Write([]string{"field", "type", "meaning", "codes", "quasi_identifier"})
	for _, f := range Codebook {
		if slices.Contains(cols, f.Name) {
			_ = cw.Write([]string{f.Name, f.Type, f.Meaning, strings.Join(f.Codes, "|"), strconv.FormatBool(f.Quasi)})
		}
	}
	cw.Flush()
	add("codebook.csv", "text/csv; charset=utf-8", cb.Bytes())
	rj, _ := json.MarshalIndent(rep, "", "  ")
	add("suppression_report.json", "application/json", rj)
	type entry struct {
		Name   string `json:"name"`
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
	}
	var man []entry
	for _, f := range out {
		man = append(man, entry{f.Name, len(f.data), f.sum})
	}
	mj, _ := json.MarshalIndent(map[string]any{"files": man, "k": rep.K, "rows": rep.RowsOut}, "", "  ")
	add("manifest.json", "application/json", mj)
	return out, nil
}

// Download opens one file of a ready export for its researcher (audited). Before the
// export is ready it is a conflict; after it expired it is gone.
func (s *Service) Download(ctx context.Context, a scope.Actor, district, id uuid.UUID, name string) (io.ReadCloser, File, error) {
	var file File
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		req, err := get(ctx, tx, district, id)
		if err != nil {
			return err
		}
		if req.ResearcherID != a.UserID {
			return fault.New(fault.NotFound, "not found")
		}
		if req.Status != "ready" {
			return fault.New(fault.Conflict, "the export is %s, not ready for download", req.Status)
		}
		if req.ExpiresAt == nil || !s.now().Before(*req.ExpiresAt) {
			return fault.New(fault.Gone, "the download period has ended: ask the district for a new export")
		}
		i := slices.IndexFunc(req.Files, func(f File) bool { return f.Name == name })
		if i < 0 {
			return fault.New(fault.NotFound, "not found")
		}
		file = req.Files[i]
		file.key = "research/" + id.String() + "/" + name
		return audit.Record(ctx, tx, a, audit.Entry{Action: "research.download", ObjectType: "research_request", ObjectID: id.String(), Reason: name})
	})
	if err != nil {
		return nil, File{}, err
	}
	rc, err := s.Objects.Get(ctx, district, file.key)
	return rc, file, err
}
