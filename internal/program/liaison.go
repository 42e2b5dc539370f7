package program

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// The peer-liaison network (心理委员网络): the roster of liaisons per homeroom (school →
// grade/department → homeroom) and the liaisons' trainings and meetings, recorded by the
// school's counselors. Their notes are about the meeting, never about students.

// LiaisonEventKinds are the kinds of liaison events.
var LiaisonEventKinds = []string{"training", "meeting"}

// Liaison is a peer liaison of a homeroom: the user, not the student record.
type Liaison struct {
	UserID uuid.UUID `json:"user_id"`
	Name   string    `json:"name"`
}

// RosterHomeroom is one homeroom of the school with its liaisons (none: a gap).
type RosterHomeroom struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	ParentID   *uuid.UUID `json:"parent_id"`
	Parent     string     `json:"parent"` // the grade or department
	Liaisons   []Liaison  `json:"liaisons"`
	HasLiaison bool       `json:"has_liaison"`
}

// Roster is the school's liaison roster.
type Roster struct {
	Homerooms []RosterHomeroom `json:"homerooms"`
	Covered   int              `json:"covered"`
	Missing   int              `json:"missing"`
}

// LiaisonRoster lists every homeroom of the school with its peer liaisons, homerooms
// without a liaison included (they are the gaps to fill).
func (s *Service) LiaisonRoster(ctx context.Context, a scope.Actor, school uuid.UUID) (Roster, error) {
	out := Roster{Homerooms: []RosterHomeroom{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT h.id, h.name, h.parent_id, coalesce(g.name, ''),
				coalesce((SELECT array_agg(u.id ORDER BY u.display_name) FROM memberships m JOIN users u ON u.id = m.user_id
					WHERE m.school_id = h.school_id AND m.homeroom_id = h.id AND m.role = 'peer_liaison' AND NOT u.disabled), '{}'),
				coalesce((SELECT array_agg(u.display_name ORDER BY u.display_name) FROM memberships m JOIN users u ON u.id = m.user_id
					WHERE m.school_id = h.school_id AND m.homeroom_id = h.id AND m.role = 'peer_liaison' AND NOT u.disabled), '{}')
			FROM org_units h LEFT JOIN org_units g ON g.school_id = h.school_id AND g.id = h.parent_id
			WHERE h.school_id = $1 AND h.kind = 'homeroom'
			ORDER BY g.position NULLS FIRST, g.name NULLS FIRST, h.position, h.name`, school)
		if err != nil {
			return database.MapError(err)
		}
		out.Homerooms, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RosterHomeroom, error) {
			var h RosterHomeroom
			var ids []uuid.UUID
			var names []string
			if err := r.Scan(&h.ID, &h.Name, &h.ParentID, &h.Parent, &ids, &names); err != nil {
				return h, err
			}
			h.Liaisons = make([]Liaison, len(ids))
			for i := range ids {
				h.Liaisons[i] = Liaison{UserID: ids[i], Name: names[i]}
			}
			h.HasLiaison = len(ids) > 0
			return h, nil
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, h := range out.Homerooms {
			if h.HasLiaison {
				out.Covered++
			} else {
				out.Missing++
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "liaison_roster.read", ObjectType: "liaison_roster", ObjectID: school.String()})
	})
	if out.Homerooms == nil {
		out.Homerooms = []RosterHomeroom{}
	}
	return out, err
}

// LiaisonEventInput records a training or meeting of liaisons that took place.
type LiaisonEventInput struct {
	Kind        string      `json:"kind"`
	HeldOn      string      `json:"held_on"`
	Topic       string      `json:"topic"`
	Hours       float64     `json:"hours"`
	AttendeeIDs []uuid.UUID `json:"attendee_ids"`
	Notes       string      `json:"notes"`
}

// LiaisonEvent is a recorded training or meeting.
type LiaisonEvent struct {
	ID             uuid.UUID `json:"id"`
	Kind           string    `json:"kind"`
	HeldOn         string    `json:"held_on"`
	Topic          string    `json:"topic"`
	Hours          float64   `json:"hours"`
	Attendees      []Liaison `json:"attendees"`
	Notes          string    `json:"notes"`
	RecordedByName string    `json:"recorded_by_name"`
	RecordedAt     time.Time `json:"recorded_at"`
}

func (in *LiaisonEventInput) validate(today time.Time) []fault.FieldError {
	var f []fault.FieldError
	if !slices.Contains(LiaisonEventKinds, in.Kind) {
		f = append(f, fault.Field("kind", "invalid_value", "kind must be training or meeting"))
	}
	held, err := time.Parse(time.DateOnly, in.HeldOn)
	switch {
	case err != nil:
		f = append(f, fault.Field("held_on", "invalid_date", "held_on must be a date (YYYY-MM-DD)"))
	case held.After(today):
		f = append(f, fault.Field("held_on", "in_future", "record a training or meeting once it has taken place"))
	case held.Before(today.AddDate(-1, 0, 0)):
		f = append(f, fault.Field("held_on", "too_old", "at most a year ago"))
	}
	text(&f, "topic", &in.Topic, 1, 120)
	if math.IsNaN(in.Hours) || in.Hours <= 0 || in.Hours > 24 || math.Round(in.Hours*10) != in.Hours*10 {
		f = append(f, fault.Field("hours", "invalid_value", "hours are more than 0 and at most 24, in tenths"))
	}
	slices.SortFunc(in.AttendeeIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	in.AttendeeIDs = slices.Compact(in.AttendeeIDs)
	if len(in.AttendeeIDs) == 0 || len(in.AttendeeIDs) > 500 {
		f = append(f, fault.Field("attendee_ids", "required", "1 to 500 liaisons attended"))
	}
	in.Notes = strings.TrimSpace(in.Notes)
	if utf8.RuneCountInString(in.Notes) > 1000 {
		f = append(f, fault.Field("notes", "too_long", "at most 1,000 characters"))
	}
	return f
}

// RecordLiaisonEvent records a training or meeting of the school's liaisons. Every
// attendee must be a peer liaison of the school.
func (s *Service) RecordLiaisonEvent(ctx context.Context, a scope.Actor, school uuid.UUID, in LiaisonEventInput) (LiaisonEvent, error) {
	if f := in.validate(s.today()); len(f) > 0 {
		return LiaisonEvent{}, fault.Validation(f...)
	}
	var out LiaisonEvent
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT m.user_id) FROM memberships m WHERE m.school_id = $1 AND m.role = 'peer_liaison' AND m.user_id = ANY ($2)`,
			school, in.AttendeeIDs).Scan(&n); err != nil {
			return database.MapError(err)
		}
		if n != len(in.AttendeeIDs) {
			return fault.Validation(fault.Field("attendee_ids", "invalid_value", "every attendee must be a peer liaison of the school"))
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO liaison_events (school_id, id, district_id, kind, held_on, topic, hours, attendee_ids, notes, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, school, id, a.DistrictID, in.Kind, in.HeldOn, in.Topic, in.Hours, in.AttendeeIDs, in.Notes, a.UserID); err != nil {
			return database.MapError(err)
		}
		list, err := liaisonEvents(ctx, tx, school, `e.id = $2`, id)
		if err != nil || len(list) == 0 {
			return fault.Wrap(err, "read back liaison event")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "liaison_events.record", ObjectType: "liaison_event", ObjectID: id.String()})
	})
	return out, err
}

