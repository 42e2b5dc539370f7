package appointment

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Vocabularies.
var (
	ClientKinds   = []string{"student", "guardian", "teacher"}
	Statuses      = []string{"requested", "booked", "checked_in", "cancelled", "no_show", "declined"}
	CancelReasons = []string{"client_cancelled", "counselor_unavailable", "school_event", "other"}
)

const purposeName, purposeContact = "appointment.client_name", "appointment.contact"

// Appointment is an appointment as the school's counselors see it.
type Appointment struct {
	ID            uuid.UUID  `json:"id"`
	CounselorID   *uuid.UUID `json:"counselor_id"`
	CounselorName string     `json:"counselor_name"`
	ClientKind    string     `json:"client_kind"`
	StudentID     *uuid.UUID `json:"student_id"`
	StudentName   string     `json:"student_name"`
	ClientName    string     `json:"client_name"`
	Contact       string     `json:"contact"`
	StartsAt      time.Time  `json:"starts_at"`
	EndsAt        time.Time  `json:"ends_at"`
	Status        string     `json:"status"`
	Source        string     `json:"source"`
	CreatedAt     time.Time  `json:"created_at"`
	AnsweredAt    *time.Time `json:"answered_at"`
	CancelReason  *string    `json:"cancel_reason"`
	CaseFileID    *uuid.UUID `json:"case_file_id"`
	SessionID     *uuid.UUID `json:"session_id"`
}

// BookInput is what a counselor books.
type BookInput struct {
	CounselorID     *uuid.UUID `json:"counselor_id"` // default: the caller
	ClientKind      string     `json:"client_kind"`
	StudentID       *uuid.UUID `json:"student_id"` // the student the appointment is about (required for a student)
	ClientName      string     `json:"client_name"`
	Contact         string     `json:"contact"`
	StartsAt        time.Time  `json:"starts_at"`
	DurationMinutes int        `json:"duration_minutes"`
}

func (s *Service) validateTime(starts time.Time, minutes int, field string) []fault.FieldError {
	var f []fault.FieldError
	if starts.IsZero() {
		f = append(f, fault.Field(field, "required", "when the appointment starts"))
	} else if starts.Before(s.now().Add(-10 * time.Minute)) {
		f = append(f, fault.Field(field, "out_of_range", "an appointment starts in the future"))
	} else if starts.After(s.now().AddDate(0, 6, 0)) {
		f = append(f, fault.Field(field, "out_of_range", "at most six months ahead"))
	}
	if minutes < 15 || minutes > 240 {
		f = append(f, fault.Field("duration_minutes", "out_of_range", "15 to 240 minutes"))
	}
	return f
}

// Book books an appointment for a counselor (the caller by default) in the room's
// opening hours and the counselor's slots. An overlapping appointment of the same
// counselor is refused by the database (409), also under concurrent bookings.
func (s *Service) Book(ctx context.Context, a scope.Actor, school uuid.UUID, in BookInput) (Appointment, error) {
	f := s.validateTime(in.StartsAt, in.DurationMinutes, "starts_at")
	if !slices.Contains(ClientKinds, in.ClientKind) {
		f = append(f, fault.Field("client_kind", "invalid_value", "client_kind must be one of "+strings.Join(ClientKinds, ", ")))
	}
	if in.ClientKind == "student" && (in.StudentID == nil || *in.StudentID == uuid.Nil) {
		f = append(f, fault.Field("student_id", "required", "the student is required"))
	}
	if in.ClientKind != "student" && strings.TrimSpace(in.ClientName) == "" {
		f = append(f, fault.Field("client_name", "required", "the guardian's or teacher's name is required"))
	}
	f = append(f, checkContact(in.ClientName, in.Contact, false)...)
	if len(f) > 0 {
		return Appointment{}, fault.Validation(f...)
	}
	counselor := a.UserID
	if in.CounselorID != nil && *in.CounselorID != uuid.Nil {
		counselor = *in.CounselorID
	}
	starts := in.StartsAt.Truncate(time.Minute)
	ends := starts.Add(time.Duration(in.DurationMinutes) * time.Minute)
	var out Appointment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := s.checkCounselor(ctx, tx, school, counselor); err != nil {
			return err
		}
		if in.StudentID != nil {
			if err := checkStudent(ctx, tx, school, *in.StudentID); err != nil {
				return err
			}
		}
		if err := s.checkOpen(ctx, tx, school, &counselor, starts, ends, "starts_at"); err != nil {
			return err
		}
		name, contact, err := s.seal(ctx, tx, school, in.ClientName, in.Contact)
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO appointments (school_id, id, counselor_id, client_kind, student_id, client_name, contact,
			starts_at, ends_at, status, source, created_by, status_changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', 'counselor', $10, $10)`,
			school, id, counselor, in.ClientKind, in.StudentID, name, contact, starts, ends, a.UserID); err != nil {
			return bookingError(err)
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "appointments.book", ObjectType: "appointment", ObjectID: id.String()})
	})
	return out, err
}

