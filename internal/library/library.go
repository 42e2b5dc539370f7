// Package library owns the resource library (心理健康图书资料): the district's
// psychoeducation materials (links and book records) that its schools search by topic and
// audience and add to, the copies of books each school holds, and loans of those copies
// to students or staff with a due date. Lending a copy already lent is refused by a unique
// index over open loans, also under concurrent requests.
package library

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Service is the library service.
type Service struct {
	DB    *database.DB
	Files *Files // documents; nil: links and books only
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Vocabularies.
var (
	Kinds     = []string{"document", "link", "book"}
	Audiences = []string{"student", "guardian", "teacher", "counselor"}
)

// Item is a library entry; Copies and Available are the caller's school's (school scope).
type Item struct {
	ID            uuid.UUID  `json:"id"`
	Kind          string     `json:"kind"`
	Title         string     `json:"title"`
	Author        string     `json:"author"`
	Summary       string     `json:"summary"`
	Topics        []string   `json:"topics"`
	Audiences     []string   `json:"audiences"`
	URL           *string    `json:"url"`
	ISBN          *string    `json:"isbn"`
	Publisher     string     `json:"publisher"`
	OwnerSchoolID *uuid.UUID `json:"owner_school_id"`
	Filename      *string    `json:"filename"`
	ContentType   *string    `json:"content_type"`
	SizeBytes     *int64     `json:"size_bytes"`
	CreatedAt     time.Time  `json:"created_at"`
	Copies        []Copy     `json:"copies"`
}

// Copy is one copy a school holds, and whether it is out (never who has it).
type Copy struct {
	ID    uuid.UUID `json:"id"`
	Label string    `json:"label"`
	Out   bool      `json:"out"`
}

// ItemInput adds a link or a book record.
type ItemInput struct {
	Kind      string   `json:"kind"`
	Title     string   `json:"title"`
	Author    string   `json:"author"`
	Summary   string   `json:"summary"`
	Topics    []string `json:"topics"`
	Audiences []string `json:"audiences"`
	URL       string   `json:"url"`
	ISBN      string   `json:"isbn"`
	Publisher string   `json:"publisher"`
}

var isbnPattern = regexp.MustCompile(`^[0-9X-]{10,17}$`)

func (in *ItemInput) validate() error {
	var f []fault.FieldError
	if !slices.Contains(Kinds, in.Kind) {
		f = append(f, fault.Field("kind", "invalid_value", "kind must be link or book (documents are uploaded)"))
	}
	in.Title = strings.TrimSpace(in.Title)
	if n := utf8.RuneCountInString(in.Title); n == 0 || n > 200 {
		f = append(f, fault.Field("title", "required", "a title, 1 to 200 characters"))
	}
	for name, v := range map[string]struct {
		s   string
		max int
	}{"author": {in.Author, 100}, "summary": {in.Summary, 2000}, "publisher": {in.Publisher, 100}} {
		if utf8.RuneCountInString(v.s) > v.max {
			f = append(f, fault.Field(name, "too_long", "too long"))
		}
	}
	if len(in.Topics) > 10 {
		f = append(f, fault.Field("topics", "too_long", "at most 10 topics"))
	}
	var topics []string
	for _, t := range in.Topics {
		t = strings.TrimSpace(t)
		if t == "" || utf8.RuneCountInString(t) > 30 {
			f = append(f, fault.Field("topics", "invalid_value", "topics are 1 to 30 characters"))
			break
		}
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	in.Topics = topics
	if in.Topics == nil {
		in.Topics = []string{}
	}
	if len(in.Audiences) == 0 {
		f = append(f, fault.Field("audiences", "required", "who the material is for"))
	}
	for _, a := range in.Audiences {
		if !slices.Contains(Audiences, a) {
			f = append(f, fault.Field("audiences", "invalid_value", "audiences are student, guardian, teacher or counselor"))
			break
		}
	}
	slices.Sort(in.Audiences)
	in.Audiences = slices.Compact(in.Audiences)
	if in.Kind == "link" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > 1000 {
			f = append(f, fault.Field("url", "invalid_value", "a link is an http(s) address"))
		}
	} else if in.URL != "" {
		f = append(f, fault.Field("url", "invalid_value", "only links have an address"))
	}
	if in.ISBN != "" && (in.Kind != "book" || !isbnPattern.MatchString(in.ISBN)) {
		f = append(f, fault.Field("isbn", "invalid_value", "an ISBN of a book (10 or 13 digits)"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Add adds a library entry: the district's (district scope) or the caller's school's.
func (s *Service) Add(ctx context.Context, a scope.Actor, district uuid.UUID, in ItemInput) (Item, error) {
	if in.Kind == "document" {
		return Item{}, fault.Validation(fault.Field("kind", "invalid_value", "documents are uploaded as files"))
	}
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	var owner *uuid.UUID
	if a.Kind == scope.School {
		owner = &a.SchoolID
	}
	var out Item
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO library_items (district_id, id, kind, title, author, summary, topics, audiences, url, isbn, publisher, owner_school_id, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			district, id, in.Kind, in.Title, strings.TrimSpace(in.Author), strings.TrimSpace(in.Summary), in.Topics, in.Audiences,
			nullable(in.URL), nullable(in.ISBN), strings.TrimSpace(in.Publisher), owner, a.UserID); err != nil {
			return database.MapError(err)
		}
		list, err := s.search(ctx, tx, a, district, Query{}, id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.add", ObjectType: "library_item", ObjectID: id.String()})
	})
	return out, err
}

// Query searches the library: words in the title, author or summary, a topic, an audience, a kind.
type Query struct {
	Q, Topic, Audience, Kind string
}

// Search lists the library's entries matching q, titles in order; in a school's scope each
// entry carries the school's copies and whether they are out.
func (s *Service) Search(ctx context.Context, a scope.Actor, district uuid.UUID, q Query) ([]Item, error) {
	if q.Audience != "" && !slices.Contains(Audiences, q.Audience) {
		return nil, fault.Validation(fault.Field("audience", "invalid_value", "audience must be student, guardian, teacher or counselor"))
	}
	if q.Kind != "" && !slices.Contains(Kinds, q.Kind) {
		return nil, fault.Validation(fault.Field("kind", "invalid_value", "kind must be document, link or book"))
	}
	var out []Item
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = s.search(ctx, tx, a, district, q, uuid.Nil)
		return err
	})
	return out, err
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Service) search(ctx context.Context, tx pgx.Tx, a scope.Actor, district uuid.UUID, q Query, id uuid.UUID) ([]Item, error) {
	rows, err := tx.Query(ctx, `SELECT id, kind, title, author, summary, topics, audiences, url, isbn, publisher, owner_school_id, filename, content_type, size_bytes, created_at
		FROM library_items WHERE district_id = $1
		AND ($2 = '' OR title ILIKE '%' || $2 || '%' OR author ILIKE '%' || $2 || '%' OR summary ILIKE '%' || $2 || '%' OR $6 = ANY (topics))
		AND ($3 = '' OR $3 = ANY (topics)) AND ($4 = '' OR $4 = ANY (audiences)) AND ($5 = '' OR kind = $5)
		AND ($7::uuid IS NULL OR id = $7)
		ORDER BY title, id LIMIT 500`, district, likeEscape(strings.TrimSpace(q.Q)), strings.TrimSpace(q.Topic), q.Audience, q.Kind,
		strings.TrimSpace(q.Q), nilUUID(id))
	if err != nil {
		return nil, database.MapError(err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		err := r.Scan(&it.ID, &it.Kind, &it.Title, &it.Author, &it.Summary, &it.Topics, &it.Audiences, &it.URL, &it.ISBN, &it.Publisher, &it.OwnerSchoolID, &it.Filename, &it.ContentType, &it.SizeBytes, &it.CreatedAt)
		it.Copies = []Copy{}
		return it, err
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	if id != uuid.Nil && len(items) == 0 {
		return nil, fault.New(fault.NotFound, "not found")
	}
	if a.Kind != scope.School || len(items) == 0 {
		return items, nil
	}
	byItem := map[uuid.UUID][]Copy{}
	rows, err = tx.Query(ctx, `SELECT c.item_id, c.id, c.label, c.id IN (SELECT library_copies_out($1))
		FROM library_copies c WHERE c.school_id = $1 ORDER BY c.label`, a.SchoolID)
	if err != nil {
		return nil, database.MapError(err)
	}
	for rows.Next() {
		var item uuid.UUID
		var c Copy
		if err := rows.Scan(&item, &c.ID, &c.Label, &c.Out); err != nil {
			rows.Close()
			return nil, database.MapError(err)
		}
		byItem[item] = append(byItem[item], c)
	}
	if err := rows.Err(); err != nil {
		return nil, database.MapError(err)
	}
	for i := range items {
		if c := byItem[items[i].ID]; c != nil {
			items[i].Copies = c
		}
	}
	return items, nil
}

func nilUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// CopyInput adds a copy of a book to the caller's school.
type CopyInput struct {
	Label string `json:"label"`
}

// AddCopy records a copy of a book held by the school.
func (s *Service) AddCopy(ctx context.Context, a scope.Actor, school, item uuid.UUID, in CopyInput) (Copy, error) {
	in.Label = strings.TrimSpace(in.Label)
	if n := utf8.RuneCountInString(in.Label); n == 0 || n > 50 {
		return Copy{}, fault.Validation(fault.Field("label", "required", "a shelf mark or barcode, 1 to 50 characters"))
	}
	var out Copy
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM library_items WHERE district_id = $1 AND id = $2`, a.DistrictID, item).Scan(&kind); err != nil {
			return database.MapError(err)
		}
		if kind != "book" {
			return fault.Validation(fault.Field("item", "invalid_value", "only books have copies"))
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO library_copies (school_id, id, district_id, item_id, label, added_by) VALUES ($1, $2, $3, $4, $5, $6)`,
			school, id, a.DistrictID, item, in.Label, a.UserID); err != nil {
			if fe, ok := fault.As(database.MapError(err)); ok && fe.Kind == fault.Conflict {
				return fault.Validation(fault.Field("label", "duplicate", "the school already has a copy with this label"))
			}
			return database.MapError(err)
		}
		out = Copy{ID: id, Label: in.Label}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.add_copy", ObjectType: "library_copy", ObjectID: id.String()})
	})
	return out, err
}

// Loan is a loan as the counselors see it.
type Loan struct {
	ID           uuid.UUID  `json:"id"`
	CopyID       uuid.UUID  `json:"copy_id"`
	CopyLabel    string     `json:"copy_label"`
	ItemID       uuid.UUID  `json:"item_id"`
	Title        string     `json:"title"`
	StudentID    *uuid.UUID `json:"student_id"`
	StaffUserID  *uuid.UUID `json:"staff_user_id"`
	BorrowerName string     `json:"borrower_name"`
	LentAt       time.Time  `json:"lent_at"`
	DueOn        string     `json:"due_on"`
	ReturnedAt   *time.Time `json:"returned_at"`
	Overdue      bool       `json:"overdue"`
}

// LoanInput lends a copy to a student or a staff member of the school until due_on.
type LoanInput struct {
	CopyID      uuid.UUID  `json:"copy_id"`
	StudentID   *uuid.UUID `json:"student_id"`
	StaffUserID *uuid.UUID `json:"staff_user_id"`
	DueOn       string     `json:"due_on"`
}

var china = time.FixedZone("CST", 8*3600)

// Lend lends a copy. A copy already lent is refused (409) by the database.
func (s *Service) Lend(ctx context.Context, a scope.Actor, school uuid.UUID, in LoanInput) (Loan, error) {
	var f []fault.FieldError
	if in.CopyID == uuid.Nil {
		f = append(f, fault.Field("copy_id", "required", "the copy to lend"))
	}
	if (in.StudentID == nil) == (in.StaffUserID == nil) {
		f = append(f, fault.Field("student_id", "required", "either a student or a staff member borrows"))
	}
	today := s.now().In(china).Format(time.DateOnly)
	due, err := time.Parse(time.DateOnly, in.DueOn)
	if err != nil || in.DueOn < today || due.Sub(s.now()) > 200*24*time.Hour {
		f = append(f, fault.Field("due_on", "out_of_range", "a due date from today, within about six months"))
	}
	if len(f) > 0 {
		return Loan{}, fault.Validation(f...)
	}
	var out Loan
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM library_copies WHERE school_id = $1 AND id = $2)`, school, in.CopyID).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.Validation(fault.Field("copy_id", "invalid_value", "no such copy in this school"))
		}
		if in.StudentID != nil {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, *in.StudentID).Scan(&ok); err != nil {
				return database.MapError(err)
			}
		} else {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE school_id = $1 AND user_id = $2 AND scope_type = 'school')`, school, *in.StaffUserID).Scan(&ok); err != nil {
				return database.MapError(err)
			}
		}
		if !ok {
			return fault.Validation(fault.Field("student_id", "invalid_value", "no such borrower in this school"))
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO library_loans (school_id, id, copy_id, student_id, staff_user_id, lent_by, due_on) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			school, id, in.CopyID, in.StudentID, in.StaffUserID, a.UserID, in.DueOn); err != nil {
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "23505" {
				return fault.New(fault.Conflict, "this copy is already lent")
			}
			return database.MapError(err)
		}
		list, err := s.loans(ctx, tx, school, `l.id = $2`, id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.lend", ObjectType: "library_loan", ObjectID: id.String()})
	})
	return out, err
}

