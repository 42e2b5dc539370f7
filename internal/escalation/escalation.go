// Package escalation is the two-level escalation ladder shared by background jobs
// (screening alerts, crises): an overdue item goes to the school leaders first (an inbox
// task each), then, once the leaders' time has passed too, to the district. Each step is
// taken by a database function that moves the item from one level to the next only if it
// is still there, so a step happens once per item whatever the number of runs, workers
// or retries.
package escalation

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Item is one overdue item, as the job's overdue query lists it.
type Item struct {
	District, School, ID uuid.UUID
	Level                string    // "none" or "leader"
	Since                time.Time // when it became overdue: the leaders' time starts then
	LeaderMinutes        int       // how long the leaders have before the district
}

// Ladder describes one kind of item.
type Ladder struct {
	// Overdue lists the overdue items at $1 (now): district, school, id, level, since,
	// leader minutes — a database function that needs no user.
	Overdue      string
	Username     string // the system actor's name in the audit log
	Step         string // the database function (school, id, from, to, now) → moved
	LeaderKind   string // the kind of the leaders' inbox task
	Subject      string // the inbox subject type
	DedupePrefix string // the leaders' task's dedupe key is DedupePrefix + id
	AuditAction  string // one audit row per school that took steps
	// OnDistrict runs after an item moved to the district (optional).
	OnDistrict func(ctx context.Context, tx pgx.Tx, it Item) error
}

func (l Ladder) step(ctx context.Context, tx pgx.Tx, it Item, from, to string, now time.Time) (bool, error) {
	var moved bool
	err := tx.QueryRow(ctx, `SELECT `+l.Step+`($1, $2, $3, $4, $5)`, it.School, it.ID, from, to, now).Scan(&moved)
	return moved, database.MapError(err)
}

// Escalate lists the overdue items and takes their due steps in one system
// transaction. It returns how many steps it took.
func (l Ladder) Escalate(ctx context.Context, db *database.DB, now time.Time) (int, error) {
	steps := 0
	err := db.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, l.Overdue, now)
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
			var x Item
			return x, r.Scan(&x.District, &x.School, &x.ID, &x.Level, &x.Since, &x.LeaderMinutes)
		})
		if err != nil {
			return database.MapError(err)
		}
		steps, err = l.Run(ctx, tx, list, now)
		return err
	})
	return steps, err
}

// Run takes the due steps of every item in tx (a system transaction) and returns how
// many it took.
func (l Ladder) Run(ctx context.Context, tx pgx.Tx, list []Item, now time.Time) (int, error) {
	steps := 0
	var tally audit.PerSchool
	for _, it := range list {
		a := scope.Actor{DistrictID: it.District, SchoolID: it.School, Kind: scope.School, Username: l.Username}
		if err := database.SetScope(ctx, tx, a); err != nil {
			return steps, fault.Wrap(err, "scope")
		}
		level, n := it.Level, 0
		if level == "none" {
			moved, err := l.step(ctx, tx, it, "none", "leader", now)
			if err != nil {
				return steps, err
			}
			if moved {
				n++
				if err := l.tellLeaders(ctx, tx, it); err != nil {
					return steps, err
				}
			}
			level = "leader"
		}
		if level == "leader" && !now.Before(it.Since.Add(time.Duration(it.LeaderMinutes)*time.Minute)) {
			moved, err := l.step(ctx, tx, it, "leader", "district", now)
			if err != nil {
				return steps, err
			}
			if moved {
				n++
				if l.OnDistrict != nil {
					if err := l.OnDistrict(ctx, tx, it); err != nil {
						return steps, err
					}
				}
			}
		}
		steps += n
		tally.Add(a, n)
	}
	err := tally.Record(ctx, tx, func(a scope.Actor, n int) audit.Entry {
		return audit.Entry{Action: l.AuditAction, ObjectType: "school", ObjectID: a.SchoolID.String(), Reason: strconv.Itoa(n) + " escalation steps"}
	})
	return steps, err
}

func (l Ladder) tellLeaders(ctx context.Context, tx pgx.Tx, it Item) error {
	rows, err := tx.Query(ctx, `SELECT school_leaders($1)`, it.School)
	if err != nil {
		return database.MapError(err)
	}
	leaders, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return database.MapError(err)
	}
	id := it.ID
	for _, u := range leaders {
		if _, err := inbox.Post(ctx, tx, inbox.Notice{School: it.School, User: u, Kind: l.LeaderKind, Task: true,
			Subject: l.Subject, SubjectID: &id, DedupeKey: l.DedupePrefix + id.String()}); err != nil {
			return err
		}
	}
	return nil
}