func bookingError(err error) error {
	if exclusion(err) {
		return fault.New(fault.Conflict, "the counselor already has an appointment at that time")
	}
	return database.MapError(err)
}

func checkContact(name, contact string, required bool) []fault.FieldError {
	var f []fault.FieldError
	if utf8.RuneCountInString(name) > 50 {
		f = append(f, fault.Field("client_name", "too_long", "at most 50 characters"))
	}
	n := utf8.RuneCountInString(strings.TrimSpace(contact))
	if required && n < 3 {
		f = append(f, fault.Field("contact", "required", "a phone number or another way to reach you"))
	}
	if n > 100 {
		f = append(f, fault.Field("contact", "too_long", "at most 100 characters"))
	}
	return f
}

func (s *Service) seal(ctx context.Context, tx pgx.Tx, school uuid.UUID, name, contact string) ([]byte, []byte, error) {
	var n, c []byte
	var err error
	if name = strings.TrimSpace(name); name != "" {
		if n, err = s.Cipher.Encrypt(ctx, tx, school, purposeName, []byte(name)); err != nil {
			return nil, nil, err
		}
	}
	if contact = strings.TrimSpace(contact); contact != "" {
		if c, err = s.Cipher.Encrypt(ctx, tx, school, purposeContact, []byte(contact)); err != nil {
			return nil, nil, err
		}
	}
	return n, c, nil
}

