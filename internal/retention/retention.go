// Package retention owns how long archived case files are kept (保存期限, per district,
// default 10 years after archiving) and their destruction when that time has run out:
// every row of the file is deleted in one transaction, its document objects are removed
// from the district's bucket afterwards, and a destruction record (counts, never content
// or identity) plus an audit row say what was destroyed.
package retention

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// TypeDestroy is the daily job that destroys case files whose retention has run out.
const TypeDestroy = "retention:destroy"

// Objects removes document objects; blob.Store implements it.
type Objects interface {
	Remove(ctx context.Context, district uuid.UUID, key string) error
}

// Service is the retention service.
type Service struct {
	DB      *database.DB
	Objects Objects
	Log     *slog.Logger
}

// Policy is a district's retention rule.
type Policy struct {
	RetentionYears int `json:"retention_years"`
}

// Policy returns the district's retention rule.
func (s *Service) Policy(ctx context.Context, a scope.Actor, district uuid.UUID) (Policy, error) {
	var p Policy
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		return database.MapError(tx.QueryRow(ctx, `SELECT retention_years FROM districts WHERE id = $1`, district).Scan(&p.RetentionYears))
	})
	return p, err
}

// SetPolicy changes the district's retention period (1 to 30 years after archiving).
func (s *Service) SetPolicy(ctx context.Context, a scope.Actor, district uuid.UUID, in Policy) (Policy, error) {
	if in.RetentionYears < 1 || in.RetentionYears > 30 {
		return Policy{}, fault.Validation(fault.Field("retention_years", "out_of_range", "1 to 30 years"))
	}
	var p Policy
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE districts SET retention_years = $2 WHERE id = $1 RETURNING retention_years`, district, in.RetentionYears).
			Scan(&p.RetentionYears)
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "retention.update", ObjectType: "district", ObjectID: district.String(),
			Reason: "retention_years " + strconv.Itoa(in.RetentionYears)})
	})
	return p, err
}

// Destruction is the record of a destroyed case file: what kinds of entries and how many.
type Destruction struct {
	SchoolID         uuid.UUID        `json:"school_id"`
	SchoolName       string           `json:"school_name"`
	CaseFileID       uuid.UUID        `json:"case_file_id"`
	ArchivedAt       time.Time        `json:"archived_at"`
	DestroyedAt      time.Time        `json:"destroyed_at"`
	Counts           map[string]int64 `json:"counts"`
	Objects          int              `json:"objects"`
	ObjectsRemovedAt *time.Time       `json:"objects_removed_at"`
}

// Destructions lists the district's destruction records, newest first.
func (s *Service) Destructions(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Destruction, error) {
	var out []Destruction
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT d.school_id, sc.name, d.case_file_id, d.archived_at, d.destroyed_at, d.counts,
			cardinality(d.object_keys), d.objects_removed_at
			FROM case_file_destructions d JOIN schools sc ON sc.id = d.school_id
			WHERE d.district_id = $1 ORDER BY d.destroyed_at DESC LIMIT 500`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Destruction, error) {
			var d Destruction
			return d, r.Scan(&d.SchoolID, &d.SchoolName, &d.CaseFileID, &d.ArchivedAt, &d.DestroyedAt, &d.Counts, &d.Objects, &d.ObjectsRemovedAt)
		})
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "retention.destructions", ObjectType: "district", ObjectID: district.String()})
	})
	return out, err
}

// Report says what one run of the destruction job did.
type Report struct {
	Destroyed      int
	ObjectsRemoved int
}

type destroyed struct {
	district, school, file uuid.UUID
	keys                   []string
	counts                 map[string]int64
}

// DestroyExpired destroys up to limit case files whose retention has run out, then
// removes their objects (and those a crashed earlier run left). It needs no user: the
// database functions it calls can destroy expired files and nothing else. A second run
// finds nothing more to do.
func (s *Service) DestroyExpired(ctx context.Context, limit int) (Report, error) {
	var rep Report
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, case_file_id, object_keys, counts FROM destroy_expired_case_files($1)`, limit)
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (destroyed, error) {
			var d destroyed
			return d, r.Scan(&d.district, &d.school, &d.file, &d.keys, &d.counts)
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, d := range list {
			a := scope.Actor{DistrictID: d.district, SchoolID: d.school, Kind: scope.School, Username: "system:retention"}
			if err := database.SetScope(ctx, tx, a); err != nil {
				return fault.Wrap(err, "scope")
			}
			counts, _ := json.Marshal(d.counts)
			if err := audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.destroy", ObjectType: "case_file", ObjectID: d.file.String(),
				Reason: "retention period over; destroyed " + string(counts)}); err != nil {
				return err
			}
		}
		rep.Destroyed = len(list)
		return nil
	})
	if err != nil {
		return rep, err
	}
	// Objects go after the commit: never hold a transaction across the object store.
	var pending []destroyed
	err = s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, case_file_id, object_keys FROM destruction_objects_pending()`)
		if err != nil {
			return database.MapError(err)
		}
		pending, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (destroyed, error) {
			var d destroyed
			return d, r.Scan(&d.district, &d.school, &d.file, &d.keys)
		})
		return database.MapError(err)
	})
	if err != nil {
		return rep, err
	}
	for _, d := range pending {
		for _, k := range d.keys {
			if err := s.Objects.Remove(ctx, d.district, k); err != nil {
				return rep, fault.Wrap(err, "remove a destroyed document object")
			}
			rep.ObjectsRemoved++
		}
		if err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT destruction_objects_removed($1, $2)`, d.school, d.file)
			return database.MapError(err)
		}); err != nil {
			return rep, err
		}
	}
	return rep, nil
}
