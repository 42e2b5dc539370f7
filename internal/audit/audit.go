// Package audit owns the append-only, hash-chained audit log: recording entries inside
// the caller's transaction, listing them for leaders and admins, and verifying chains.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Outcomes of an audited action.
const (
	Allowed = "allowed"
	Denied  = "denied"
	Failed  = "failed"
)

// Entry is what a caller records; the actor and scope come from the transaction's actor.
type Entry struct {
	Action     string // e.g. "students.read", "memberships.grant", "auth.login"
	ObjectType string // e.g. "student"
	ObjectID   string
	Outcome    string // Allowed when empty
	Reason     string // free text given by the actor (never confidential content)
}

const insertSQL = `INSERT INTO audit_log (id, district_id, school_id, actor_id, actor_username, role, scope,
	action, object_type, object_id, outcome, request_id, client_ip, reason)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// Record inserts one audit row in tx. If it fails, the caller's work must fail too.
func Record(ctx context.Context, tx pgx.Tx, a scope.Actor, e Entry) error {
	if e.Outcome == "" {
		e.Outcome = Allowed
	}
	var district, school, actorID *uuid.UUID
	if a.Kind != scope.None && a.DistrictID != uuid.Nil {
		district = &a.DistrictID
	}
	if a.Kind == scope.School {
		school = &a.SchoolID
	}
	if a.UserID != uuid.Nil {
		actorID = &a.UserID
	}
	args := []any{uuid.New(), district, school, actorID, a.Username, a.RoleLabel(), string(a.Kind),
		e.Action, e.ObjectType, e.ObjectID, e.Outcome, a.RequestID, a.ClientIP, truncate(e.Reason, 500)}
	// In a transaction of database.InTx the row goes to the server with COMMIT, in the
	// same pipelined batch (one round trip less per request, and the chain head is
	// locked only for the commit itself); if it fails, the commit fails.
	if t, ok := tx.(*database.Tx); ok {
		t.QueueBeforeCommit(insertSQL, args...)
		return nil
	}
	if _, err := tx.Exec(ctx, insertSQL, args...); err != nil {
		return fault.Wrap(err, "record audit entry")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// RecordAlone records one entry in a transaction of its own: denials, which happen
// before any domain work starts.
func (s *Service) RecordAlone(ctx context.Context, a scope.Actor, e Entry) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error { return Record(ctx, tx, a, e) })
}

// Row is one stored audit entry.
type Row struct {
	ID            uuid.UUID  `json:"id"`
	Chain         string     `json:"chain"`
	Seq           int64      `json:"seq"`
	OccurredAt    time.Time  `json:"occurred_at"`
	DistrictID    *uuid.UUID `json:"district_id"`
	SchoolID      *uuid.UUID `json:"school_id"`
	ActorID       *uuid.UUID `json:"actor_id"`
	ActorUsername string     `json:"actor_username"`
	Role          string     `json:"role"`
	Scope         string     `json:"scope"`
	Action        string     `json:"action"`
	ObjectType    string     `json:"object_type"`
	ObjectID      string     `json:"object_id"`
	Outcome       string     `json:"outcome"`
	RequestID     string     `json:"request_id"`
	ClientIP      string     `json:"client_ip"`
	Reason        string     `json:"reason"`
	PrevHash      string     `json:"-"`
	Hash          string     `json:"-"`
}

const rowColumns = `id, chain, seq, occurred_at, district_id, school_id, actor_id, actor_username, role, scope,
	action, object_type, object_id, outcome, request_id, client_ip, reason, prev_hash, hash`

func scanRow(rows pgx.CollectableRow) (Row, error) {
	var r Row
	err := rows.Scan(&r.ID, &r.Chain, &r.Seq, &r.OccurredAt, &r.DistrictID, &r.SchoolID, &r.ActorID, &r.ActorUsername,
		&r.Role, &r.Scope, &r.Action, &r.ObjectType, &r.ObjectID, &r.Outcome, &r.RequestID, &r.ClientIP, &r.Reason,
		&r.PrevHash, &r.Hash)
	return r, err
}

// Filter narrows a listing. Zero values match everything.
type Filter struct {
	ActorID    *uuid.UUID
	ObjectType string
	ObjectID   string
	Action     string
	Outcome    string
	From, To   *time.Time
	Page       page.Request
}

// Service lists audit rows of the actor's own chain (school or district).
type Service struct {
	DB *database.DB
}

// List returns the rows of the actor's school or district (all stripes of its chain,
// migration 00085), newest first, filtered and paginated by cursor. Rows are in the
// order the database stamped them (occurred_at, then id). Listing the audit log is
// itself audited.
func (s *Service) List(ctx context.Context, a scope.Actor, f Filter) (page.Page[Row], error) {
	var tenant string
	var id uuid.UUID
	switch a.Kind {
	case scope.School:
		tenant, id = "school_id = $1", a.SchoolID
	case scope.District:
		tenant, id = "school_id IS NULL AND district_id = $1", a.DistrictID
	default:
		return page.Page[Row]{}, fault.New(fault.Forbidden, "the audit log is read in a school or district scope")
	}
	size, err := f.Page.Size()
	if err != nil {
		return page.Page[Row]{}, err
	}
	after, err := f.Page.After()
	if err != nil {
		return page.Page[Row]{}, err
	}
	var beforeAt *time.Time
	var beforeID uuid.UUID
	if after != "" {
		at, rowID, ok := parseCursor(after)
		if !ok {
			return page.Page[Row]{}, fault.Validation(fault.Field("cursor", "invalid_format", "the cursor is not valid"))
		}
		beforeAt, beforeID = &at, rowID
	}
	var items []Row
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+rowColumns+` FROM audit_log
			WHERE `+tenant+`
			  AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3::uuid))
			  AND ($4::uuid IS NULL OR actor_id = $4)
			  AND ($5 = '' OR object_type = $5) AND ($6 = '' OR object_id = $6)
			  AND ($7 = '' OR action = $7) AND ($8 = '' OR outcome = $8)
			  AND ($9::timestamptz IS NULL OR occurred_at >= $9) AND ($10::timestamptz IS NULL OR occurred_at < $10)
			ORDER BY occurred_at DESC, id DESC LIMIT $11`,
			id, beforeAt, beforeID, f.ActorID, f.ObjectType, f.ObjectID, f.Action, f.Outcome, f.From, f.To, size+1)
		if err != nil {
			return database.MapError(err)
		}
		if items, err = pgx.CollectRows(rows, scanRow); err != nil {
			return database.MapError(err)
		}
		return Record(ctx, tx, a, Entry{Action: "audit.list", ObjectType: "audit_log"})
	})
	if err != nil {
		return page.Page[Row]{}, err
	}
	return page.Build(items, size, func(r Row) string {
		return strconv.FormatInt(r.OccurredAt.UnixMicro(), 10) + "_" + r.ID.String()
	}), nil
}

// parseCursor reads "<occurred_at in µs since the epoch>_<id>".
func parseCursor(s string) (time.Time, uuid.UUID, bool) {
	us, rest, ok := strings.Cut(s, "_")
	if !ok {
		return time.Time{}, uuid.Nil, false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// Canonical is the byte string hashed for a row; it matches audit_canonical() in SQL.
func Canonical(r Row) string {
	id := func(u *uuid.UUID) string {
		if u == nil {
			return ""
		}
		return u.String()
	}
	fields := []string{
		r.Chain, strconv.FormatInt(r.Seq, 10), r.ID.String(),
		r.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
		id(r.DistrictID), id(r.SchoolID), id(r.ActorID),
		r.ActorUsername, r.Role, r.Scope, r.Action, r.ObjectType, r.ObjectID, r.Outcome,
		r.RequestID, r.ClientIP, r.Reason, r.PrevHash,
	}
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}

// Hash is the hex SHA-256 of a row's canonical content.
func Hash(r Row) string {
	sum := sha256.Sum256([]byte(Canonical(r)))
	return hex.EncodeToString(sum[:])
}

// Break describes the first broken link found in a chain.
type Break struct {
	Chain  string
	Seq    int64
	Reason string
}

// Report summarizes a verification.
type Report struct {
	Chains int
	Rows   int64
	Breaks []Break
}

// Verify walks every chain — each stripe of a school's or district's chain is one
// (migration 00085) — with the owner role's connection and reports the first broken
// link of each chain: a changed row, a missing or reordered row, a head that does not
// match the last row, or rows whose chain has no head.
func Verify(ctx context.Context, conn *pgx.Conn) (Report, error) {
	var rep Report
	tx, err := conn.Begin(ctx)
	if err != nil {
		return rep, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('app.scope', 'audit', true)`); err != nil {
		return rep, err
	}
	type head struct {
		chain string
		seq   int64
		hash  string
	}
	rows, err := tx.Query(ctx, `SELECT chain, last_seq, last_hash FROM audit_chain_heads ORDER BY chain`)
	if err != nil {
		return rep, err
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (head, error) {
		var h head
		return h, r.Scan(&h.chain, &h.seq, &h.hash)
	})
	if err != nil {
		return rep, err
	}
	// Rows whose chain has no head (a head deleted with its whole chain, or rows
	// planted under a new name) are a break too.
	orphans, err := tx.Query(ctx, `SELECT DISTINCT chain FROM audit_log a
		WHERE NOT EXISTS (SELECT 1 FROM audit_chain_heads h WHERE h.chain = a.chain) ORDER BY chain`)
	if err != nil {
		return rep, err
	}
	headless, err := pgx.CollectRows(orphans, pgx.RowTo[string])
	if err != nil {
		return rep, err
	}
	for _, c := range headless {
		rep.Breaks = append(rep.Breaks, Break{c, 1, "rows without a chain head"})
	}
	for _, h := range heads {
		rep.Chains++
		brk, n, err := verifyChain(ctx, tx, h.chain, h.seq, h.hash)
		if err != nil {
			return rep, err
		}
		rep.Rows += n
		if brk != nil {
			rep.Breaks = append(rep.Breaks, *brk)
		}
	}
	return rep, nil
}

func verifyChain(ctx context.Context, tx pgx.Tx, chain string, headSeq int64, headHash string) (*Break, int64, error) {
	rows, err := tx.Query(ctx, `SELECT `+rowColumns+` FROM audit_log WHERE chain = $1 ORDER BY seq`, chain)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	prev := strings.Repeat("0", 64)
	var seq, n int64
	var brk *Break
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, n, err
		}
		n++
		if brk != nil {
			continue
		}
		seq++
		switch {
		case r.Seq != seq:
			brk = &Break{chain, seq, fmt.Sprintf("row %d is missing (found %d)", seq, r.Seq)}
		case r.PrevHash != prev:
			brk = &Break{chain, r.Seq, "previous-hash link does not match the row before"}
		case Hash(r) != r.Hash:
			brk = &Break{chain, r.Seq, "row content does not match its hash"}
		}
		prev = r.Hash
	}
	if err := rows.Err(); err != nil {
		return nil, n, err
	}
	if brk == nil && (seq != headSeq || prev != headHash) {
		brk = &Break{chain, seq, fmt.Sprintf("chain ends at %d but its head records %d", seq, headSeq)}
	}
	return brk, n, nil
}