func (s *Service) checkCounselor(ctx context.Context, tx pgx.Tx, school, counselor uuid.UUID) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT school_counselors($1) INTERSECT SELECT $2::uuid)`, school, counselor).Scan(&ok); err != nil {
		return database.MapError(err)
	}
	if !ok {
		return fault.Validation(fault.Field("counselor_id", "invalid_value", "no such counselor in this school"))
	}
	return nil
}

func checkStudent(ctx context.Context, tx pgx.Tx, school, student uuid.UUID) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&ok); err != nil {
		return database.MapError(err)
	}
	if !ok {
		return fault.Validation(fault.Field("student_id", "invalid_value", "no such student in this school"))
	}
	return nil
}

const selectAppointments = `SELECT a.id, a.counselor_id, coalesce(u.display_name, ''), a.client_kind, a.student_id, coalesce(st.name, ''),
	a.client_name, a.contact, a.starts_at, a.ends_at, a.status, a.source, a.created_at, a.answered_at, a.cancel_reason, a.case_file_id, a.session_id
	FROM appointments a
	LEFT JOIN users u ON u.id = a.counselor_id
	LEFT JOIN students st ON st.school_id = a.school_id AND st.id = a.student_id
	WHERE a.school_id = $1 AND `

func (s *Service) list(ctx context.Context, tx pgx.Tx, school uuid.UUID, whereOrder string, args ...any) ([]Appointment, error) {
	rows, err := tx.Query(ctx, selectAppointments+whereOrder+` LIMIT 1000`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Appointment
		name, contact []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.CounselorID, &x.CounselorName, &x.ClientKind, &x.StudentID, &x.StudentName, &x.name, &x.contact,
			&x.StartsAt, &x.EndsAt, &x.Status, &x.Source, &x.CreatedAt, &x.AnsweredAt, &x.CancelReason, &x.CaseFileID, &x.SessionID)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Appointment, 0, len(list))
	for _, x := range list {
		for _, p := range []struct {
			purpose string
			b       []byte
			to      *string
		}{{purposeName, x.name, &x.ClientName}, {purposeContact, x.contact, &x.Contact}} {
			if p.b == nil {
				continue
			}
			plain, err := s.Cipher.Decrypt(ctx, tx, school, p.purpose, p.b)
			if err != nil {
				return nil, fault.Wrap(err, "decrypt "+p.purpose)
			}
			*p.to = string(plain)
		}
		out = append(out, x.Appointment)
	}
	return out, nil
}

func (s *Service) one(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Appointment, error) {
	list, err := s.list(ctx, tx, school, `a.id = $2`, id)
	if err != nil {
		return Appointment{}, err
	}
	if len(list) == 0 {
		return Appointment{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// Filter selects a calendar range (at most 42 days), optionally one counselor or status.
type Filter struct {
	From, To    time.Time
	CounselorID *uuid.UUID
	Status      string
}

// List returns the appointments in a range (the day or week calendar of one counselor
// or of the room), and, with status "requested", the open requests whatever their time.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, f Filter) ([]Appointment, error) {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return nil, fault.Validation(fault.Field("status", "invalid_value", "status must be one of "+strings.Join(Statuses, ", ")))
	}
	if f.Status != "requested" && (f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) || f.To.Sub(f.From) > 42*24*time.Hour) {
		return nil, fault.Validation(fault.Field("to", "out_of_range", "from and to (RFC 3339) span at most 42 days"))
	}
	var out []Appointment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		where, args := []string{}, []any{}
		add := func(cond string, v any) {
			args = append(args, v)
			where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args)+1)))
		}
		if f.Status == "requested" {
			add(`a.status = ?`, f.Status)
		} else {
			add(`a.ends_at > ?`, f.From)
			add(`a.starts_at < ?`, f.To)
			if f.Status != "" {
				add(`a.status = ?`, f.Status)
			} else {
				where = append(where, `a.status <> 'requested'`)
			}
		}
		if f.CounselorID != nil {
			add(`a.counselor_id = ?`, *f.CounselorID)
		}
		var err error
		if out, err = s.list(ctx, tx, school, strings.Join(where, " AND ")+` ORDER BY a.starts_at, a.id`, args...); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "appointments.list", ObjectType: "appointment"})
	})
	return out, err
}

// AcceptInput accepts a request, optionally moving it and naming the student.
type AcceptInput struct {
	CounselorID     *uuid.UUID `json:"counselor_id"` // default: the caller
	StartsAt        *time.Time `json:"starts_at"`    // move it; default: the requested time
	DurationMinutes int        `json:"duration_minutes"`
	StudentID       *uuid.UUID `json:"student_id"`
}

// Accept books a public request for a counselor, at the requested time or another one.
func (s *Service) Accept(ctx context.Context, a scope.Actor, school, id uuid.UUID, in AcceptInput) (Appointment, error) {
	var out Appointment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.one(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if cur.Status != "requested" {
			return fault.New(fault.Conflict, "the request has already been answered")
		}
		counselor := a.UserID
		if in.CounselorID != nil && *in.CounselorID != uuid.Nil {
			counselor = *in.CounselorID
		}
		starts, minutes := cur.StartsAt, int(cur.EndsAt.Sub(cur.StartsAt).Minutes())
		if in.StartsAt != nil {
			starts = in.StartsAt.Truncate(time.Minute)
		}
		if in.DurationMinutes != 0 {
			minutes = in.DurationMinutes
		}
		if f := s.validateTime(starts, minutes, "starts_at"); len(f) > 0 {
			return fault.Validation(f...)
		}
		if err := s.checkCounselor(ctx, tx, school, counselor); err != nil {
			return err
		}
		if in.StudentID != nil {
			if err := checkStudent(ctx, tx, school, *in.StudentID); err != nil {
				return err
			}
		}
		ends := starts.Add(time.Duration(minutes) * time.Minute)
		if err := s.checkOpen(ctx, tx, school, &counselor, starts, ends, "starts_at"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE appointments SET status = 'booked', counselor_id = $3, starts_at = $4, ends_at = $5,
			student_id = coalesce($6, student_id), answered_at = now(), status_changed_at = now(), status_changed_by = $7
			WHERE school_id = $1 AND id = $2`, school, id, counselor, starts, ends, in.StudentID, a.UserID); err != nil {
			return bookingError(err)
		}
		if _, err := tx.Exec(ctx, `SELECT close_appointment_request_tasks($1, $2)`, school, id); err != nil {
			return database.MapError(err)
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "appointments.accept", ObjectType: "appointment", ObjectID: id.String()})
	})
	return out, err
}

