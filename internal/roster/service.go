// Package roster owns a school's student roster: students, their guardians' contacts,
// and the all-or-nothing import of roster files (XLSX, CSV in UTF-8 or GB18030).
package roster

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Service is the roster domain service.
type Service struct {
	DB *database.DB
}

// Student is a student of a school.
type Student struct {
	ID            uuid.UUID  `json:"id"`
	SchoolID      uuid.UUID  `json:"school_id"`
	StudentNumber string     `json:"student_number"`
	Name          string     `json:"name"`
	Gender        string     `json:"gender"`
	BirthDate     string     `json:"birth_date"`
	GradeID       uuid.UUID  `json:"grade_id"`
	GradeName     string     `json:"grade_name"`
	HomeroomID    uuid.UUID  `json:"homeroom_id"`
	HomeroomName  string     `json:"homeroom_name"`
	Status        string     `json:"status"`
	Guardians     []Guardian `json:"guardians"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

const studentSelect = `SELECT s.id, s.school_id, s.student_number, s.name, s.gender, to_char(s.birth_date, 'YYYY-MM-DD'),
	s.grade_id, g.name, s.homeroom_id, h.name, s.status, s.guardians, s.created_at, s.updated_at
	FROM students s
	JOIN org_units g ON g.school_id = s.school_id AND g.id = s.grade_id
	JOIN org_units h ON h.school_id = s.school_id AND h.id = s.homeroom_id `

func scanStudent(r pgx.CollectableRow) (Student, error) {
	var s Student
	err := r.Scan(&s.ID, &s.SchoolID, &s.StudentNumber, &s.Name, &s.Gender, &s.BirthDate, &s.GradeID, &s.GradeName,
		&s.HomeroomID, &s.HomeroomName, &s.Status, &s.Guardians, &s.CreatedAt, &s.UpdatedAt)
	if s.Guardians == nil {
		s.Guardians = []Guardian{}
	}
	return s, err
}

// Filter narrows a student listing.
type Filter struct {
	Query      string // student number prefix or part of the name
	HomeroomID *uuid.UUID
	GradeID    *uuid.UUID
	Status     string
	Page       page.Request
}

// List lists students of the school by student number. Homeroom teachers see only
// their homerooms (row-level security). The listing is audited.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, f Filter) (page.Page[Student], error) {
	size, err := f.Page.Size()
	if err != nil {
		return page.Page[Student]{}, err
	}
	after, err := f.Page.After()
	if err != nil {
		return page.Page[Student]{}, err
	}
	if f.Status != "" && f.Status != "enrolled" && f.Status != "graduated" && f.Status != "transferred" {
		return page.Page[Student]{}, fault.Validation(fault.Field("status", "invalid_value", "status must be enrolled, graduated or transferred"))
	}
	q := strings.TrimSpace(f.Query)
	var items []Student
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, studentSelect+`
			WHERE s.school_id = $1 AND s.student_number > $2
			  AND ($3 = '' OR s.student_number LIKE $3 || '%' OR s.name LIKE '%' || $3 || '%')
			  AND ($4::uuid IS NULL OR s.homeroom_id = $4) AND ($5::uuid IS NULL OR s.grade_id = $5)
			  AND ($6 = '' OR s.status = $6)
			ORDER BY s.student_number LIMIT $7`, school, after, q, f.HomeroomID, f.GradeID, f.Status, size+1)
		if err != nil {
			return database.MapError(err)
		}
		if items, err = pgx.CollectRows(rows, scanStudent); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "students.list", ObjectType: "student", Reason: fmt.Sprintf("%d rows", min(len(items), size))})
	})
	return page.Build(items, size, func(s Student) string { return s.StudentNumber }), err
}

// Get returns one student; reading it is audited.
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Student, error) {
	var st Student
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if st, err = getStudent(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "students.read", ObjectType: "student", ObjectID: id.String()})
	})
	return st, err
}

func getStudent(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Student, error) {
	rows, err := tx.Query(ctx, studentSelect+`WHERE s.school_id = $1 AND s.id = $2`, school, id)
	if err != nil {
		return Student{}, database.MapError(err)
	}
	st, err := pgx.CollectExactlyOneRow(rows, scanStudent)
	return st, database.MapError(err)
}

// StudentInput creates a student or changes one (nil fields unchanged).
type StudentInput struct {
	StudentNumber *string     `json:"student_number"`
	Name          *string     `json:"name"`
	Gender        *string     `json:"gender"`
	BirthDate     *string     `json:"birth_date"`
	HomeroomID    *uuid.UUID  `json:"homeroom_id"`
	Status        *string     `json:"status"`
	Guardians     *[]Guardian `json:"guardians"`
}

func (in *StudentInput) validate(create bool) error {
	var fields []fault.FieldError
	req := func(name string, present bool) bool {
		if !present && create {
			fields = append(fields, fault.Field(name, "required", name+" is required"))
		}
		return present
	}
	if req("student_number", in.StudentNumber != nil) {
		*in.StudentNumber = strings.TrimSpace(*in.StudentNumber)
		if !studentNumberOK(*in.StudentNumber) {
			fields = append(fields, fault.Field("student_number", "invalid_format", "1-32 letters, digits, '-' or '_'"))
		}
		if !create {
			fields = append(fields, fault.Field("student_number", "invalid_value", "the student number cannot change"))
		}
	}
	if req("name", in.Name != nil) {
		*in.Name = strings.TrimSpace(*in.Name)
		if l := utf8.RuneCountInString(*in.Name); l < 1 || l > 64 {
			fields = append(fields, fault.Field("name", "required", "a name of 1-64 characters is required"))
		}
	}
	if req("gender", in.Gender != nil) && *in.Gender != "male" && *in.Gender != "female" {
		fields = append(fields, fault.Field("gender", "invalid_value", "gender must be male or female"))
	}
	if req("birth_date", in.BirthDate != nil) {
		d, err := time.Parse(time.DateOnly, *in.BirthDate)
		if err != nil || d.Year() < 1990 || d.After(time.Now()) {
			fields = append(fields, fault.Field("birth_date", "invalid_format", "a date YYYY-MM-DD between 1990 and today"))
		}
	}
	req("homeroom_id", in.HomeroomID != nil)
	if in.Status != nil && *in.Status != "enrolled" && *in.Status != "graduated" && *in.Status != "transferred" {
		fields = append(fields, fault.Field("status", "invalid_value", "status must be enrolled, graduated or transferred"))
	}
	if in.Guardians != nil {
		if len(*in.Guardians) > 4 {
			fields = append(fields, fault.Field("guardians", "too_long", "at most 4 guardians"))
		}
		for i, g := range *in.Guardians {
			if strings.TrimSpace(g.Name) == "" || !phoneOK(g.Phone) {
				fields = append(fields, fault.Field(fmt.Sprintf("guardians[%d]", i), "invalid_value", "a guardian needs a name and a valid phone number"))
			}
		}
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	return nil
}

func studentNumberOK(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func phoneOK(p string) bool {
	p = strings.TrimSpace(p)
	if len(p) < 7 || len(p) > 20 {
		return false
	}
	for _, r := range p {
		if !(r >= '0' && r <= '9' || r == '-' || r == '+' || r == ' ') {
			return false
		}
	}
	return true
}

// homeroomGrade returns the grade (or department) a homeroom belongs to.
func homeroomGrade(ctx context.Context, tx pgx.Tx, school, homeroom uuid.UUID) (uuid.UUID, error) {
	var grade uuid.UUID
	err := tx.QueryRow(ctx, `SELECT parent_id FROM org_units WHERE school_id = $1 AND id = $2 AND kind = 'homeroom'`, school, homeroom).Scan(&grade)
	if err == pgx.ErrNoRows {
		return uuid.Nil, fault.Validation(fault.Field("homeroom_id", "invalid_value", "no such homeroom in this school"))
	}
	return grade, database.MapError(err)
}

// Create adds a student.
func (s *Service) Create(ctx context.Context, a scope.Actor, school uuid.UUID, in StudentInput) (Student, error) {
	if err := in.validate(true); err != nil {
		return Student{}, err
	}
	if in.Status == nil {
		st := "enrolled"
		in.Status = &st
	}
	if in.Guardians == nil {
		in.Guardians = &[]Guardian{}
	}
	var st Student
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		grade, err := homeroomGrade(ctx, tx, school, *in.HomeroomID)
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		_, err = tx.Exec(ctx, `INSERT INTO students (school_id, id, student_number, name, gender, birth_date, grade_id, homeroom_id, status, guardians)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			school, id, *in.StudentNumber, *in.Name, *in.Gender, *in.BirthDate, grade, *in.HomeroomID, *in.Status, *in.Guardians)
		if err != nil {
			err = database.MapError(err)
			if fault.KindOf(err) == fault.Conflict {
				return &fault.Error{Kind: fault.Conflict, Message: "the student number is taken",
					Fields: []fault.FieldError{fault.Field("student_number", "duplicate", "another student of the school has this number")}}
			}
			return err
		}
		if st, err = getStudent(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "students.create", ObjectType: "student", ObjectID: id.String()})
	})
	return st, err
}

