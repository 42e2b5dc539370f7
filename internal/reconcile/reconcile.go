// Package reconcile removes orphan objects from the object store: bytes written by an
// upload whose row was never committed (a crash between the two steps). Uploads write
// the object first, with no transaction open, then the row; so an object without a row
// that is older than any upload takes is an orphan. One periodic job serves every kind
// of stored object; each kind declares where its objects live (a key prefix and shape)
// and how to ask the database which keys have no row.
package reconcile

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// TypeReconcile is the periodic job that removes orphan objects of every kind.
const TypeReconcile = "objects:reconcile"

// OrphanAge is how old an object without a row must be before it is removed: far
// longer than any upload takes between writing the object and committing the row.
const OrphanAge = time.Hour

// Store is the object store, one bucket per district (blob.Store implements it).
type Store interface {
	Remove(ctx context.Context, district uuid.UUID, key string) error
	List(ctx context.Context, district uuid.UUID, prefix string, fn func(key string, modified time.Time) error) error
	Districts(ctx context.Context) ([]uuid.UUID, error)
}

// Kind is one kind of stored object.
type Kind struct {
	Prefix  string         // the keys start with it ("" when they start with the school id)
	Pattern *regexp.Regexp // the whole key; other keys under the prefix are left alone
	// Unreferenced is a database function (district uuid, keys text[]) → SETOF text
	// that returns the keys without a row, among those of the district's schools.
	Unreferenced string
	// PerSchool: keys start with the school id, and the removal is audited in the
	// school's chain; otherwise in the district's.
	PerSchool   bool
	AuditAction string // e.g. documents.orphans_removed
	ObjectType  string // e.g. document
	RowName     string // what a row of this kind is called in the audit reason
}

// Job removes orphan objects of its kinds.
type Job struct {
	DB    *database.DB
	Store Store
	Kinds []Kind
}

// Run removes, in the bucket of every district of this database, the objects of each
// kind last modified before cutoff that have no row. Objects whose keys are no key of a
// kind, and objects of districts or schools this database does not know (another
// deployment sharing the store), are left alone. One audit row per school (or district)
// and kind records how many were removed. It returns how many objects it removed.
func (j *Job) Run(ctx context.Context, cutoff time.Time) (int, error) {
	buckets, err := j.Store.Districts(ctx)
	if err != nil {
		return 0, err
	}
	// Only the districts of this database: other deployments may share the store.
	var districts []uuid.UUID
	err = j.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM document_known_districts($1) AS id`, buckets)
		if err != nil {
			return database.MapError(err)
		}
		districts, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		return database.MapError(err)
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, district := range districts {
		for _, k := range j.Kinds {
			n, err := j.kind(ctx, district, k, cutoff)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (j *Job) kind(ctx context.Context, district uuid.UUID, k Kind, cutoff time.Time) (int, error) {
	var old []string
	err := j.Store.List(ctx, district, k.Prefix, func(key string, modified time.Time) error {
		if modified.Before(cutoff) && k.Pattern.MatchString(key) {
			old = append(old, key)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for batch := range slices.Chunk(old, 1000) {
		var orphans []string
		err := j.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT k FROM `+k.Unreferenced+`($1, $2) AS k`, district, batch)
			if err != nil {
				return database.MapError(err)
			}
			orphans, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return database.MapError(err)
		})
		if err != nil {
			return total, err
		}
		removed := map[uuid.UUID]int{} // per school, or uuid.Nil for the district
		var order []uuid.UUID
		for _, key := range orphans {
			if err := j.Store.Remove(ctx, district, key); err != nil {
				return total, err
			}
			var school uuid.UUID
			if k.PerSchool {
				school, _ = uuid.Parse(key[:36])
			}
			if removed[school] == 0 {
				order = append(order, school)
			}
			removed[school]++
			total++
		}
		for _, school := range order {
			a := scope.Actor{DistrictID: district, Kind: scope.District, Username: "system:object_reconcile"}
			if school != uuid.Nil {
				a.SchoolID, a.Kind = school, scope.School
			}
			err := j.DB.InTx(ctx, a, func(tx pgx.Tx) error {
				return audit.Record(ctx, tx, a, audit.Entry{Action: k.AuditAction, ObjectType: k.ObjectType,
					Reason: fmt.Sprintf("%d stored objects without a %s row removed", removed[school], k.RowName)})
			})
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
