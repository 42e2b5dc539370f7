// Package inbox owns each staff member's notifications and tasks (待办与通知): a case
// file opened by emergency access, a support plan due for review, a concern waiting in
// the intake queue. Other domains post items inside their own transaction (so an item
// exists exactly when the change that caused it committed); a user reads, marks read
// and completes only their own items. Items hold kinds, ids and short parameters, never
// free text from a case file.
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Notice is an item to post to one user of a school.
type Notice struct {
	School     uuid.UUID
	User       uuid.UUID
	Kind       string // e.g. "emergency_access_opened"; the UI renders it from its locale files
	Task       bool   // a task waits to be done; a notification only to be read
	CaseFileID *uuid.UUID
	Subject    string // the type of the object the item is about, e.g. "support_plan"
	SubjectID  *uuid.UUID
	Params     map[string]string // short, non-confidential values shown with the kind (dates, a role)
	DueAt      *time.Time
	// DedupeKey makes posting idempotent: a second notice with the same key for the same
	// user is dropped. Reminder jobs use it so a retried run posts nothing twice.
	DedupeKey string
}

// Post adds n in the caller's transaction. It reports whether an item was added (false
// when an item with the same dedupe key already exists).
func Post(ctx context.Context, tx pgx.Tx, n Notice) (bool, error) {
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
	// Row-level security hides other users' items from the poster, so ON CONFLICT (which
	// must see the conflicting row) cannot be used: a savepoint absorbs the duplicate.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, database.MapError(err)
	}
	id := uuid.Must(uuid.NewV7())
	_, err = sp.Exec(ctx, `INSERT INTO inbox_items (school_id, id, user_id, kind, is_task, case_file_id, subject_type, subject_id, params, dedupe_key, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		n.School, id, n.User, n.Kind, n.Task, n.CaseFileID, n.Subject, n.SubjectID, params, key, n.DueAt)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" && key != nil {
		return false, database.MapError(sp.Rollback(ctx))
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return false, database.MapError(err)
	}
	if err := announce(ctx, sp, EmailPayload{School: &n.School, Item: id, User: n.User, Task: n.Task}); err != nil {
		_ = sp.Rollback(ctx)
		return false, err
	}
	return true, database.MapError(sp.Commit(ctx))
}

// Item is one notification or task as its addressee sees it.
type Item struct {
	ID         uuid.UUID         `json:"id"`
	Kind       string            `json:"kind"`
	Task       bool              `json:"is_task"`
	CaseFileID *uuid.UUID        `json:"case_file_id"`
	Subject    string            `json:"subject_type"`
	SubjectID  *uuid.UUID        `json:"subject_id"`
	Params     map[string]string `json:"params"`
	DueAt      *time.Time        `json:"due_at"`
	CreatedAt  time.Time         `json:"created_at"`
	ReadAt     *time.Time        `json:"read_at"`
	DoneAt     *time.Time        `json:"done_at"`
}

// Service serves a user's own inbox.
type Service struct {
	DB *database.DB
}

const columns = `id, kind, is_task, case_file_id, subject_type, subject_id, params, due_at, created_at, read_at, done_at`

func scan(r pgx.CollectableRow) (Item, error) {
	var it Item
	err := r.Scan(&it.ID, &it.Kind, &it.Task, &it.CaseFileID, &it.Subject, &it.SubjectID, &it.Params, &it.DueAt, &it.CreatedAt, &it.ReadAt, &it.DoneAt)
	return it, err
}

// Summary is the inbox list with its counts.
type Summary struct {
	Items  []Item `json:"items"`
	Unread int    `json:"unread"`
	Open   int    `json:"open_tasks"`
}

// Counts are the numbers shown on the header badge.
type Counts struct {
	Unread int `json:"unread"`
	Open   int `json:"open_tasks"`
}

// box names the table and tenant column of one of the two inboxes.
type box struct{ table, tenant string }

var (
	schoolBox   = box{"inbox_items", "school_id"}
	districtBox = box{"district_inbox_items", "district_id"}
)

// List returns the actor's items in a school, newest first: open ones, or with all the
// closed ones of the last 90 days too.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, includeDone bool) (Summary, error) {
	return s.list(ctx, a, schoolBox, school, includeDone)
}

// ListDistrict returns the actor's items in its district inbox, like List.
func (s *Service) ListDistrict(ctx context.Context, a scope.Actor, district uuid.UUID, includeDone bool) (Summary, error) {
	return s.list(ctx, a, districtBox, district, includeDone)
}

// Count returns the actor's unread items and open tasks in a school.
func (s *Service) Count(ctx context.Context, a scope.Actor, school uuid.UUID) (Counts, error) {
	return s.count(ctx, a, schoolBox, school)
}

// CountDistrict returns the actor's unread items and open tasks in its district inbox.
func (s *Service) CountDistrict(ctx context.Context, a scope.Actor, district uuid.UUID) (Counts, error) {
	return s.count(ctx, a, districtBox, district)
}

func (s *Service) list(ctx context.Context, a scope.Actor, b box, tenant uuid.UUID, includeDone bool) (Summary, error) {
	out := Summary{Items: []Item{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+b.columns()+` FROM `+b.table+`
			WHERE `+b.tenant+` = $1 AND user_id = $2 AND (done_at IS NULL OR ($3 AND done_at > now() - interval '90 days'))
			ORDER BY done_at IS NOT NULL, created_at DESC, id DESC LIMIT 500`, tenant, a.UserID, includeDone)
		if err != nil {
			return database.MapError(err)
		}
		if out.Items, err = pgx.CollectRows(rows, scan); err != nil {
			return database.MapError(err)
		}
		c, err := countIn(ctx, tx, a, b, tenant)
		out.Unread, out.Open = c.Unread, c.Open
		return err
	})
	return out, err
}

func (s *Service) count(ctx context.Context, a scope.Actor, b box, tenant uuid.UUID) (Counts, error) {
	var c Counts
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		c, err = countIn(ctx, tx, a, b, tenant)
		return err
	})
	return c, err
}

func countIn(ctx context.Context, tx pgx.Tx, a scope.Actor, b box, tenant uuid.UUID) (Counts, error) {
	var c Counts
	err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE read_at IS NULL AND done_at IS NULL),
		count(*) FILTER (WHERE is_task AND done_at IS NULL) FROM `+b.table+` WHERE `+b.tenant+` = $1 AND user_id = $2`,
		tenant, a.UserID).Scan(&c.Unread, &c.Open)
	return c, database.MapError(err)
}