// Update changes a student.
func (s *Service) Update(ctx context.Context, a scope.Actor, school, id uuid.UUID, in StudentInput) (Student, error) {
	if err := in.validate(false); err != nil {
		return Student{}, err
	}
	var st Student
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var grade *uuid.UUID
		if in.HomeroomID != nil {
			g, err := homeroomGrade(ctx, tx, school, *in.HomeroomID)
			if err != nil {
				return err
			}
			grade = &g
		}
		tag, err := tx.Exec(ctx, `UPDATE students SET name = coalesce($3, name), gender = coalesce($4, gender),
			birth_date = coalesce($5::date, birth_date), grade_id = coalesce($6, grade_id), homeroom_id = coalesce($7, homeroom_id),
			status = coalesce($8, status), guardians = coalesce($9, guardians), updated_at = now()
			WHERE school_id = $1 AND id = $2`, school, id, in.Name, in.Gender, in.BirthDate, grade, in.HomeroomID, in.Status, in.Guardians)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.NotFound, "not found")
		}
		if st, err = getStudent(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "students.update", ObjectType: "student", ObjectID: id.String()})
	})
	return st, err
}

// ImportResult counts what an import did.
type ImportResult struct {
	Total   int `json:"total"`
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	CreateMissingUnits bool // create grades/departments and homerooms named by the file
}

