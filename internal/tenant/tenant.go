// Package tenant owns districts, their schools (the tenants) and each school's org
// tree: grades (K-12) or departments (vocational) and their homerooms.
package tenant

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Service is the tenant domain service.
type Service struct {
	DB *database.DB
}

var codePattern = regexp.MustCompile(`^[a-z0-9-]{2,32}$`)

// District is a district counseling center.
type District struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
}

// School is a tenant.
type School struct {
	ID         uuid.UUID `json:"id"`
	DistrictID uuid.UUID `json:"district_id"`
	Name       string    `json:"name"`
	Code       string    `json:"code"`
	Kind       string    `json:"kind"`
	CreatedAt  time.Time `json:"created_at"`
}

// School kinds.
const (
	K12        = "k12"
	Vocational = "vocational"
)

// CreateDistrict creates a district; a is an actor whose DistrictID is the new id
// (the bootstrap command builds it).
func (s *Service) CreateDistrict(ctx context.Context, a scope.Actor, name, code string) (District, error) {
	var d District
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		d, err = createDistrict(ctx, tx, a, name, code)
		return err
	})
	return d, err
}

// BootstrapDistrict creates a district and its first administrator in one
// transaction: both exist afterwards, or neither does.
func (s *Service) BootstrapDistrict(ctx context.Context, a scope.Actor, name, code string, ids *identity.Service, admin identity.NewUser) (District, identity.User, error) {
	var d District
	var u identity.User
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if d, err = createDistrict(ctx, tx, a, name, code); err != nil {
			return err
		}
		u, err = ids.BootstrapAdminTx(ctx, tx, a, admin)
		return err
	})
	return d, u, err
}

func createDistrict(ctx context.Context, tx pgx.Tx, a scope.Actor, name, code string) (District, error) {
	d := District{ID: a.DistrictID, Name: strings.TrimSpace(name), Code: strings.TrimSpace(code)}
	var fields []fault.FieldError
	if l := utf8.RuneCountInString(d.Name); l < 1 || l > 100 {
		fields = append(fields, fault.Field("name", "required", "a name of 1-100 characters is required"))
	}
	if !codePattern.MatchString(d.Code) {
		fields = append(fields, fault.Field("code", "invalid_format", "2-32 characters: lower-case letters, digits or '-'"))
	}
	if len(fields) > 0 {
		return District{}, fault.Validation(fields...)
	}
	err := tx.QueryRow(ctx, `INSERT INTO districts (id, name, code) VALUES ($1, $2, $3) RETURNING created_at`, d.ID, d.Name, d.Code).Scan(&d.CreatedAt)
	if err != nil {
		err = database.MapError(err)
		if fault.KindOf(err) == fault.Conflict {
			return District{}, &fault.Error{Kind: fault.Conflict, Message: "the district code is taken",
				Fields: []fault.FieldError{fault.Field("code", "duplicate", "another district has this code")}}
		}
		return District{}, err
	}
	return d, audit.Record(ctx, tx, a, audit.Entry{Action: "districts.create", ObjectType: "district", ObjectID: d.ID.String()})
}

// SchoolInput creates or changes a school. Nil fields are left unchanged on update.
type SchoolInput struct {
	Name *string `json:"name"`
	Code *string `json:"code"`
	Kind *string `json:"kind"`
}

func (in *SchoolInput) validate(create bool) error {
	var fields []fault.FieldError
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if l := utf8.RuneCountInString(*in.Name); l < 1 || l > 100 {
			fields = append(fields, fault.Field("name", "required", "a name of 1-100 characters is required"))
		}
	} else if create {
		fields = append(fields, fault.Field("name", "required", "name is required"))
	}
	if in.Code != nil {
		*in.Code = strings.TrimSpace(*in.Code)
		if !codePattern.MatchString(*in.Code) {
			fields = append(fields, fault.Field("code", "invalid_format", "2-32 characters: lower-case letters, digits or '-'"))
		}
	} else if create {
		fields = append(fields, fault.Field("code", "required", "code is required"))
	}
	if in.Kind != nil {
		if *in.Kind != K12 && *in.Kind != Vocational {
			fields = append(fields, fault.Field("kind", "invalid_value", "kind must be k12 or vocational"))
		}
		if !create {
			fields = append(fields, fault.Field("kind", "invalid_value", "the kind of a school cannot change"))
		}
	} else if create {
		fields = append(fields, fault.Field("kind", "required", "kind is required"))
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	return nil
}

