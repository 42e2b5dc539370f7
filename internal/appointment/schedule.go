// Package appointment runs the counseling room's week (心理辅导室): the room's opening
// hours, each counselor's bookable slots, closures (holidays, exam weeks), appointments a
// counselor books for a student, guardian or teacher, requests from the school's public
// request page, check-in (which records a session in the student's case file), no-shows,
// cancellations, their counts, and reminders. Times of day are judged in China time.
// Double booking is impossible by an exclusion constraint in the database.
package appointment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// China is the time zone opening hours and dates are judged in.
var China = time.FixedZone("CST", 8*3600)

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// CaseFiles opens a student's case file and records a session in the caller's
// transaction; casefile.Service implements it.
type CaseFiles interface {
	OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error)
	RecordSessionInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in casefile.SessionInput) (casefile.Session, error)
}

// Service is the counseling-room service.
type Service struct {
	DB        *database.DB
	Cipher    Cipher
	CaseFiles CaseFiles
	Now       func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Window is a weekly recurring window: ISO weekday (1 = Monday) and "HH:MM" times.
type Window struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
}

// Slot is a counselor's bookable window.
type Slot struct {
	Window
	CounselorID   uuid.UUID `json:"counselor_id"`
	CounselorName string    `json:"counselor_name"`
}

// Closure is an exception to the weekly pattern: the room (no counselor) or one
// counselor is closed on these dates, inclusive.
type Closure struct {
	ID          uuid.UUID  `json:"id"`
	CounselorID *uuid.UUID `json:"counselor_id"`
	StartsOn    string     `json:"starts_on"`
	EndsOn      string     `json:"ends_on"`
	Label       string     `json:"label"`
}

// Schedule is the room's week: opening hours, bookable slots and closures from today.
type Schedule struct {
	OpeningHours []Window  `json:"opening_hours"`
	Slots        []Slot    `json:"slots"`
	Closures     []Closure `json:"closures"`
}

func minutes(field, hhmm string) (int, *fault.FieldError) {
	t, err := time.Parse("15:04", hhmm)
	if hhmm == "24:00" {
		return 1440, nil
	}
	if err != nil {
		f := fault.Field(field, "invalid_value", "a time of day as HH:MM")
		return 0, &f
	}
	return t.Hour()*60 + t.Minute(), nil
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

type span struct{ weekday, start, end int }

func parseWindows(field string, ws []Window) ([]span, error) {
	if len(ws) > 70 {
		return nil, fault.Validation(fault.Field(field, "too_long", "at most 70 windows"))
	}
	var out []span
	var f []fault.FieldError
	for i, w := range ws {
		name := fmt.Sprintf("%s[%d]", field, i)
		if w.Weekday < 1 || w.Weekday > 7 {
			f = append(f, fault.Field(name+".weekday", "out_of_range", "weekday 1 (Monday) to 7 (Sunday)"))
			continue
		}
		a, e1 := minutes(name+".start", w.Start)
		b, e2 := minutes(name+".end", w.End)
		if e1 != nil || e2 != nil {
			for _, e := range []*fault.FieldError{e1, e2} {
				if e != nil {
					f = append(f, *e)
				}
			}
			continue
		}
		if a >= b {
			f = append(f, fault.Field(name+".end", "out_of_range", "the end comes after the start"))
			continue
		}
		for j, o := range out {
			if o.weekday == w.Weekday && a < o.end && o.start < b {
				f = append(f, fault.Field(name, "overlap", fmt.Sprintf("overlaps %s[%d]", field, j)))
			}
		}
		out = append(out, span{w.Weekday, a, b})
	}
	if len(f) > 0 {
		return nil, fault.Validation(f...)
	}
	return out, nil
}

// exclusion reports whether err is an exclusion-constraint violation (overlap).
func exclusion(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23P01"
}

// GetSchedule returns the room's opening hours, the counselors' slots (for leaders and
// counselors) and the closures from today on.
func (s *Service) GetSchedule(ctx context.Context, a scope.Actor, school uuid.UUID) (Schedule, error) {
	var out Schedule
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = s.schedule(ctx, tx, school, true)
		return err
	})
	return out, err
}