// Decline declines a public request.
func (s *Service) Decline(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Appointment, error) {
	return s.transition(ctx, a, school, id, "appointments.decline", []string{"requested"}, func(tx pgx.Tx, cur Appointment) error {
		if _, err := tx.Exec(ctx, `UPDATE appointments SET status = 'declined', answered_at = now(), status_changed_at = now(), status_changed_by = $3
			WHERE school_id = $1 AND id = $2`, school, id, a.UserID); err != nil {
			return database.MapError(err)
		}
		_, err := tx.Exec(ctx, `SELECT close_appointment_request_tasks($1, $2)`, school, id)
		return database.MapError(err)
	})
}

// MoveInput moves a booked appointment.
type MoveInput struct {
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"` // default: unchanged
}

// Move moves a booked appointment to another time (same counselor).
func (s *Service) Move(ctx context.Context, a scope.Actor, school, id uuid.UUID, in MoveInput) (Appointment, error) {
	return s.transition(ctx, a, school, id, "appointments.move", []string{"booked"}, func(tx pgx.Tx, cur Appointment) error {
		minutes := in.DurationMinutes
		if minutes == 0 {
			minutes = int(cur.EndsAt.Sub(cur.StartsAt).Minutes())
		}
		starts := in.StartsAt.Truncate(time.Minute)
		if f := s.validateTime(starts, minutes, "starts_at"); len(f) > 0 {
			return fault.Validation(f...)
		}
		ends := starts.Add(time.Duration(minutes) * time.Minute)
		if err := s.checkOpen(ctx, tx, school, cur.CounselorID, starts, ends, "starts_at"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE appointments SET starts_at = $3, ends_at = $4, status_changed_at = now(), status_changed_by = $5
			WHERE school_id = $1 AND id = $2`, school, id, starts, ends, a.UserID)
		return bookingError(err)
	})
}

// Cancel cancels a booked appointment with a reason; it is counted.
func (s *Service) Cancel(ctx context.Context, a scope.Actor, school, id uuid.UUID, reason string) (Appointment, error) {
	if !slices.Contains(CancelReasons, reason) {
		return Appointment{}, fault.Validation(fault.Field("reason", "invalid_value", "reason must be one of "+strings.Join(CancelReasons, ", ")))
	}
	return s.transition(ctx, a, school, id, "appointments.cancel", []string{"booked"}, func(tx pgx.Tx, cur Appointment) error {
		_, err := tx.Exec(ctx, `UPDATE appointments SET status = 'cancelled', cancel_reason = $3, status_changed_at = now(), status_changed_by = $4
			WHERE school_id = $1 AND id = $2`, school, id, reason, a.UserID)
		return database.MapError(err)
	})
}

// NoShow records that the client did not come; only once the appointment has started.
func (s *Service) NoShow(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Appointment, error) {
	return s.transition(ctx, a, school, id, "appointments.no_show", []string{"booked"}, func(tx pgx.Tx, cur Appointment) error {
		if cur.StartsAt.After(s.now()) {
			return fault.New(fault.Conflict, "a no-show is recorded once the appointment has started")
		}
		_, err := tx.Exec(ctx, `UPDATE appointments SET status = 'no_show', status_changed_at = now(), status_changed_by = $3
			WHERE school_id = $1 AND id = $2`, school, id, a.UserID)
		return database.MapError(err)
	})
}

// CheckInInput names the student (when the appointment does not) and the session.
type CheckInInput struct {
	StudentID  *uuid.UUID `json:"student_id"`
	Summary    string     `json:"summary"`
	Categories []string   `json:"categories"`
}

// CheckIn marks the client arrived and records, in the same transaction, a scheduled
// session in the student's case file (opened if there is none). The session starts at
// the appointment's time, or now when the client came early.
func (s *Service) CheckIn(ctx context.Context, a scope.Actor, school, id uuid.UUID, in CheckInInput) (Appointment, error) {
	return s.transition(ctx, a, school, id, "appointments.check_in", []string{"booked"}, func(tx pgx.Tx, cur Appointment) error {
		student := cur.StudentID
		if student == nil && in.StudentID != nil && *in.StudentID != uuid.Nil {
			if err := checkStudent(ctx, tx, school, *in.StudentID); err != nil {
				return err
			}
			student = in.StudentID
		}
		if student == nil {
			return fault.Validation(fault.Field("student_id", "required", "name the student this appointment is about"))
		}
		file, err := s.CaseFiles.OpenInTx(ctx, tx, a, school, *student)
		if err != nil {
			return err
		}
		summary := strings.TrimSpace(in.Summary)
		if summary == "" {
			summary = "预约面谈"
		}
		at := cur.StartsAt
		if now := s.now(); at.After(now) {
			at = now
		}
		initiated := "self"
		if cur.ClientKind == "guardian" {
			initiated = "guardian"
		} else if cur.ClientKind == "teacher" {
			initiated = "teacher"
		}
		session, err := s.CaseFiles.RecordSessionInTx(ctx, tx, a, school, file, casefile.SessionInput{
			OccurredAt: at, Channel: "scheduled", Participants: []string{cur.ClientKind}, InitiatedBy: initiated,
			Categories: in.Categories, DurationMinutes: int(cur.EndsAt.Sub(cur.StartsAt).Minutes()), Summary: summary})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE appointments SET status = 'checked_in', student_id = $3, case_file_id = $4, session_id = $5,
			status_changed_at = now(), status_changed_by = $6 WHERE school_id = $1 AND id = $2`, school, id, *student, file, session.ID, a.UserID)
		return database.MapError(err)
	})
}