// Return records the return of a lent copy.
func (s *Service) Return(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Loan, error) {
	var out Loan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE library_loans SET returned_at = now(), returned_to = $3 WHERE school_id = $1 AND id = $2 AND returned_at IS NULL`, school, id, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		list, err := s.loans(ctx, tx, school, `l.id = $2`, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		if tag.RowsAffected() == 0 {
			return fault.New(fault.Conflict, "the copy has already been returned")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.return", ObjectType: "library_loan", ObjectID: id.String()})
	})
	return out, err
}

// Loans lists the school's open loans (overdue first), or all with open=false.
func (s *Service) Loans(ctx context.Context, a scope.Actor, school uuid.UUID, open bool) ([]Loan, error) {
	var out []Loan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		where := `($2::boolean IS NOT TRUE OR l.returned_at IS NULL)`
		if out, err = s.loans(ctx, tx, school, where, open); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.list_loans", ObjectType: "library_loan"})
	})
	return out, err
}

func (s *Service) loans(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, arg any) ([]Loan, error) {
	rows, err := tx.Query(ctx, `SELECT l.id, l.copy_id, c.label, i.id, i.title, l.student_id, l.staff_user_id,
		coalesce(st.name, u.display_name, ''), l.lent_at, l.due_on::text, l.returned_at
		FROM library_loans l
		JOIN library_copies c ON c.school_id = l.school_id AND c.id = l.copy_id
		JOIN library_items i ON i.district_id = c.district_id AND i.id = c.item_id
		LEFT JOIN students st ON st.school_id = l.school_id AND st.id = l.student_id
		LEFT JOIN users u ON u.id = l.staff_user_id
		WHERE l.school_id = $1 AND `+where+` ORDER BY l.returned_at IS NOT NULL, l.due_on, l.id LIMIT 500`, school, arg)
	if err != nil {
		return nil, database.MapError(err)
	}
	today := s.now().In(china).Format(time.DateOnly)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Loan, error) {
		var l Loan
		err := r.Scan(&l.ID, &l.CopyID, &l.CopyLabel, &l.ItemID, &l.Title, &l.StudentID, &l.StaffUserID, &l.BorrowerName, &l.LentAt, &l.DueOn, &l.ReturnedAt)
		l.Overdue = l.ReturnedAt == nil && l.DueOn < today
		return l, err
	})
}
