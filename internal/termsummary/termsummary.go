// Package termsummary owns the term summary (期末小结 / 工作汇报) of a school: drafted from
// the term's data (activities, the barometer, counseling sessions by category — counts
// only, never a student), edited by the school, submitted, then approved or returned by
// the district. An approved summary is locked until the district reopens it. Summaries
// export as PDF (with the Chinese font embedded) and XLSX.
package termsummary

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Service is the term summary service. FontPath is the TrueType font with Chinese glyphs
// embedded in PDF exports.
type Service struct {
	DB       *database.DB
	FontPath string
}

// DefaultFontPath is Debian's Droid Sans Fallback (package fonts-droid-fallback).
const DefaultFontPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// ActivityFigure counts one type of activity of the term.
type ActivityFigure struct {
	Type       string  `json:"type"`
	Count      int     `json:"count"`
	Attendance int     `json:"attendance"`
	Hours      float64 `json:"hours"`
}

// CategoryFigure counts the counseling sessions of one category.
type CategoryFigure struct {
	Category string `json:"category"`
	Sessions int    `json:"sessions"`
}

// Figures are the numbers of the term, drafted from the data.
type Figures struct {
	SchoolName       string           `json:"school_name"`
	TermName         string           `json:"term_name"`
	StartsOn         string           `json:"starts_on"`
	EndsOn           string           `json:"ends_on"`
	Activities       []ActivityFigure `json:"activities"`
	BarometerReports int              `json:"barometer_reports"`
	BarometerNamed   int              `json:"barometer_named"`
	Sessions         []CategoryFigure `json:"sessions"`
	DraftedAt        time.Time        `json:"drafted_at"`
}

// Summary is a school's summary of a term.
type Summary struct {
	SchoolID      uuid.UUID  `json:"school_id"`
	TermID        uuid.UUID  `json:"term_id"`
	Status        string     `json:"status"` // draft, submitted, approved, returned
	Stored        bool       `json:"stored"` // false: a fresh draft nobody saved yet
	Figures       Figures    `json:"figures"`
	Narrative     string     `json:"narrative"`
	UpdatedAt     *time.Time `json:"updated_at"`
	SubmittedAt   *time.Time `json:"submitted_at"`
	ReviewedAt    *time.Time `json:"reviewed_at"`
	ReviewComment string     `json:"review_comment"`
	Locked        bool       `json:"locked"`
}

