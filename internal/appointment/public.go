package appointment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// RequestMinutes is the length of a requested appointment.
const RequestMinutes = 45

// PublicRoom is what the school's public request page shows: the school's name, the
// room's opening hours and the room's closures ahead. Never a booking.
type PublicRoom struct {
	SchoolName      string    `json:"school_name"`
	OpeningHours    []Window  `json:"opening_hours"`
	Closures        []Closure `json:"closures"`
	DurationMinutes int       `json:"duration_minutes"`
}

// RequestInput is what a student or guardian gives on the public page: no confidential
// details, the name is optional, a way to reach them is required.
type RequestInput struct {
	RequesterKind string    `json:"requester_kind"` // student or guardian
	Name          string    `json:"name"`
	Contact       string    `json:"contact"`
	StartsAt      time.Time `json:"starts_at"`
}

// RequestReceipt is the whole answer to a request: received, nothing about other bookings.
type RequestReceipt struct {
	Status string `json:"status"`
}

// publicActor is the school's scope with no user: the keyring and the definer functions
// work in it, the tables' policies give it nothing but opening hours and closures.
func (s *Service) publicActor(ctx context.Context, tx pgx.Tx, base scope.Actor, school uuid.UUID) (scope.Actor, string, error) {
	var district uuid.UUID
	var name string
	if err := tx.QueryRow(ctx, `SELECT district_id, name FROM appointment_public_school($1)`, school).Scan(&district, &name); err != nil {
		return scope.Actor{}, "", database.MapError(err) // no rows: not found
	}
	a := scope.Actor{DistrictID: district, SchoolID: school, Kind: scope.School, Username: "public:appointment_request",
		RequestID: base.RequestID, ClientIP: base.ClientIP}
	if err := database.SetScope(ctx, tx, a); err != nil {
		return scope.Actor{}, "", fault.Wrap(err, "scope")
	}
	return a, name, nil
}

// Room returns the public request page's data for a school; an unknown school is not found.
func (s *Service) Room(ctx context.Context, base scope.Actor, school uuid.UUID) (PublicRoom, error) {
	var out PublicRoom
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		_, name, err := s.publicActor(ctx, tx, base, school)
		if err != nil {
			return err
		}
		sch, err := s.schedule(ctx, tx, school, false)
		if err != nil {
			return err
		}
		out = PublicRoom{SchoolName: name, OpeningHours: sch.OpeningHours, Closures: sch.Closures, DurationMinutes: RequestMinutes}
		return nil
	})
	return out, err
}

// Request records a public request for a slot in the room's opening hours. It is
// refused when the time is outside the opening hours or in a closure (public facts) and
// when the page is flooded (rate limit, 429); it never depends on other bookings. The
// school's counselors get a task in their inbox.
func (s *Service) Request(ctx context.Context, base scope.Actor, school uuid.UUID, in RequestInput) (RequestReceipt, error) {
	var f []fault.FieldError
	if !slices.Contains([]string{"student", "guardian"}, in.RequesterKind) {
		f = append(f, fault.Field("requester_kind", "invalid_value", "student or guardian"))
	}
	f = append(f, checkContact(in.Name, in.Contact, true)...)
	now := s.now()
	if in.StartsAt.IsZero() {
		f = append(f, fault.Field("starts_at", "required", "the time you would like"))
	} else if in.StartsAt.Before(now.Add(time.Hour)) || in.StartsAt.After(now.AddDate(0, 0, 30)) {
		f = append(f, fault.Field("starts_at", "out_of_range", "from one hour to 30 days ahead"))
	}
	if len(f) > 0 {
		return RequestReceipt{}, fault.Validation(f...)
	}
	starts := in.StartsAt.Truncate(time.Minute)
	ends := starts.Add(RequestMinutes * time.Minute)
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		a, _, err := s.publicActor(ctx, tx, base, school)
		if err != nil {
			return err
		}
		if err := s.checkOpen(ctx, tx, school, nil, starts, ends, "starts_at"); err != nil {
			return err
		}
		name, contact, err := s.seal(ctx, tx, school, in.Name, in.Contact)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte("appointment-request|" + school.String() + "|" + base.ClientIP))
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `SELECT appointment_request_submit($1, $2, $3, $4, $5, $6, $7, $8)`,
			school, id, in.RequesterKind, name, contact, starts, ends, hex.EncodeToString(sum[:16])); err != nil {
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "XQ429" {
				return fault.New(fault.RateLimited, "too many requests from here; please try again later or call the counseling room")
			}
			return database.MapError(err)
		}
		rows, err := tx.Query(ctx, `SELECT school_counselors($1)`, school)
		if err != nil {
			return database.MapError(err)
		}
		counselors, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		for _, c := range counselors {
			if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c, Kind: "appointment_requested", Task: true,
				Subject: "appointment", SubjectID: &id, Params: map[string]string{"starts_at": starts.In(China).Format("2006-01-02 15:04")}}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "appointments.request", ObjectType: "appointment", ObjectID: id.String()})
	})
	if err != nil {
		return RequestReceipt{}, err
	}
	return RequestReceipt{Status: "received"}, nil
}
