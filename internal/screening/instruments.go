package screening

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/instrument"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Instrument is one stored version of an instrument.
type Instrument struct {
	ID         uuid.UUID             `json:"id"`
	Code       string                `json:"code"`
	Version    int                   `json:"version"`
	Name       instrument.Text       `json:"name"`
	Builtin    bool                  `json:"builtin"`
	Licensed   bool                  `json:"licensed"`
	Used       bool                  `json:"used"`
	CreatedAt  time.Time             `json:"created_at"`
	Definition instrument.Definition `json:"definition"`
	md5        string
}

// DefinitionInput carries a definition to save or check.
type DefinitionInput struct {
	Definition *instrument.Definition `json:"definition"`
}

// Checked is the answer to a definition check.
type Checked struct {
	Valid    bool `json:"valid"`
	TotalMin int  `json:"total_min"`
	TotalMax int  `json:"total_max"`
}

// prefixed moves validation fields under "definition.".
func prefixed(err error) error {
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid {
		return err
	}
	out := make([]fault.FieldError, 0, len(fe.Fields))
	for _, f := range fe.Fields {
		f.Field = "definition." + f.Field
		out = append(out, f)
	}
	return fault.Validation(out...)
}

func validate(in DefinitionInput) (instrument.Definition, error) {
	if in.Definition == nil {
		return instrument.Definition{}, fault.Validation(fault.Field("definition", "required", "the instrument definition is required"))
	}
	d := *in.Definition
	if err := d.Validate(); err != nil {
		return d, prefixed(err)
	}
	if slices.ContainsFunc(instrument.Builtin(), func(b instrument.Definition) bool { return b.Code == d.Code }) {
		return d, fault.Validation(fault.Field("definition.code", "taken", "this code belongs to a built-in instrument"))
	}
	return d, nil
}

// Check validates a definition without storing it (the editor's live preview).
func (s *Service) Check(in DefinitionInput) (Checked, error) {
	d, err := validate(in)
	if err != nil {
		return Checked{}, err
	}
	lo, hi := d.TotalRange()
	return Checked{Valid: true, TotalMin: lo, TotalMax: hi}, nil
}

const instrumentColumns = `id, code, version, district_id IS NULL, licensed, used, created_at, definition, md5(definition::text)`

func scanInstrument(r pgx.Row) (Instrument, error) {
	var x Instrument
	var raw []byte
	if err := r.Scan(&x.ID, &x.Code, &x.Version, &x.Builtin, &x.Licensed, &x.Used, &x.CreatedAt, &raw, &x.md5); err != nil {
		return x, err
	}
	if err := json.Unmarshal(raw, &x.Definition); err != nil {
		return x, fault.Wrap(err, "decode instrument definition")
	}
	x.Name = x.Definition.Name
	return x, nil
}

// ListInstruments lists the latest version of every instrument the district can use,
// built-ins first.
func (s *Service) ListInstruments(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Instrument, error) {
	var out []Instrument
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT ON (district_id IS NULL, code) `+instrumentColumns+`
			FROM instruments WHERE district_id IS NULL OR district_id = $1
			ORDER BY district_id IS NULL DESC, code, version DESC`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instrument, error) { return scanInstrument(r) })
		return database.MapError(err)
	})
	return out, err
}

func instrumentByID(ctx context.Context, tx pgx.Tx, district, id uuid.UUID, lock bool) (Instrument, error) {
	q := `SELECT ` + instrumentColumns + ` FROM instruments WHERE id = $2 AND (district_id IS NULL OR district_id = $1)`
	if lock {
		q += ` FOR UPDATE`
	}
	x, err := scanInstrument(tx.QueryRow(ctx, q, district, id))
	return x, database.MapError(err)
}

// GetInstrument returns one instrument version.
func (s *Service) GetInstrument(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Instrument, error) {
	var out Instrument
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = instrumentByID(ctx, tx, district, id, false)
		return err
	})
	return out, err
}

// CreateInstrument stores version 1 of a district instrument.
func (s *Service) CreateInstrument(ctx context.Context, a scope.Actor, district uuid.UUID, in DefinitionInput) (Instrument, error) {
	d, err := validate(in)
	if err != nil {
		return Instrument{}, err
	}
	var out Instrument
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instruments WHERE district_id = $1 AND code = $2)`, district, d.Code).Scan(&exists); err != nil {
			return database.MapError(err)
		}
		if exists {
			return fault.Validation(fault.Field("definition.code", "taken", "an instrument with this code exists: edit it to make a new version"))
		}
		id, err := insertVersion(ctx, tx, a, district, d, 1)
		if err != nil {
			return err
		}
		if out, err = instrumentByID(ctx, tx, district, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "instruments.create", ObjectType: "instrument", ObjectID: id.String()})
	})
	return out, err
}