// Import writes parsed roster rows all-or-nothing: every row is checked against the
// school's org tree first; any error aborts with the full error list and nothing is
// written. Students are matched by student number, so a re-import updates.
func (s *Service) Import(ctx context.Context, a scope.Actor, school uuid.UUID, rows []Row, opt ImportOptions) (ImportResult, error) {
	res := ImportResult{Total: len(rows)}
	if len(rows) == 0 {
		return res, fault.Validation(fault.FieldError{Row: 1, Code: "empty_file", Message: "the file has no student rows"})
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		units, err := loadUnits(ctx, tx, school)
		if err != nil {
			return err
		}
		if opt.CreateMissingUnits {
			if err := units.createMissing(ctx, tx, school, rows); err != nil {
				return err
			}
		}
		var errs []fault.FieldError
		type resolved struct{ grade, homeroom uuid.UUID }
		ids := make([]resolved, len(rows))
		for i, r := range rows {
			g, ok := units.grades[r.Grade]
			if !ok {
				errs = append(errs, fault.FieldError{Row: r.Line, Column: "年级", Code: "unknown_homeroom", Message: fmt.Sprintf("no grade or department named %q", r.Grade)})
				continue
			}
			h, ok := units.homerooms[unitKey{g, r.Homeroom}]
			if !ok {
				errs = append(errs, fault.FieldError{Row: r.Line, Column: "班级", Code: "unknown_homeroom", Message: fmt.Sprintf("no homeroom named %q in that grade", r.Homeroom)})
				continue
			}
			ids[i] = resolved{g, h}
		}
		if len(errs) > 0 {
			return &fault.Error{Kind: fault.Invalid, Message: "the file has errors; nothing was imported", Fields: errs}
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE roster_import (
			student_number text, name text, gender text, birth_date date, grade_id uuid, homeroom_id uuid, status text, guardians jsonb
			) ON COMMIT DROP`); err != nil {
			return database.MapError(err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"roster_import"},
			[]string{"student_number", "name", "gender", "birth_date", "grade_id", "homeroom_id", "status", "guardians"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				g := r.Guardians
				if g == nil {
					g = []Guardian{}
				}
				return []any{r.StudentNumber, r.Name, r.Gender, r.BirthDate, ids[i].grade, ids[i].homeroom, r.Status, g}, nil
			}))
		if err != nil {
			return database.MapError(err)
		}
		err = tx.QueryRow(ctx, `WITH up AS (
			INSERT INTO students (school_id, id, student_number, name, gender, birth_date, grade_id, homeroom_id, status, guardians)
			SELECT $1, gen_random_uuid(), student_number, name, gender, birth_date, grade_id, homeroom_id, status, guardians FROM roster_import
			ON CONFLICT (school_id, student_number) DO UPDATE SET name = EXCLUDED.name, gender = EXCLUDED.gender,
			  birth_date = EXCLUDED.birth_date, grade_id = EXCLUDED.grade_id, homeroom_id = EXCLUDED.homeroom_id,
			  status = EXCLUDED.status, guardians = EXCLUDED.guardians, updated_at = now()
			RETURNING (xmax = 0) AS inserted)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`, school).Scan(&res.Created, &res.Updated)
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "students.import", ObjectType: "student",
			Reason: fmt.Sprintf("%d rows: %d created, %d updated", res.Total, res.Created, res.Updated)})
	})
	if err != nil {
		return ImportResult{Total: len(rows)}, err
	}
	return res, nil
}

type unitKey struct {
	parent uuid.UUID
	name   string
}

type units struct {
	district  uuid.UUID
	kind      string // school kind
	grades    map[string]uuid.UUID
	homerooms map[unitKey]uuid.UUID
}

func loadUnits(ctx context.Context, tx pgx.Tx, school uuid.UUID) (*units, error) {
	u := &units{grades: map[string]uuid.UUID{}, homerooms: map[unitKey]uuid.UUID{}}
	if err := tx.QueryRow(ctx, `SELECT district_id, kind FROM schools WHERE id = $1`, school).Scan(&u.district, &u.kind); err != nil {
		return nil, database.MapError(err)
	}
	rows, err := tx.Query(ctx, `SELECT id, parent_id, kind, name FROM org_units WHERE school_id = $1`, school)
	if err != nil {
		return nil, database.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var parent *uuid.UUID
		var kind, name string
		if err := rows.Scan(&id, &parent, &kind, &name); err != nil {
			return nil, database.MapError(err)
		}
		if parent == nil {
			u.grades[name] = id
		} else {
			u.homerooms[unitKey{*parent, name}] = id
		}
	}
	return u, database.MapError(rows.Err())
}

func (u *units) createMissing(ctx context.Context, tx pgx.Tx, school uuid.UUID, rows []Row) error {
	top := "grade"
	if u.kind == "vocational" {
		top = "department"
	}
	for _, r := range rows {
		g, ok := u.grades[r.Grade]
		if !ok {
			g = uuid.Must(uuid.NewV7())
			if _, err := tx.Exec(ctx, `INSERT INTO org_units (school_id, id, district_id, kind, name) VALUES ($1, $2, $3, $4, $5)`,
				school, g, u.district, top, r.Grade); err != nil {
				return database.MapError(err)
			}
			u.grades[r.Grade] = g
		}
		k := unitKey{g, r.Homeroom}
		if _, ok := u.homerooms[k]; !ok {
			h := uuid.Must(uuid.NewV7())
			if _, err := tx.Exec(ctx, `INSERT INTO org_units (school_id, id, district_id, parent_id, kind, name) VALUES ($1, $2, $3, $4, 'homeroom', $5)`,
				school, h, u.district, g, r.Homeroom); err != nil {
				return database.MapError(err)
			}
			u.homerooms[k] = h
		}
	}
	return nil
}
