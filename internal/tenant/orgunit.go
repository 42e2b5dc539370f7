package tenant

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Org unit kinds.
const (
	Grade      = "grade"
	Department = "department"
	Homeroom   = "homeroom"
)

// OrgUnit is a level of a school's org tree.
type OrgUnit struct {
	ID       uuid.UUID  `json:"id"`
	SchoolID uuid.UUID  `json:"school_id"`
	ParentID *uuid.UUID `json:"parent_id"`
	Kind     string     `json:"kind"`
	Name     string     `json:"name"`
	Position int        `json:"position"`
}

// OrgUnitInput creates or renames an org unit.
type OrgUnitInput struct {
	ParentID *uuid.UUID `json:"parent_id"`
	Kind     string     `json:"kind"`
	Name     string     `json:"name"`
	Position *int       `json:"position"`
}

const orgUnitColumns = `id, school_id, parent_id, kind, name, position`

func scanOrgUnit(r pgx.CollectableRow) (OrgUnit, error) {
	var u OrgUnit
	return u, r.Scan(&u.ID, &u.SchoolID, &u.ParentID, &u.Kind, &u.Name, &u.Position)
}

// ListOrgUnits returns the whole org tree of a school, parents before children.
func (s *Service) ListOrgUnits(ctx context.Context, a scope.Actor, school uuid.UUID) ([]OrgUnit, error) {
	var units []OrgUnit
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+orgUnitColumns+` FROM org_units WHERE school_id = $1
			ORDER BY parent_id NULLS FIRST, position, name`, school)
		if err != nil {
			return database.MapError(err)
		}
		units, err = pgx.CollectRows(rows, scanOrgUnit)
		return database.MapError(err)
	})
	if units == nil {
		units = []OrgUnit{}
	}
	return units, err
}

// CreateOrgUnit adds a grade or department (top level) or a homeroom (under one).
func (s *Service) CreateOrgUnit(ctx context.Context, a scope.Actor, school uuid.UUID, in OrgUnitInput) (OrgUnit, error) {
	in.Name = strings.TrimSpace(in.Name)
	var fields []fault.FieldError
	if l := utf8.RuneCountInString(in.Name); l < 1 || l > 64 {
		fields = append(fields, fault.Field("name", "required", "a name of 1-64 characters is required"))
	}
	switch in.Kind {
	case Grade, Department:
		if in.ParentID != nil {
			fields = append(fields, fault.Field("parent_id", "invalid_value", "grades and departments are top-level units"))
		}
	case Homeroom:
		if in.ParentID == nil {
			fields = append(fields, fault.Field("parent_id", "required", "a homeroom belongs to a grade or department"))
		}
	default:
		fields = append(fields, fault.Field("kind", "invalid_value", "kind must be grade, department or homeroom"))
	}
	if !validPosition(in.Position) {
		fields = append(fields, positionError)
	}
	if len(fields) > 0 {
		return OrgUnit{}, fault.Validation(fields...)
	}
	pos := 0
	if in.Position != nil {
		pos = *in.Position
	}
	var u OrgUnit
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var district uuid.UUID
		var schoolKind string
		if err := tx.QueryRow(ctx, `SELECT district_id, kind FROM schools WHERE id = $1`, school).Scan(&district, &schoolKind); err != nil {
			return database.MapError(err)
		}
		if in.Kind == Grade && schoolKind == Vocational || in.Kind == Department && schoolKind == K12 {
			return fault.Validation(fault.Field("kind", "invalid_value", "K-12 schools have grades; vocational schools have departments"))
		}
		if in.ParentID != nil {
			var parentKind string
			err := tx.QueryRow(ctx, `SELECT kind FROM org_units WHERE school_id = $1 AND id = $2`, school, in.ParentID).Scan(&parentKind)
			if err == pgx.ErrNoRows || parentKind == Homeroom {
				return fault.Validation(fault.Field("parent_id", "invalid_value", "the parent must be a grade or department of this school"))
			}
			if err != nil {
				return database.MapError(err)
			}
		}
		rows, err := tx.Query(ctx, `INSERT INTO org_units (school_id, id, district_id, parent_id, kind, name, position)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+orgUnitColumns,
			school, uuid.Must(uuid.NewV7()), district, in.ParentID, in.Kind, in.Name, pos)
		if err != nil {
			return database.MapError(err)
		}
		if u, err = pgx.CollectExactlyOneRow(rows, scanOrgUnit); err != nil {
			return nameConflict(database.MapError(err))
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "org_units.create", ObjectType: "org_unit", ObjectID: u.ID.String()})
	})
	return u, err
}

func nameConflict(err error) error {
	if fault.KindOf(err) == fault.Conflict {
		return &fault.Error{Kind: fault.Conflict, Message: "the name is taken",
			Fields: []fault.FieldError{fault.Field("name", "duplicate", "a unit with this name exists at this level")}}
	}
	return err
}

// UpdateOrgUnit renames or moves an org unit within its level.
func (s *Service) UpdateOrgUnit(ctx context.Context, a scope.Actor, school, id uuid.UUID, name *string, position *int) (OrgUnit, error) {
	if name != nil {
		*name = strings.TrimSpace(*name)
		if l := utf8.RuneCountInString(*name); l < 1 || l > 64 {
			return OrgUnit{}, fault.Validation(fault.Field("name", "required", "a name of 1-64 characters is required"))
		}
	}
	if !validPosition(position) {
		return OrgUnit{}, fault.Validation(positionError)
	}
	var u OrgUnit
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE org_units SET name = coalesce($3, name), position = coalesce($4, position)
			WHERE school_id = $1 AND id = $2 RETURNING `+orgUnitColumns, school, id, name, position)
		if err != nil {
			return database.MapError(err)
		}
		if u, err = pgx.CollectExactlyOneRow(rows, scanOrgUnit); err != nil {
			return nameConflict(database.MapError(err))
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "org_units.update", ObjectType: "org_unit", ObjectID: id.String()})
	})
	return u, err
}

// DeleteOrgUnit removes an empty org unit (no children, students or memberships).
func (s *Service) DeleteOrgUnit(ctx context.Context, a scope.Actor, school, id uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM org_units WHERE school_id = $1 AND id = $2`, school, id)
		if err != nil {
			if fault.KindOf(database.MapError(err)) == fault.Invalid {
				return fault.New(fault.Conflict, "the unit still has homerooms, students or staff")
			}
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "org_units.delete", ObjectType: "org_unit", ObjectID: id.String()})
	})
}

// validPosition: a unit's place among its siblings, 0 to 100,000 (the column is an int4;
// a larger number would fail in the database instead of answering 422).
func validPosition(p *int) bool { return p == nil || (*p >= 0 && *p <= 100_000) }

var positionError = fault.Field("position", "out_of_range", "a position from 0 to 100,000")