func insertVersion(ctx context.Context, tx pgx.Tx, a scope.Actor, district uuid.UUID, d instrument.Definition, version int) (uuid.UUID, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return uuid.Nil, fault.Wrap(err, "encode definition")
	}
	id := uuid.Must(uuid.NewV7())
	_, err = tx.Exec(ctx, `INSERT INTO instruments (id, district_id, code, version, definition, licensed, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, district, d.Code, version, raw, d.Licensed, a.UserID)
	return id, database.MapError(err)
}

// UpdateInstrument edits an instrument. A version that any assessment was scored with
// never changes: the edit becomes a new version (a new id). Built-ins cannot be edited.
// The code cannot change.
func (s *Service) UpdateInstrument(ctx context.Context, a scope.Actor, district, id uuid.UUID, in DefinitionInput) (Instrument, error) {
	if in.Definition != nil && in.Definition.Code == "" {
		return Instrument{}, fault.Validation(fault.Field("definition.code", "required", "the code is required"))
	}
	var out Instrument
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := instrumentByID(ctx, tx, district, id, false)
		if err != nil {
			return err
		}
		if cur.Builtin {
			return fault.New(fault.Conflict, "built-in instruments cannot be edited")
		}
		// Lock through an UPDATE-capable statement so a first submission waits for us.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM instruments WHERE id = $1 AND district_id = $2 FOR UPDATE`, id, district); err != nil {
			return database.MapError(err)
		}
		if cur, err = instrumentByID(ctx, tx, district, id, false); err != nil {
			return err
		}
		if in.Definition != nil && in.Definition.Code != cur.Code {
			return fault.Validation(fault.Field("definition.code", "immutable", "the code of an instrument cannot change"))
		}
		d, err := validate(in)
		if err != nil {
			return err
		}
		var latest int
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM instruments WHERE district_id = $1 AND code = $2`, district, cur.Code).Scan(&latest); err != nil {
			return database.MapError(err)
		}
		if latest != cur.Version {
			return fault.New(fault.Conflict, "a newer version of this instrument exists: edit that one")
		}
		newID := id
		if cur.Used {
			if newID, err = insertVersion(ctx, tx, a, district, d, cur.Version+1); err != nil {
				return err
			}
		} else {
			raw, err := json.Marshal(d)
			if err != nil {
				return fault.Wrap(err, "encode definition")
			}
			if _, err := tx.Exec(ctx, `UPDATE instruments SET definition = $3, licensed = $4 WHERE id = $1 AND district_id = $2`,
				id, district, raw, d.Licensed); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = instrumentByID(ctx, tx, district, newID, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "instruments.update", ObjectType: "instrument", ObjectID: newID.String()})
	})
	return out, err
}

// Licence is a district's record of a licence for a licensed instrument.
type Licence struct {
	ID             uuid.UUID `json:"id"`
	InstrumentCode string    `json:"instrument_code"`
	Holder         string    `json:"holder"`
	Reference      string    `json:"reference"`
	ValidUntil     string    `json:"valid_until"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// LicenceInput records a licence.
type LicenceInput struct {
	InstrumentCode string `json:"instrument_code"`
	Holder         string `json:"holder"`
	Reference      string `json:"reference"`
	ValidUntil     string `json:"valid_until"`
}