func (s *Service) schedule(ctx context.Context, tx pgx.Tx, school uuid.UUID, slots bool) (Schedule, error) {
	out := Schedule{OpeningHours: []Window{}, Slots: []Slot{}, Closures: []Closure{}}
	rows, err := tx.Query(ctx, `SELECT weekday, opens_min, closes_min FROM room_opening_hours WHERE school_id = $1 ORDER BY weekday, opens_min`, school)
	if err != nil {
		return out, database.MapError(err)
	}
	out.OpeningHours, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Window, error) {
		var w Window
		var a, b int
		err := r.Scan(&w.Weekday, &a, &b)
		w.Start, w.End = hhmm(a), hhmm(b)
		return w, err
	})
	if err != nil {
		return out, database.MapError(err)
	}
	if slots {
		rows, err = tx.Query(ctx, `SELECT c.counselor_id, u.display_name, c.weekday, c.starts_min, c.ends_min FROM counselor_slots c
			JOIN users u ON u.id = c.counselor_id WHERE c.school_id = $1 ORDER BY u.display_name, c.counselor_id, c.weekday, c.starts_min`, school)
		if err != nil {
			return out, database.MapError(err)
		}
		out.Slots, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Slot, error) {
			var x Slot
			var a, b int
			err := r.Scan(&x.CounselorID, &x.CounselorName, &x.Weekday, &a, &b)
			x.Start, x.End = hhmm(a), hhmm(b)
			return x, err
		})
		if err != nil {
			return out, database.MapError(err)
		}
	}
	where := ``
	if !slots {
		where = ` AND counselor_id IS NULL`
	}
	rows, err = tx.Query(ctx, `SELECT id, counselor_id, starts_on::text, ends_on::text, label FROM room_closures
		WHERE school_id = $1 AND ends_on >= $2::date`+where+` ORDER BY starts_on, id LIMIT 200`, school, s.now().In(China).Format(time.DateOnly))
	if err != nil {
		return out, database.MapError(err)
	}
	out.Closures, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Closure, error) {
		var c Closure
		return c, r.Scan(&c.ID, &c.CounselorID, &c.StartsOn, &c.EndsOn, &c.Label)
	})
	return out, database.MapError(err)
}

// SetOpeningHours replaces the room's weekly opening hours.
func (s *Service) SetOpeningHours(ctx context.Context, a scope.Actor, school uuid.UUID, hours []Window) (Schedule, error) {
	spans, err := parseWindows("opening_hours", hours)
	if err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM room_opening_hours WHERE school_id = $1`, school); err != nil {
			return database.MapError(err)
		}
		for _, sp := range spans {
			if _, err := tx.Exec(ctx, `INSERT INTO room_opening_hours (school_id, id, weekday, opens_min, closes_min) VALUES ($1, $2, $3, $4, $5)`,
				school, uuid.Must(uuid.NewV7()), sp.weekday, sp.start, sp.end); err != nil {
				if exclusion(err) {
					return fault.Validation(fault.Field("opening_hours", "overlap", "opening hours overlap"))
				}
				return database.MapError(err)
			}
		}
		var err error
		if out, err = s.schedule(ctx, tx, school, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "room.set_opening_hours", ObjectType: "school", ObjectID: school.String()})
	})
	return out, err
}

// SetMySlots replaces the calling counselor's bookable slots; each lies within the
// room's opening hours of its weekday.
func (s *Service) SetMySlots(ctx context.Context, a scope.Actor, school uuid.UUID, slots []Window) (Schedule, error) {
	spans, err := parseWindows("slots", slots)
	if err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		open, err := s.schedule(ctx, tx, school, false)
		if err != nil {
			return err
		}
		for i, sp := range spans {
			if !within(open.OpeningHours, sp) {
				return fault.Validation(fault.Field(fmt.Sprintf("slots[%d]", i), "outside_opening_hours", "a slot lies within the room's opening hours"))
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM counselor_slots WHERE school_id = $1 AND counselor_id = $2`, school, a.UserID); err != nil {
			return database.MapError(err)
		}
		for _, sp := range spans {
			if _, err := tx.Exec(ctx, `INSERT INTO counselor_slots (school_id, id, counselor_id, weekday, starts_min, ends_min) VALUES ($1, $2, $3, $4, $5, $6)`,
				school, uuid.Must(uuid.NewV7()), a.UserID, sp.weekday, sp.start, sp.end); err != nil {
				if exclusion(err) {
					return fault.Validation(fault.Field("slots", "overlap", "slots overlap"))
				}
				return database.MapError(err)
			}
		}
		if out, err = s.schedule(ctx, tx, school, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "room.set_slots", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	return out, err
}

func within(ws []Window, sp span) bool {
	for _, w := range ws {
		a, _ := minutes("", w.Start)
		b, _ := minutes("", w.End)
		if w.Weekday == sp.weekday && a <= sp.start && sp.end <= b {
			return true
		}
	}
	return false
}

// ClosureInput closes the room (no counselor) or one counselor's slots on some dates.
type ClosureInput struct {
	CounselorID *uuid.UUID `json:"counselor_id"`
	StartsOn    string     `json:"starts_on"`
	EndsOn      string     `json:"ends_on"`
	Label       string     `json:"label"`
}

