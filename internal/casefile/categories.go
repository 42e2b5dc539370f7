package casefile

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Category is a concern category (关注类别) of a district's taxonomy. Sessions store its
// code; the code never changes and a category is deactivated, never deleted.
type Category struct {
	Code     string `json:"code"`
	NameZh   string `json:"name_zh"`
	NameEn   string `json:"name_en"`
	Position int    `json:"position"`
	Active   bool   `json:"active"`
}

// CategoryInput creates a category, or changes one (nil fields are left as they are;
// Code may only repeat the category's own code).
type CategoryInput struct {
	Code     *string `json:"code"`
	NameZh   *string `json:"name_zh"`
	NameEn   *string `json:"name_en"`
	Position *int    `json:"position"`
	Active   *bool   `json:"active"`
}

var categoryCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

func (in *CategoryInput) validate(create bool) error {
	var f []fault.FieldError
	if create {
		if in.Code == nil || !categoryCode.MatchString(*in.Code) {
			f = append(f, fault.Field("code", "invalid_format", "2-40 characters: lower-case letters, digits or '_', starting with a letter"))
		}
	}
	for _, n := range []struct {
		field string
		v     *string
		max   int
	}{{"name_zh", in.NameZh, 40}, {"name_en", in.NameEn, 60}} {
		if n.v != nil {
			*n.v = strings.TrimSpace(*n.v)
		}
		if (n.v == nil && create) || (n.v != nil && (*n.v == "" || utf8.RuneCountInString(*n.v) > n.max)) {
			f = append(f, fault.Field(n.field, "required", "a name is required"))
		}
	}
	if in.Position != nil && (*in.Position < 0 || *in.Position > 10000) {
		f = append(f, fault.Field("position", "out_of_range", "0 to 10,000"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

const categoryColumns = `code, name_zh, name_en, position, active`

func scanCategory(r pgx.CollectableRow) (Category, error) {
	var c Category
	return c, r.Scan(&c.Code, &c.NameZh, &c.NameEn, &c.Position, &c.Active)
}

func categories(ctx context.Context, tx pgx.Tx, district uuid.UUID) ([]Category, error) {
	rows, err := tx.Query(ctx, `SELECT `+categoryColumns+` FROM concern_categories WHERE district_id = $1 ORDER BY position, code`, district)
	if err != nil {
		return nil, database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, scanCategory)
	return list, database.MapError(err)
}

// DistrictCategories lists a district's taxonomy, inactive categories included.
func (s *Service) DistrictCategories(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Category, error) {
	var out []Category
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = categories(ctx, tx, district)
		return err
	})
	return out, err
}

// SchoolCategories lists the taxonomy of a school's district (inactive ones too, so old
// sessions still show their names; the session form offers the active ones).
func (s *Service) SchoolCategories(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Category, error) {
	var out []Category
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var district uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT district_id FROM schools WHERE id = $1`, school).Scan(&district); err != nil {
			return database.MapError(err)
		}
		var err error
		out, err = categories(ctx, tx, district)
		return err
	})
	return out, err
}

// CreateCategory adds a category to a district's taxonomy.
func (s *Service) CreateCategory(ctx context.Context, a scope.Actor, district uuid.UUID, in CategoryInput) (Category, error) {
	if err := in.validate(true); err != nil {
		return Category{}, err
	}
	var c Category
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		pos := 0
		if in.Position != nil {
			pos = *in.Position
		} else if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) + 10 FROM concern_categories WHERE district_id = $1`, district).Scan(&pos); err != nil {
			return database.MapError(err)
		}
		rows, err := tx.Query(ctx, `INSERT INTO concern_categories (district_id, code, name_zh, name_en, position) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (district_id, code) DO NOTHING RETURNING `+categoryColumns, district, *in.Code, *in.NameZh, *in.NameEn, pos)
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, scanCategory)
		if err != nil {
			return database.MapError(err)
		}
		if len(list) == 0 {
			return &fault.Error{Kind: fault.Conflict, Message: "the category code is taken",
				Fields: []fault.FieldError{fault.Field("code", "duplicate", "the district already has this code")}}
		}
		c = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "concern_categories.create", ObjectType: "concern_category", ObjectID: c.Code})
	})
	return c, err
}

// UpdateCategory renames, reorders, deactivates or reactivates a category. Its code
// never changes.
func (s *Service) UpdateCategory(ctx context.Context, a scope.Actor, district uuid.UUID, code string, in CategoryInput) (Category, error) {
	if in.Code != nil && *in.Code != code {
		return Category{}, fault.Validation(fault.Field("code", "invalid_value", "the code of a category never changes"))
	}
	if err := in.validate(false); err != nil {
		return Category{}, err
	}
	var c Category
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE concern_categories SET name_zh = coalesce($3, name_zh), name_en = coalesce($4, name_en),
			position = coalesce($5, position), active = coalesce($6, active), updated_at = now()
			WHERE district_id = $1 AND code = $2 RETURNING `+categoryColumns, district, code, in.NameZh, in.NameEn, in.Position, in.Active)
		if err != nil {
			return database.MapError(err)
		}
		if c, err = pgx.CollectExactlyOneRow(rows, scanCategory); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "concern_categories.update", ObjectType: "concern_category", ObjectID: code})
	})
	return c, err
}

// checkCategories refuses categories that are not active in the school's district.
func checkCategories(ctx context.Context, tx pgx.Tx, school uuid.UUID, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	var unknown int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM unnest($2::text[]) AS x(code)
		WHERE NOT EXISTS (SELECT 1 FROM concern_categories c JOIN schools sc ON sc.district_id = c.district_id
			WHERE sc.id = $1 AND c.code = x.code AND c.active)`, school, codes).Scan(&unknown)
	if err != nil {
		return database.MapError(err)
	}
	if unknown > 0 {
		return fault.Validation(fault.Field("categories", "invalid_value", "unknown concern category"))
	}
	return nil
}