const schoolColumns = `id, district_id, name, code, kind, created_at`

func scanSchool(r pgx.CollectableRow) (School, error) {
	var s School
	return s, r.Scan(&s.ID, &s.DistrictID, &s.Name, &s.Code, &s.Kind, &s.CreatedAt)
}

func conflictOnCode(err error) error {
	if fault.KindOf(err) == fault.Conflict {
		return &fault.Error{Kind: fault.Conflict, Message: "the code is taken",
			Fields: []fault.FieldError{fault.Field("code", "duplicate", "another school of the district has this code")}}
	}
	return err
}

// CreateSchool creates a school in the district.
func (s *Service) CreateSchool(ctx context.Context, a scope.Actor, district uuid.UUID, in SchoolInput) (School, error) {
	if err := in.validate(true); err != nil {
		return School{}, err
	}
	var sc School
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO schools (id, district_id, name, code, kind) VALUES ($1, $2, $3, $4, $5)
			RETURNING `+schoolColumns, uuid.Must(uuid.NewV7()), district, *in.Name, *in.Code, *in.Kind)
		if err != nil {
			return database.MapError(err)
		}
		if sc, err = pgx.CollectExactlyOneRow(rows, scanSchool); err != nil {
			return conflictOnCode(database.MapError(err))
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "schools.create", ObjectType: "school", ObjectID: sc.ID.String()})
	})
	return sc, err
}

// UpdateSchool changes a school's name or code.
func (s *Service) UpdateSchool(ctx context.Context, a scope.Actor, district, id uuid.UUID, in SchoolInput) (School, error) {
	if err := in.validate(false); err != nil {
		return School{}, err
	}
	var sc School
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE schools SET name = coalesce($3, name), code = coalesce($4, code), updated_at = now()
			WHERE district_id = $1 AND id = $2 RETURNING `+schoolColumns, district, id, in.Name, in.Code)
		if err != nil {
			return database.MapError(err)
		}
		if sc, err = pgx.CollectExactlyOneRow(rows, scanSchool); err != nil {
			return conflictOnCode(database.MapError(err))
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "schools.update", ObjectType: "school", ObjectID: sc.ID.String()})
	})
	return sc, err
}

// GetSchool returns one school of the district.
func (s *Service) GetSchool(ctx context.Context, a scope.Actor, district, id uuid.UUID) (School, error) {
	var sc School
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+schoolColumns+` FROM schools WHERE district_id = $1 AND id = $2`, district, id)
		if err != nil {
			return database.MapError(err)
		}
		sc, err = pgx.CollectExactlyOneRow(rows, scanSchool)
		return database.MapError(err)
	})
	return sc, err
}

// ListSchools lists the district's schools by code.
func (s *Service) ListSchools(ctx context.Context, a scope.Actor, district uuid.UUID, pr page.Request) (page.Page[School], error) {
	size, err := pr.Size()
	if err != nil {
		return page.Page[School]{}, err
	}
	after, err := pr.After()
	if err != nil {
		return page.Page[School]{}, err
	}
	var items []School
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+schoolColumns+` FROM schools WHERE district_id = $1 AND code > $2
			ORDER BY code LIMIT $3`, district, after, size+1)
		if err != nil {
			return database.MapError(err)
		}
		items, err = pgx.CollectRows(rows, scanSchool)
		return database.MapError(err)
	})
	return page.Build(items, size, func(s School) string { return s.Code }), err
}

// InDistrict reports whether school belongs to the actor's district (district scope).
func (s *Service) InDistrict(ctx context.Context, a scope.Actor, school uuid.UUID) (bool, error) {
	var ok bool
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		return database.MapError(tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools WHERE district_id = $1 AND id = $2)`,
			a.DistrictID, school).Scan(&ok))
	})
	return ok, err
}
