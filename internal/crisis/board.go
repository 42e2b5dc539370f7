package crisis

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/escalation"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// BoardEntry is an escalated crisis as the district supervisor sees it: the school, the
// student's grade, the level, the timers and the kinds of steps taken — no name, no
// number, no notes.
type BoardEntry struct {
	CrisisID           uuid.UUID      `json:"crisis_id"`
	SchoolID           uuid.UUID      `json:"school_id"`
	SchoolName         string         `json:"school_name"`
	Grade              string         `json:"grade"`
	Level              string         `json:"level"`
	Status             string         `json:"status"`
	OpenedAt           time.Time      `json:"opened_at"`
	AckDueAt           time.Time      `json:"ack_due_at"`
	GuardianDueAt      time.Time      `json:"guardian_due_at"`
	AssessedAt         *time.Time     `json:"assessed_at"`
	GuardianNotifiedAt *time.Time     `json:"guardian_notified_at"`
	EscalatedAt        *time.Time     `json:"escalated_at"`
	ClosedAt           *time.Time     `json:"closed_at"`
	Steps              []string       `json:"steps"`
	Notes              []DistrictNote `json:"notes,omitempty"`
}

func board(ctx context.Context, tx pgx.Tx, crisis *uuid.UUID) ([]BoardEntry, error) {
	rows, err := tx.Query(ctx, `SELECT crisis_id, school_id, school_name, grade, level, status, opened_at, ack_due_at, guardian_due_at, assessed_at,
		guardian_notified_at, escalated_at, closed_at, steps FROM crisis_board($1)`, crisis)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BoardEntry, error) {
		var b BoardEntry
		return b, r.Scan(&b.CrisisID, &b.SchoolID, &b.SchoolName, &b.Grade, &b.Level, &b.Status, &b.OpenedAt, &b.AckDueAt, &b.GuardianDueAt,
			&b.AssessedAt, &b.GuardianNotifiedAt, &b.EscalatedAt, &b.ClosedAt, &b.Steps)
	})
	return out, database.MapError(err)
}

// Board lists the crises escalated to the district (every view is audited).
func (s *Service) Board(ctx context.Context, a scope.Actor, district uuid.UUID) ([]BoardEntry, error) {
	var out []BoardEntry
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		if out, err = board(ctx, tx, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crisis_board.list", ObjectType: "district", ObjectID: district.String()})
	})
	return out, err
}

// BoardCrisis returns one escalated crisis with the district's notes; a crisis that was
// not escalated to the district is not found.
func (s *Service) BoardCrisis(ctx context.Context, a scope.Actor, district, id uuid.UUID) (BoardEntry, error) {
	var out BoardEntry
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := board(ctx, tx, &id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		out = list[0]
		rows, err := tx.Query(ctx, `SELECT id, kind, body, to_char(due_on, 'YYYY-MM-DD'), created_at, done_at FROM crisis_board_notes($1)`, id)
		if err != nil {
			return database.MapError(err)
		}
		if out.Notes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DistrictNote, error) {
			var n DistrictNote
			return n, r.Scan(&n.ID, &n.Kind, &n.Body, &n.DueOn, &n.CreatedAt, &n.DoneAt)
		}); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crisis_board.read", ObjectType: "crisis", ObjectID: id.String()})
	})
	return out, err
}

// NoteInput is a supervisor's comment or follow-up request.
type NoteInput struct {
	Kind  string `json:"kind"`
	Body  string `json:"body"`
	DueOn string `json:"due_on"`
}

// AddNote adds a district supervisor's comment or follow-up request to an escalated
// crisis; the school's counselors see it on the crisis and mark follow-ups done.
func (s *Service) AddNote(ctx context.Context, a scope.Actor, district, id uuid.UUID, in NoteInput) (BoardEntry, error) {
	var f []fault.FieldError
	if in.Kind != "comment" && in.Kind != "follow_up" {
		f = append(f, fault.Field("kind", "invalid_value", "comment or follow_up"))
	}
	in.Body = strings.TrimSpace(in.Body)
	if n := utf8.RuneCountInString(in.Body); n == 0 || n > 1000 {
		f = append(f, fault.Field("body", "required", "1 to 1,000 characters (no names)"))
	}
	var due *time.Time
	if in.Kind == "follow_up" {
		d, err := time.ParseInLocation(time.DateOnly, in.DueOn, china)
		if err != nil || d.Before(today(s.now()).AddDate(0, 0, -1)) {
			f = append(f, fault.Field("due_on", "invalid_value", "a date YYYY-MM-DD, not in the past"))
		}
		due = &d
	} else if in.DueOn != "" {
		f = append(f, fault.Field("due_on", "not_allowed", "only a follow-up has a due date"))
	}
	if len(f) > 0 {
		return BoardEntry{}, fault.Validation(f...)
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT crisis_board_note_add($1, $2, $3, $4, $5)`, id, uuid.Must(uuid.NewV7()), in.Kind, in.Body, due).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crisis_board.note", ObjectType: "crisis", ObjectID: id.String(), Reason: in.Kind})
	})
	if err != nil {
		return BoardEntry{}, err
	}
	return s.BoardCrisis(ctx, a, district, id)
}

// DistrictNotifier posts a notice to district staff (inbox.PostDistrict implements it
// once district inboxes exist); nil posts nothing.
type DistrictNotifier func(ctx context.Context, tx pgx.Tx, district, crisis uuid.UUID) error

// EscalateOverdue escalates every open crisis whose risk assessment or guardian
// notification is overdue: to the school leaders first (an inbox task each), then, after
// the district's leader time, to the district supervisors' crisis board. Each step
// happens once per crisis whatever the number of runs or retries. It returns the steps.
func (s *Service) EscalateOverdue(ctx context.Context, notify DistrictNotifier) (int, error) {
	ladder := escalation.Ladder{Username: "system:crisis_escalation", Step: "crisis_escalate",
		Overdue:    `SELECT district_id, school_id, crisis_id, escalation, overdue_since, leader_minutes FROM crises_overdue($1)`,
		LeaderKind: "crisis_escalated", Subject: "crisis", DedupePrefix: "crisis_leader:", AuditAction: "crises.escalate"}
	if notify != nil {
		ladder.OnDistrict = func(ctx context.Context, tx pgx.Tx, it escalation.Item) error {
			return notify(ctx, tx, it.District, it.ID)
		}
	}
	return ladder.Escalate(ctx, s.DB, s.now())
}