// AddClosure records a closure (holiday, exam week). Appointments already booked in it
// are not touched: the counselor moves or cancels them.
func (s *Service) AddClosure(ctx context.Context, a scope.Actor, school uuid.UUID, in ClosureInput) (Closure, error) {
	var f []fault.FieldError
	from, err1 := time.Parse(time.DateOnly, in.StartsOn)
	to, err2 := time.Parse(time.DateOnly, in.EndsOn)
	if err1 != nil {
		f = append(f, fault.Field("starts_on", "invalid_value", "a date as YYYY-MM-DD"))
	}
	if err2 != nil {
		f = append(f, fault.Field("ends_on", "invalid_value", "a date as YYYY-MM-DD"))
	}
	if err1 == nil && err2 == nil && (to.Before(from) || to.Sub(from) > 366*24*time.Hour) {
		f = append(f, fault.Field("ends_on", "out_of_range", "on or after starts_on, within a year"))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Label)); n == 0 || n > 100 {
		f = append(f, fault.Field("label", "required", "what the closure is, 1 to 100 characters (e.g. 期中考试周)"))
	}
	if len(f) > 0 {
		return Closure{}, fault.Validation(f...)
	}
	var out Closure
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if in.CounselorID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT school_counselors($1) INTERSECT SELECT $2::uuid)`, school, *in.CounselorID).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				return fault.Validation(fault.Field("counselor_id", "invalid_value", "no such counselor in this school"))
			}
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO room_closures (school_id, id, counselor_id, starts_on, ends_on, label, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			school, id, in.CounselorID, in.StartsOn, in.EndsOn, strings.TrimSpace(in.Label), a.UserID); err != nil {
			return database.MapError(err)
		}
		out = Closure{ID: id, CounselorID: in.CounselorID, StartsOn: in.StartsOn, EndsOn: in.EndsOn, Label: strings.TrimSpace(in.Label)}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "room.add_closure", ObjectType: "room_closure", ObjectID: id.String()})
	})
	return out, err
}

// DeleteClosure removes a closure.
func (s *Service) DeleteClosure(ctx context.Context, a scope.Actor, school, id uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM room_closures WHERE school_id = $1 AND id = $2`, school, id)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "room.delete_closure", ObjectType: "room_closure", ObjectID: id.String()})
	})
}

// checkOpen refuses a time outside the room's opening hours, outside the counselor's
// slots (when the counselor published any) or in a closure. field names the input.
func (s *Service) checkOpen(ctx context.Context, tx pgx.Tx, school uuid.UUID, counselor *uuid.UUID, starts, ends time.Time, field string) error {
	ls, le := starts.In(China), ends.In(China)
	sp := span{weekday: isoWeekday(ls), start: ls.Hour()*60 + ls.Minute(), end: le.Hour()*60 + le.Minute()}
	if le.Format(time.DateOnly) != ls.Format(time.DateOnly) {
		if le.Hour() == 0 && le.Minute() == 0 && le.Sub(ls) < 24*time.Hour {
			sp.end = 1440
		} else {
			return fault.Validation(fault.Field(field, "outside_opening_hours", "an appointment starts and ends on the same day"))
		}
	}
	var open bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM room_opening_hours WHERE school_id = $1 AND weekday = $2 AND opens_min <= $3 AND closes_min >= $4)`,
		school, sp.weekday, sp.start, sp.end).Scan(&open); err != nil {
		return database.MapError(err)
	}
	if !open {
		return fault.Validation(fault.Field(field, "outside_opening_hours", "the room is not open at that time"))
	}
	var closed bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM room_closures WHERE school_id = $1 AND $2::date BETWEEN starts_on AND ends_on
		AND (counselor_id IS NULL OR counselor_id = $3))`, school, ls.Format(time.DateOnly), counselor).Scan(&closed); err != nil {
		return database.MapError(err)
	}
	if closed {
		return fault.Validation(fault.Field(field, "closed", "the room or the counselor is closed on that day"))
	}
	if counselor == nil {
		return nil
	}
	var any, fits bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM counselor_slots WHERE school_id = $1 AND counselor_id = $2),
		EXISTS (SELECT 1 FROM counselor_slots WHERE school_id = $1 AND counselor_id = $2 AND weekday = $3 AND starts_min <= $4 AND ends_min >= $5)`,
		school, *counselor, sp.weekday, sp.start, sp.end).Scan(&any, &fits); err != nil {
		return database.MapError(err)
	}
	if any && !fits {
		return fault.Validation(fault.Field(field, "outside_slots", "outside the counselor's bookable slots"))
	}
	return nil
}

func isoWeekday(t time.Time) int {
	if t.Weekday() == time.Sunday {
		return 7
	}
	return int(t.Weekday())
}