// columns lists the Item columns; district items have no case file.
func (b box) columns() string {
	if b == districtBox {
		return `id, kind, is_task, NULL::uuid, subject_type, subject_id, params, due_at, created_at, read_at, done_at`
	}
	return columns
}

// MarkRead marks one of the actor's items read.
func (s *Service) MarkRead(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, schoolBox, school, id, "inbox.read", `read_at = coalesce(read_at, now())`)
}

// Done closes one of the actor's items (a task is done; a notification is dismissed).
func (s *Service) Done(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, schoolBox, school, id, "inbox.done", `read_at = coalesce(read_at, now()), done_at = coalesce(done_at, now())`)
}

// MarkReadDistrict marks one of the actor's district items read.
func (s *Service) MarkReadDistrict(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, districtBox, district, id, "inbox.read", `read_at = coalesce(read_at, now())`)
}

// DoneDistrict closes one of the actor's district items.
func (s *Service) DoneDistrict(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, districtBox, district, id, "inbox.done", `read_at = coalesce(read_at, now()), done_at = coalesce(done_at, now())`)
}

func (s *Service) update(ctx context.Context, a scope.Actor, b box, tenant, id uuid.UUID, action, set string) (Item, error) {
	var it Item
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE `+b.table+` SET `+set+` WHERE `+b.tenant+` = $1 AND id = $2 AND user_id = $3 RETURNING `+b.columns(),
			tenant, id, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if it, err = pgx.CollectExactlyOneRow(rows, scan); err != nil {
			return database.MapError(err)
		}
		objectType := "inbox_item"
		if b == districtBox {
			objectType = "district_inbox_item"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: objectType, ObjectID: id.String()})
	})
	return it, err
}
