package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/outbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// DistrictNotice is an item to post to one district user (区管理员, 督导, 研究人员), e.g. a
// crisis escalated to the district supervisor.
type DistrictNotice struct {
	District  uuid.UUID
	User      uuid.UUID
	Kind      string // rendered by the UI from its locale files
	Task      bool
	Subject   string // the type of the object the item is about, e.g. "crisis"
	SubjectID *uuid.UUID
	Params    map[string]string // short, non-confidential values (dates, a school's name, a level)
	DueAt     *time.Time
	// DedupeKey makes posting idempotent per user, as in Notice.
	DedupeKey string
}

// PostDistrict adds n to a district user's inbox in the caller's transaction, which may
// act in the district or in one of its schools. It reports whether an item was added
// (false when an item with the same dedupe key already exists for that user).
func PostDistrict(ctx context.Context, tx pgx.Tx, n DistrictNotice) (bool, error) {
	if n.Params == nil {
		n.Params = map[string]string{}
	}
	params, err := json.Marshal(n.Params)
	if err != nil {
		return false, fault.Wrap(err, "encode inbox params")
	}
	var key *string
	if n.DedupeKey != "" {
		key = &n.DedupeKey
	}
	// As in Post: the poster cannot see the addressee's items, so a savepoint absorbs a
	// duplicate instead of ON CONFLICT.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, database.MapError(err)
	}
	id := uuid.Must(uuid.NewV7())
	_, err = sp.Exec(ctx, `INSERT INTO district_inbox_items (district_id, id, user_id, kind, is_task, subject_type, subject_id, params, dedupe_key, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		n.District, id, n.User, n.Kind, n.Task, n.Subject, n.SubjectID, params, key, n.DueAt)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" && key != nil {
		return false, database.MapError(sp.Rollback(ctx))
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return false, database.MapError(err)
	}
	if err := announce(ctx, sp, EmailPayload{Item: id, User: n.User, Task: n.Task}); err != nil {
		_ = sp.Rollback(ctx)
		return false, err
	}
	return true, database.MapError(sp.Commit(ctx))
}

// PostDistrictRole posts n to every enabled user holding role in n.District (n.User is
// ignored), e.g. to all district supervisors, in the caller's transaction (a school or
// district scope of that district). It reports how many items were added.
func PostDistrictRole(ctx context.Context, tx pgx.Tx, role string, n DistrictNotice) (int, error) {
	rows, err := tx.Query(ctx, `SELECT district_role_users($1, $2)`, n.District, role)
	if err != nil {
		return 0, database.MapError(err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, database.MapError(err)
	}
	added := 0
	for _, u := range users {
		n.User = u
		ok, err := PostDistrict(ctx, tx, n)
		if err != nil {
			return added, err
		}
		if ok {
			added++
		}
	}
	return added, nil
}

// TypeEmail is the job announcing one inbox item by e-mail (internal/notify handles it).
const TypeEmail = "inbox:email"

// EmailPayload is the job's payload: ids and a flag only, never names or text.
type EmailPayload struct {
	District uuid.UUID  `json:"district_id"`
	School   *uuid.UUID `json:"school_id,omitempty"` // nil for a district inbox item
	Item     uuid.UUID  `json:"item_id"`
	User     uuid.UUID  `json:"user_id"`
	Task     bool       `json:"is_task"`
}

// announce adds, in the posting transaction, the outbox row of the e-mail job for a new
// item: the e-mail goes out exactly when the item committed. The outbox row is written
// in the transaction's own scope (whoever posts: a request, a job acting for a school).
func announce(ctx context.Context, tx pgx.Tx, p EmailPayload) error {
	var kind *string
	var district, school *uuid.UUID
	if err := tx.QueryRow(ctx, `SELECT app_scope(), app_district_id(), app_school_id()`).Scan(&kind, &district, &school); err != nil {
		return database.MapError(err)
	}
	if kind == nil || district == nil {
		return fault.New(fault.Internal, "an inbox item is posted outside any district scope")
	}
	p.District = *district
	a := scope.Actor{Kind: scope.Kind(*kind), DistrictID: *district}
	if school != nil {
		a.SchoolID = *school
	}
	_, err := outbox.Add(ctx, tx, a, TypeEmail, p, "default")
	return err
}