func (s *Service) transition(ctx context.Context, a scope.Actor, school, id uuid.UUID, action string, from []string, fn func(tx pgx.Tx, cur Appointment) error) (Appointment, error) {
	var out Appointment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT true FROM appointments WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, id).Scan(&locked); err != nil {
			return database.MapError(err)
		}
		cur, err := s.one(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if !slices.Contains(from, cur.Status) {
			return fault.New(fault.Conflict, "the appointment is %s", cur.Status)
		}
		if err := fn(tx, cur); err != nil {
			return err
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "appointment", ObjectID: id.String()})
	})
	return out, err
}

// CounselorStats counts one counselor's appointments in a range by outcome.
type CounselorStats struct {
	CounselorID   uuid.UUID `json:"counselor_id"`
	CounselorName string    `json:"counselor_name"`
	Booked        int       `json:"booked"`
	CheckedIn     int       `json:"checked_in"`
	Cancelled     int       `json:"cancelled"`
	NoShow        int       `json:"no_show"`
}

// Stats are the room's counts in a range: per counselor, and the public requests with
// how many were answered within 2 school days (Monday to Friday).
type Stats struct {
	Counselors          []CounselorStats `json:"counselors"`
	Requests            int              `json:"requests"`
	RequestsOpen        int              `json:"requests_open"`
	AnsweredWithin2Days int              `json:"answered_within_2_school_days"`
}