// draft computes the figures of a term from the school's data.
func draft(ctx context.Context, tx pgx.Tx, district, school, term uuid.UUID) (Figures, error) {
	f := Figures{DraftedAt: time.Now().UTC().Truncate(time.Second), Activities: []ActivityFigure{}, Sessions: []CategoryFigure{}}
	if err := tx.QueryRow(ctx, `SELECT s.name, t.name, t.starts_on::text, t.ends_on::text FROM schools s JOIN terms t ON t.district_id = s.district_id
		WHERE s.id = $1 AND t.id = $2 AND t.district_id = $3`, school, term, district).Scan(&f.SchoolName, &f.TermName, &f.StartsOn, &f.EndsOn); err != nil {
		return f, database.MapError(err)
	}
	rows, err := tx.Query(ctx, `SELECT type, count(*)::int, coalesce(sum(attendance), 0)::int, coalesce(sum(hours), 0)::float8 FROM activities
		WHERE school_id = $1 AND term_id = $2 GROUP BY type ORDER BY array_position(ARRAY['lecture','group_session','themed_month','parent_event','staff_training','room_hours'], type)`, school, term)
	if err != nil {
		return f, database.MapError(err)
	}
	if f.Activities, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ActivityFigure]); err != nil {
		return f, database.MapError(err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*)::int, count(*) FILTER (WHERE named)::int FROM barometer_reports
		WHERE school_id = $1 AND week_start BETWEEN $2::date AND $3::date`, school, f.StartsOn, f.EndsOn).Scan(&f.BarometerReports, &f.BarometerNamed); err != nil {
		return f, database.MapError(err)
	}
	rows, err = tx.Query(ctx, `SELECT category, sessions::int FROM term_session_counts($1, $2::date, $3::date)`, school, f.StartsOn, f.EndsOn)
	if err != nil {
		return f, database.MapError(err)
	}
	if f.Sessions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[CategoryFigure]); err != nil {
		return f, database.MapError(err)
	}
	// Categories by their name in the district's taxonomy.
	names := map[string]string{}
	rows, err = tx.Query(ctx, `SELECT code, name_zh FROM concern_categories WHERE district_id = $1`, district)
	if err != nil {
		return f, database.MapError(err)
	}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return f, database.MapError(err)
		}
		names[code] = name
	}
	if err := rows.Err(); err != nil {
		return f, database.MapError(err)
	}
	for i := range f.Sessions {
		if n, ok := names[f.Sessions[i].Category]; ok {
			f.Sessions[i].Category = n
		}
	}
	if f.Activities == nil {
		f.Activities = []ActivityFigure{}
	}
	if f.Sessions == nil {
		f.Sessions = []CategoryFigure{}
	}
	return f, nil
}

func stored(ctx context.Context, tx pgx.Tx, school, term uuid.UUID, lock bool) (Summary, bool, error) {
	q := `SELECT status, figures, narrative, updated_at, submitted_at, reviewed_at, review_comment FROM term_summaries WHERE school_id = $1 AND term_id = $2`
	if lock {
		q += ` FOR UPDATE`
	}
	s := Summary{SchoolID: school, TermID: term, Stored: true}
	var fig []byte
	err := tx.QueryRow(ctx, q, school, term).Scan(&s.Status, &fig, &s.Narrative, &s.UpdatedAt, &s.SubmittedAt, &s.ReviewedAt, &s.ReviewComment)
	if err == pgx.ErrNoRows {
		return Summary{}, false, nil
	}
	if err != nil {
		return Summary{}, false, database.MapError(err)
	}
	s.Locked = s.Status == "submitted" || s.Status == "approved"
	return s, true, json.Unmarshal(fig, &s.Figures)
}

func (s *Service) get(ctx context.Context, tx pgx.Tx, a scope.Actor, school, term uuid.UUID) (Summary, error) {
	cur, ok, err := stored(ctx, tx, school, term, false)
	if err != nil {
		return Summary{}, err
	}
	if a.Kind != scope.School {
		// The district reads what the school saved, never a draft.
		if !ok {
			return Summary{}, fault.New(fault.NotFound, "not found")
		}
		return cur, nil
	}
	if !ok {
		cur = Summary{SchoolID: school, TermID: term, Status: "draft"}
	}
	if !cur.Locked {
		if cur.Figures, err = draft(ctx, tx, a.DistrictID, school, term); err != nil {
			return Summary{}, err
		}
	}
	return cur, nil
}

// Get reads the summary of a term: the school sees a fresh draft (figures recomputed
// until it submits); the district sees what the school saved.
func (s *Service) Get(ctx context.Context, a scope.Actor, school, term uuid.UUID) (Summary, error) {
	var out Summary
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.get(ctx, tx, a, school, term); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "term_summaries.read", ObjectType: "term_summary", ObjectID: term.String()})
	})
	return out, err
}

var errLocked = fault.New(fault.Conflict, "the summary is submitted or approved and cannot change; an approved summary is reopened by the district")

// Save stores the school's text with freshly drafted figures; submit also hands it to the district.
func (s *Service) Save(ctx context.Context, a scope.Actor, school, term uuid.UUID, narrative string, submit bool) (Summary, error) {
	narrative = strings.TrimSpace(narrative)
	if utf8.RuneCountInString(narrative) > 20000 {
		return Summary{}, fault.Validation(fault.Field("narrative", "too_long", "at most 20,000 characters"))
	}
	if submit && narrative == "" {
		return Summary{}, fault.Validation(fault.Field("narrative", "required", "write the summary before submitting it"))
	}
	var out Summary
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, ok, err := stored(ctx, tx, school, term, false)
		if err != nil {
			return err
		}
		if ok && cur.Locked {
			return errLocked
		}
		fig, err := draft(ctx, tx, a.DistrictID, school, term)
		if fault.KindOf(err) == fault.NotFound {
			return fault.New(fault.NotFound, "no such term")
		} else if err != nil {
			return err
		}
		js, _ := json.Marshal(fig)
		status := "draft"
		if ok {
			status = cur.Status
		}
		if !ok {
			if _, err := tx.Exec(ctx, `INSERT INTO term_summaries (school_id, term_id, district_id, figures, narrative, updated_by) VALUES ($1, $2, $3, $4, $5, $6)`,
				school, term, a.DistrictID, js, narrative, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if submit {
			status = "submitted"
		}
		// The update policy only reaches drafts and returned summaries: a summary submitted
		// meanwhile is left alone and reported as locked.
		tag, err := tx.Exec(ctx, `UPDATE term_summaries SET status = $3, figures = $4, narrative = $5, updated_by = $6, updated_at = now(),
			submitted_at = CASE WHEN $3 = 'submitted' THEN now() ELSE submitted_at END WHERE school_id = $1 AND term_id = $2`,
			school, term, status, js, narrative, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return errLocked
		}
		if out, err = s.get(ctx, tx, a, school, term); err != nil {
			return err
		}
		action := "term_summaries.save"
		if submit {
			action = "term_summaries.submit"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "term_summary", ObjectID: term.String()})
	})
	return out, err
}

// Verdicts of the district's review.
var Verdicts = []string{"approve", "return", "reopen"}

// Review approves or returns a submitted summary, or reopens an approved one (it goes
// back to the school as returned, with the comment).
func (s *Service) Review(ctx context.Context, a scope.Actor, district, school, term uuid.UUID, verdict, comment string) (Summary, error) {
	comment = strings.TrimSpace(comment)
	var f []fault.FieldError
	switch verdict {
	case "approve":
	case "return", "reopen":
		if comment == "" {
			f = append(f, fault.Field("comment", "required", "tell the school what to change"))
		}
	default:
		f = append(f, fault.Field("verdict", "invalid_value", "verdict must be approve, return or reopen"))
	}
	if utf8.RuneCountInString(comment) > 2000 {
		f = append(f, fault.Field("comment", "too_long", "at most 2,000 characters"))
	}
	if len(f) > 0 {
		return Summary{}, fault.Validation(f...)
	}
	var out Summary
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM term_summaries WHERE district_id = $1 AND school_id = $2 AND term_id = $3`,
			district, school, term).Scan(&status); err != nil {
			return database.MapError(err)
		}
		want, next := "submitted", map[string]string{"approve": "approved", "return": "returned"}[verdict]
		if verdict == "reopen" {
			want, next = "approved", "returned"
		}
		if status != want {
			return fault.New(fault.Conflict, "the summary is %s; %s needs it %s", status, verdict, want)
		}
		tag, err := tx.Exec(ctx, `UPDATE term_summaries SET status = $4, reviewed_by = $5, reviewed_at = now(), review_comment = $6
			WHERE district_id = $1 AND school_id = $2 AND term_id = $3 AND status = $7`, district, school, term, next, a.UserID, comment, want)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.Conflict, "the summary changed meanwhile; reload it")
		}
		if out, err = s.get(ctx, tx, a, school, term); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "term_summaries." + verdict, ObjectType: "term_summary", ObjectID: school.String() + "/" + term.String()})
	})
	return out, err
}

// QueueItem is a summary in the district's review queue.
type QueueItem struct {
	SchoolID    uuid.UUID  `json:"school_id"`
	SchoolName  string     `json:"school_name"`
	TermID      uuid.UUID  `json:"term_id"`
	TermName    string     `json:"term_name"`
	Status      string     `json:"status"`
	SubmittedAt *time.Time `json:"submitted_at"`
}

// Queue lists the summaries of the district's schools, submitted ones first.
func (s *Service) Queue(ctx context.Context, a scope.Actor, district uuid.UUID) ([]QueueItem, error) {
	var out []QueueItem
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT x.school_id, s.name, x.term_id, t.name, x.status, x.submitted_at FROM term_summaries x
			JOIN schools s ON s.id = x.school_id JOIN terms t ON t.district_id = x.district_id AND t.id = x.term_id
			WHERE x.district_id = $1 ORDER BY (x.status = 'submitted') DESC, t.starts_on DESC, s.name LIMIT 500`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[QueueItem])
		return database.MapError(err)
	})
	if out == nil {
		out = []QueueItem{}
	}
	return out, err
}