// LiaisonEvents lists the school's liaison trainings and meetings, newest first.
func (s *Service) LiaisonEvents(ctx context.Context, a scope.Actor, school uuid.UUID) ([]LiaisonEvent, error) {
	var out []LiaisonEvent
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = liaisonEvents(ctx, tx, school, `true`)
		return err
	})
	if out == nil {
		out = []LiaisonEvent{}
	}
	return out, err
}

func liaisonEvents(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, args ...any) ([]LiaisonEvent, error) {
	rows, err := tx.Query(ctx, `SELECT e.id, e.kind, e.held_on::text, e.topic, e.hours::float8, e.notes, u.display_name, e.recorded_at,
			coalesce((SELECT array_agg(x.id ORDER BY x.display_name) FROM users x WHERE x.id = ANY (e.attendee_ids)), '{}'),
			coalesce((SELECT array_agg(x.display_name ORDER BY x.display_name) FROM users x WHERE x.id = ANY (e.attendee_ids)), '{}')
		FROM liaison_events e JOIN users u ON u.id = e.recorded_by
		WHERE e.school_id = $1 AND `+where+` ORDER BY e.held_on DESC, e.id DESC LIMIT 500`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LiaisonEvent, error) {
		var x LiaisonEvent
		var ids []uuid.UUID
		var names []string
		if err := r.Scan(&x.ID, &x.Kind, &x.HeldOn, &x.Topic, &x.Hours, &x.Notes, &x.RecordedByName, &x.RecordedAt, &ids, &names); err != nil {
			return x, err
		}
		x.Attendees = make([]Liaison, len(ids))
		for i := range ids {
			x.Attendees[i] = Liaison{UserID: ids[i], Name: names[i]}
		}
		return x, nil
	})
	return out, database.MapError(err)
}

// liaisonFigures adds, per school, the liaison trainings and meetings held during the
// term to counts (keys liaison_training, liaison_meeting) and their hours to hours.
func liaisonFigures(ctx context.Context, tx pgx.Tx, district uuid.UUID, t Term, schools []uuid.UUID, counts, hours map[key]float64) error {
	rows, err := tx.Query(ctx, `SELECT school_id, 'liaison_' || kind, count(*), coalesce(sum(hours), 0)::float8 FROM liaison_events
		WHERE district_id = $1 AND school_id = ANY ($2) AND held_on BETWEEN $3::date AND $4::date GROUP BY school_id, kind`,
		district, schools, t.StartsOn, t.EndsOn)
	if err != nil {
		return database.MapError(err)
	}
	for rows.Next() {
		var k key
		var n, h float64
		if err := rows.Scan(&k.school, &k.what, &n, &h); err != nil {
			return database.MapError(err)
		}
		counts[k], hours[k] = n, h
	}
	return database.MapError(rows.Err())
}