// Stats counts appointments starting in [from, to) and requests made then.
func (s *Service) Stats(ctx context.Context, a scope.Actor, school uuid.UUID, from, to time.Time) (Stats, error) {
	if from.IsZero() || to.IsZero() || !to.After(from) || to.Sub(from) > 400*24*time.Hour {
		return Stats{}, fault.Validation(fault.Field("to", "out_of_range", "from and to (RFC 3339) span at most 400 days"))
	}
	out := Stats{Counselors: []CounselorStats{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT a.counselor_id, u.display_name,
			count(*) FILTER (WHERE a.status = 'booked'), count(*) FILTER (WHERE a.status = 'checked_in'),
			count(*) FILTER (WHERE a.status = 'cancelled'), count(*) FILTER (WHERE a.status = 'no_show')
			FROM appointments a JOIN users u ON u.id = a.counselor_id
			WHERE a.school_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 AND a.counselor_id IS NOT NULL
			GROUP BY a.counselor_id, u.display_name ORDER BY u.display_name`, school, from, to)
		if err != nil {
			return database.MapError(err)
		}
		if out.Counselors, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CounselorStats, error) {
			var c CounselorStats
			return c, r.Scan(&c.CounselorID, &c.CounselorName, &c.Booked, &c.CheckedIn, &c.Cancelled, &c.NoShow)
		}); err != nil {
			return database.MapError(err)
		}
		rows, err = tx.Query(ctx, `SELECT created_at, answered_at FROM appointments
			WHERE school_id = $1 AND source = 'public_request' AND created_at >= $2 AND created_at < $3`, school, from, to)
		if err != nil {
			return database.MapError(err)
		}
		type req struct {
			created  time.Time
			answered *time.Time
		}
		reqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (req, error) {
			var x req
			return x, r.Scan(&x.created, &x.answered)
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, r := range reqs {
			out.Requests++
			if r.answered == nil {
				out.RequestsOpen++
			} else if !r.answered.After(AddSchoolDays(r.created, 2)) {
				out.AnsweredWithin2Days++
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "appointments.stats", ObjectType: "appointment"})
	})
	return out, err
}

// AddSchoolDays adds n school days (Monday to Friday, China time) to t.
func AddSchoolDays(t time.Time, n int) time.Time {
	t = t.In(China)
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// TypeReminder is the periodic job that reminds counselors of tomorrow's appointments.
const TypeReminder = "appointment:reminder"

// ReminderAhead is how long before an appointment its counselor is reminded.
const ReminderAhead = 24 * time.Hour

// KindReminder is the inbox kind of a reminder; it holds the time, never the client.
const KindReminder = "appointment_reminder"

// RemindUpcoming posts to each counselor a reminder of every booked appointment
// starting within ahead. It needs no user: the database function it calls lists those
// appointments (ids, counselor, time) and nothing else. Posting is idempotent (one
// reminder per appointment and start time: a moved appointment is reminded again), so
// a retried or repeated run posts nothing twice. It returns how many it posted.
func (s *Service) RemindUpcoming(ctx context.Context, ahead time.Duration) (int, error) {
	type due struct {
		district, school, appointment, counselor uuid.UUID
		starts                                   time.Time
	}
	total := 0
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		total = 0
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, appointment_id, counselor_id, starts_at FROM appointments_due_for_reminder($1)`, int64(ahead.Seconds()))
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var x due
			return x, r.Scan(&x.district, &x.school, &x.appointment, &x.counselor, &x.starts)
		})
		if err != nil {
			return database.MapError(err)
		}
		var posted audit.PerSchool
		for i, x := range list {
			a := scope.Actor{DistrictID: x.district, SchoolID: x.school, Kind: scope.School, Username: "system:appointment_reminder"}
			if i == 0 || x.school != list[i-1].school {
				if err := database.SetScope(ctx, tx, a); err != nil {
					return fault.Wrap(err, "scope")
				}
			}
			id, starts := x.appointment, x.starts
			ok, err := inbox.Post(ctx, tx, inbox.Notice{School: x.school, User: x.counselor, Kind: KindReminder, Subject: "appointment", SubjectID: &id,
				Params: map[string]string{"starts_at": starts.In(China).Format("2006-01-02 15:04")}, DueAt: &starts,
				DedupeKey: "appointment_reminder:" + id.String() + ":" + starts.UTC().Format(time.RFC3339)})
			if err != nil {
				return err
			}
			if ok {
				posted.Add(a, 1)
				total++
			}
		}
		return posted.Record(ctx, tx, func(_ scope.Actor, n int) audit.Entry {
			return audit.Entry{Action: "appointments.remind", ObjectType: "appointment", Reason: strconv.Itoa(n) + " reminders posted"}
		})
	})
	return total, err
}
