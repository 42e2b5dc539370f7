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
	_, err = sp.Exec(ctx, `INSERT INTO inbox_items (school_id, id, user_id, kind, is_task, case_file_id, subject_type, subject_id, params, dedupe_key, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		n.School, uuid.Must(uuid.NewV7()), n.User, n.Kind, n.Task, n.CaseFileID, n.Subject, n.SubjectID, params, key, n.DueAt)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" && key != nil {
		return false, database.MapError(sp.Rollback(ctx))
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return false, database.MapError(err)
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

// List returns the actor's items, newest first: open ones, or with all the closed ones
// of the last 90 days too.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, includeDone bool) (Summary, error) {
	var out Summary
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+columns+` FROM inbox_items
			WHERE school_id = $1 AND user_id = $2 AND (done_at IS NULL OR ($3 AND done_at > now() - interval '90 days'))
			ORDER BY done_at IS NOT NULL, created_at DESC, id DESC LIMIT 500`, school, a.UserID, includeDone)
		if err != nil {
			return database.MapError(err)
		}
		if out.Items, err = pgx.CollectRows(rows, scan); err != nil {
			return database.MapError(err)
		}
		return database.MapError(tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE read_at IS NULL AND done_at IS NULL),
			count(*) FILTER (WHERE is_task AND done_at IS NULL) FROM inbox_items WHERE school_id = $1 AND user_id = $2`,
			school, a.UserID).Scan(&out.Unread, &out.Open))
	})
	return out, err
}

// MarkRead marks one of the actor's items read.
func (s *Service) MarkRead(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, school, id, "inbox.read", `read_at = coalesce(read_at, now())`)
}

// Done closes one of the actor's items (a task is done; a notification is dismissed).
func (s *Service) Done(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Item, error) {
	return s.update(ctx, a, school, id, "inbox.done", `read_at = coalesce(read_at, now()), done_at = coalesce(done_at, now())`)
}

func (s *Service) update(ctx context.Context, a scope.Actor, school, id uuid.UUID, action, set string) (Item, error) {
	var it Item
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE inbox_items SET `+set+` WHERE school_id = $1 AND id = $2 AND user_id = $3 RETURNING `+columns,
			school, id, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if it, err = pgx.CollectExactlyOneRow(rows, scan); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "inbox_item", ObjectID: id.String()})
	})
	return it, err
}