// Licences lists the district's licences.
func (s *Service) Licences(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Licence, error) {
	var out []Licence
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, instrument_code, holder, reference, to_char(valid_until, 'YYYY-MM-DD'), recorded_at
			FROM instrument_licences WHERE district_id = $1 ORDER BY instrument_code, valid_until DESC`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Licence, error) {
			var l Licence
			return l, r.Scan(&l.ID, &l.InstrumentCode, &l.Holder, &l.Reference, &l.ValidUntil, &l.RecordedAt)
		})
		return database.MapError(err)
	})
	return out, err
}

func text(field string, v *string, max int, f *[]fault.FieldError) {
	*v = strings.TrimSpace(*v)
	if n := utf8.RuneCountInString(*v); n == 0 || n > max {
		*f = append(*f, fault.Field(field, "required", "1 to "+strconv.Itoa(max)+" characters"))
	}
}

// RecordLicence records a licence of a licensed instrument of the district.
func (s *Service) RecordLicence(ctx context.Context, a scope.Actor, district uuid.UUID, in LicenceInput) (Licence, error) {
	var f []fault.FieldError
	text("holder", &in.Holder, 200, &f)
	text("reference", &in.Reference, 200, &f)
	until, err := time.Parse(time.DateOnly, in.ValidUntil)
	if err != nil {
		f = append(f, fault.Field("valid_until", "invalid_value", "a date YYYY-MM-DD"))
	} else if until.Before(s.now().AddDate(0, 0, -1)) {
		f = append(f, fault.Field("valid_until", "out_of_range", "the licence has already expired"))
	}
	if in.InstrumentCode == "" {
		f = append(f, fault.Field("instrument_code", "required", "the instrument code is required"))
	}
	if len(f) > 0 {
		return Licence{}, fault.Validation(f...)
	}
	var out Licence
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var licensed bool
		err := tx.QueryRow(ctx, `SELECT licensed FROM instruments WHERE district_id = $1 AND code = $2 ORDER BY version DESC LIMIT 1`,
			district, in.InstrumentCode).Scan(&licensed)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Validation(fault.Field("instrument_code", "invalid_value", "no such instrument in this district"))
		}
		if err != nil {
			return database.MapError(err)
		}
		if !licensed {
			return fault.Validation(fault.Field("instrument_code", "invalid_value", "this instrument is not marked licensed: it needs no licence"))
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO instrument_licences (district_id, id, instrument_code, holder, reference, valid_until, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, district, id, in.InstrumentCode, in.Holder, in.Reference, until, a.UserID); err != nil {
			return database.MapError(err)
		}
		out = Licence{ID: id, InstrumentCode: in.InstrumentCode, Holder: in.Holder, Reference: in.Reference, ValidUntil: in.ValidUntil, RecordedAt: s.now()}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "instrument_licences.record", ObjectType: "instrument_licence", ObjectID: id.String()})
	})
	return out, err
}

// Enablement lets a school use a licensed instrument.
type Enablement struct {
	SchoolID       uuid.UUID `json:"school_id"`
	SchoolName     string    `json:"school_name"`
	InstrumentCode string    `json:"instrument_code"`
	EnabledAt      time.Time `json:"enabled_at"`
}

// EnablementInput enables a licensed instrument for a school.
type EnablementInput struct {
	SchoolID       uuid.UUID `json:"school_id"`
	InstrumentCode string    `json:"instrument_code"`
}

// Enablements lists the district's enablements.
func (s *Service) Enablements(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Enablement, error) {
	var out []Enablement
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e.school_id, sc.name, e.instrument_code, e.enabled_at FROM instrument_enablements e
			JOIN schools sc ON sc.id = e.school_id WHERE e.district_id = $1 ORDER BY sc.name, e.instrument_code`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Enablement, error) {
			var e Enablement
			return e, r.Scan(&e.SchoolID, &e.SchoolName, &e.InstrumentCode, &e.EnabledAt)
		})
		return database.MapError(err)
	})
	return out, err
}

// validLicence reports whether the district holds a licence of code valid today.
func validLicence(ctx context.Context, tx pgx.Tx, district uuid.UUID, code string, today time.Time) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instrument_licences WHERE district_id = $1 AND instrument_code = $2 AND valid_until >= $3::date)`,
		district, code, today.Format(time.DateOnly)).Scan(&ok)
	return ok, database.MapError(err)
}

// Enable lets a school use a licensed instrument; it is refused (409) until the district
// has recorded a valid licence. Public-domain instruments need no enablement.
func (s *Service) Enable(ctx context.Context, a scope.Actor, district uuid.UUID, in EnablementInput) (Enablement, error) {
	if in.SchoolID == uuid.Nil || in.InstrumentCode == "" {
		return Enablement{}, fault.Validation(fault.Field("school_id", "required", "school_id and instrument_code are required"))
	}
	var out Enablement
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1 AND district_id = $2`, in.SchoolID, district).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Validation(fault.Field("school_id", "invalid_value", "no such school in this district"))
		}
		if err != nil {
			return database.MapError(err)
		}
		var licensed bool
		err = tx.QueryRow(ctx, `SELECT licensed FROM instruments WHERE district_id = $1 AND code = $2 ORDER BY version DESC LIMIT 1`,
			district, in.InstrumentCode).Scan(&licensed)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Validation(fault.Field("instrument_code", "invalid_value", "no such licensed instrument in this district"))
		}
		if err != nil {
			return database.MapError(err)
		}
		if !licensed {
			return fault.Validation(fault.Field("instrument_code", "invalid_value", "this instrument is public domain: every school may use it"))
		}
		ok, err := validLicence(ctx, tx, district, in.InstrumentCode, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return fault.New(fault.Conflict, "record a valid licence for this instrument before enabling it for a school")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO instrument_enablements (district_id, school_id, instrument_code, enabled_by) VALUES ($1, $2, $3, $4)`,
			district, in.SchoolID, in.InstrumentCode, a.UserID); err != nil {
			return database.MapError(err)
		}
		out = Enablement{SchoolID: in.SchoolID, SchoolName: name, InstrumentCode: in.InstrumentCode, EnabledAt: s.now()}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "instrument_enablements.enable", ObjectType: "school", ObjectID: in.SchoolID.String(), Reason: in.InstrumentCode})
	})
	return out, err
}
