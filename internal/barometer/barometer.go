// Package barometer owns the weekly barometer (学生心理健康状况晴雨表) that peer liaisons
// (心理委员) file for their homeroom: the mood on a scale of 1 to 5 and common concerns
// from a fixed list. A liaison may name a classmate who worries them: that goes to the
// counselors' intake queue (受理队列) only — as a concern with source "barometer", which
// neither the district nor the homeroom teacher ever sees — and the report keeps only
// the fact that somebody was named. Missing weeks are reminded by a periodic job.
package barometer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
}

// Service is the barometer service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
	Now    func() time.Time
}

// TypeReminder is the periodic job that reminds liaisons of last week's missing barometer.
const TypeReminder = "barometer:reminder"

// KindMissing is the inbox kind of the reminder.
const KindMissing = "barometer_missing"

// Concerns is the fixed list of common concerns.
var Concerns = []string{"study_pressure", "exam_anxiety", "sleep", "low_mood", "peer_conflict", "bullying", "family", "phone_gaming", "loneliness", "romance"}

var china = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// WeekStart is the Monday of the week of t, in China time, as a date.
func WeekStart(t time.Time) time.Time {
	t = t.In(china)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Classmate is a student a liaison may name: id and name only.
type Classmate struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	HomeroomID uuid.UUID `json:"homeroom_id"`
}

// Homeroom is a homeroom the liaison reports for.
type Homeroom struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// Report is a barometer report. Named tells only that a classmate was named.
type Report struct {
	ID           uuid.UUID `json:"id"`
	HomeroomID   uuid.UUID `json:"homeroom_id"`
	HomeroomName string    `json:"homeroom_name"`
	WeekStart    string    `json:"week_start"`
	Mood         int       `json:"mood"`
	Concerns     []string  `json:"concerns"`
	Named        bool      `json:"named"`
	SubmittedAt  time.Time `json:"submitted_at"`
}

// Form is everything the liaison's phone form needs, and nothing more.
type Form struct {
	WeekStart  string      `json:"week_start"`
	Homerooms  []Homeroom  `json:"homerooms"`
	Concerns   []string    `json:"concerns"`
	Classmates []Classmate `json:"classmates"`
	Reports    []Report    `json:"reports"` // the liaison's own, newest first
}

func reports(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, args ...any) ([]Report, error) {
	rows, err := tx.Query(ctx, `SELECT b.id, b.homeroom_id, h.name, b.week_start::text, b.mood, b.concerns, b.named, b.submitted_at
		FROM barometer_reports b JOIN org_units h ON h.school_id = b.school_id AND h.id = b.homeroom_id
		WHERE b.school_id = $1 AND `+where+` ORDER BY b.week_start DESC, h.position, h.name LIMIT 500`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Report, error) {
		var x Report
		return x, r.Scan(&x.ID, &x.HomeroomID, &x.HomeroomName, &x.WeekStart, &x.Mood, &x.Concerns, &x.Named, &x.SubmittedAt)
	})
	if out == nil {
		out = []Report{}
	}
	return out, database.MapError(err)
}

// Form reads the liaison's form: this week, their homerooms, the concern list, the
// classmates they may name and their own earlier reports.
func (s *Service) Form(ctx context.Context, a scope.Actor, school uuid.UUID) (Form, error) {
	out := Form{WeekStart: WeekStart(s.now()).Format(time.DateOnly), Concerns: Concerns}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, name FROM org_units WHERE school_id = $1 AND id = ANY (app_liaison_homerooms()) ORDER BY position, name`, school)
		if err != nil {
			return database.MapError(err)
		}
		if out.Homerooms, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Homeroom]); err != nil {
			return database.MapError(err)
		}
		rows, err = tx.Query(ctx, `SELECT id, name, homeroom_id FROM liaison_classmates($1)`, school)
		if err != nil {
			return database.MapError(err)
		}
		if out.Classmates, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Classmate]); err != nil {
			return database.MapError(err)
		}
		if out.Reports, err = reports(ctx, tx, school, `b.liaison_id = $2`, a.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "barometer.form", ObjectType: "barometer_report"})
	})
	if out.Homerooms == nil {
		out.Homerooms = []Homeroom{}
	}
	if out.Classmates == nil {
		out.Classmates = []Classmate{}
	}
	return out, err
}

// SubmitInput is a liaison's weekly report. StudentID and Note name a classmate who
// worries the liaison (both optional; a note needs a student).
type SubmitInput struct {
	HomeroomID *uuid.UUID `json:"homeroom_id"`
	Mood       int        `json:"mood"`
	Concerns   []string   `json:"concerns"`
	StudentID  *uuid.UUID `json:"student_id"`
	Note       string     `json:"note"`
}

// Submit records this week's report for the liaison's homeroom. A named classmate lands
// in the counselors' intake queue (with a task in their inbox); nobody else learns of it.
func (s *Service) Submit(ctx context.Context, a scope.Actor, school uuid.UUID, in SubmitInput) (Report, error) {
	var f []fault.FieldError
	if in.Mood < 1 || in.Mood > 5 {
		f = append(f, fault.Field("mood", "invalid_value", "mood is 1 (very low) to 5 (very good)"))
	}
	if len(in.Concerns) > len(Concerns) {
		f = append(f, fault.Field("concerns", "invalid_value", "too many concerns"))
	}
	for _, c := range in.Concerns {
		if !slices.Contains(Concerns, c) {
			f = append(f, fault.Field("concerns", "invalid_value", "concerns come from the list: "+strings.Join(Concerns, ", ")))
			break
		}
	}
	slices.Sort(in.Concerns)
	in.Concerns = slices.Compact(in.Concerns)
	if in.Concerns == nil {
		in.Concerns = []string{}
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 1000 {
		f = append(f, fault.Field("note", "too_long", "at most 1,000 characters"))
	}
	if in.Note != "" && in.StudentID == nil {
		f = append(f, fault.Field("student_id", "required", "name the classmate the note is about"))
	}
	if len(f) > 0 {
		return Report{}, fault.Validation(f...)
	}
	week := WeekStart(s.now()).Format(time.DateOnly)
	var out Report
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var homerooms []uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT app_liaison_homerooms()`).Scan(&homerooms); err != nil {
			return database.MapError(err)
		}
		var homeroom uuid.UUID
		switch {
		case in.HomeroomID != nil && slices.Contains(homerooms, *in.HomeroomID):
			homeroom = *in.HomeroomID
		case in.HomeroomID == nil && len(homerooms) == 1:
			homeroom = homerooms[0]
		default:
			return fault.Validation(fault.Field("homeroom_id", "invalid_value", "choose the homeroom you are the liaison of"))
		}
		if in.StudentID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM liaison_classmates($1) WHERE id = $2 AND homeroom_id = $3)`,
				school, *in.StudentID, homeroom).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				return fault.Validation(fault.Field("student_id", "invalid_value", "no such classmate in your homeroom"))
			}
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO barometer_reports (school_id, id, district_id, homeroom_id, week_start, liaison_id, mood, concerns, named)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, school, id, a.DistrictID, homeroom, week, a.UserID, in.Mood, in.Concerns, in.StudentID != nil); err != nil {
			if fault.KindOf(database.MapError(err)) == fault.Conflict {
				return fault.New(fault.Conflict, "this week's barometer of the homeroom has already been submitted")
			}
			return database.MapError(err)
		}
		if in.StudentID != nil {
			if err := s.nameStudent(ctx, tx, a, school, homeroom, *in.StudentID, in.Concerns, in.Note); err != nil {
				return err
			}
		}
		list, err := reports(ctx, tx, school, `b.id = $2`, id)
		if err != nil || len(list) == 0 {
			return fault.Wrap(err, "read back report")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "barometer.submit", ObjectType: "barometer_report", ObjectID: id.String()})
	})
	return out, err
}

// nameStudent raises a concern with source "barometer" in the intake queue and tells the
// school's counselors — only them — that it came from the weekly barometer of the
// homeroom (the inbox item names the homeroom, never the student). The observation (what
// the liaison wrote, with the concerns ticked) is encrypted like every concern.
func (s *Service) nameStudent(ctx context.Context, tx pgx.Tx, a scope.Actor, school, homeroom, student uuid.UUID, concerns []string, note string) error {
	var homeroomName string
	if err := tx.QueryRow(ctx, `SELECT name FROM org_units WHERE school_id = $1 AND id = $2`, school, homeroom).Scan(&homeroomName); err != nil {
		return database.MapError(err)
	}
	text := "[barometer] " + strings.Join(concerns, ", ")
	if note != "" {
		text += "\n" + note
	}
	obs, err := s.Cipher.Encrypt(ctx, tx, school, "concern.observation", []byte(text))
	if err != nil {
		return err
	}
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.Exec(ctx, `INSERT INTO concerns (school_id, id, student_id, raised_by, urgency, observation, source) VALUES ($1, $2, $3, $4, 'soon', $5, 'barometer')`,
		school, id, student, a.UserID, obs); err != nil {
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
		if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c, Kind: "concern_raised", Task: true,
			Subject: "concern", SubjectID: &id, Params: map[string]string{"urgency": "soon", "source": "barometer", "homeroom": homeroomName}}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: "barometer.name_student", ObjectType: "concern", ObjectID: id.String()})
}

// List is the school's barometer for counselors and leaders: every homeroom's reports of
// the last weeks, without names.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, weeks int) ([]Report, error) {
	if weeks <= 0 || weeks > 52 {
		weeks = 8
	}
	since := WeekStart(s.now()).AddDate(0, 0, -7*(weeks-1)).Format(time.DateOnly)
	var out []Report
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = reports(ctx, tx, school, `b.week_start >= $2`, since); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "barometer.list", ObjectType: "barometer_report"})
	})
	return out, err
}

// RemindMissing reminds each liaison whose homeroom has no report for last week, once
// per homeroom and week (the inbox dedupe key makes a repeated run post nothing twice).
// It returns how many reminders it posted.
func (s *Service) RemindMissing(ctx context.Context) (int, error) {
	week := WeekStart(s.now()).AddDate(0, 0, -7)
	total := 0
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		total = 0
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, user_id, homeroom_id FROM barometer_missing($1)`, week.Format(time.DateOnly))
		if err != nil {
			return database.MapError(err)
		}
		type missing struct{ district, school, user, homeroom uuid.UUID }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (missing, error) {
			var x missing
			return x, r.Scan(&x.district, &x.school, &x.user, &x.homeroom)
		})
		if err != nil {
			return database.MapError(err)
		}
		var posted audit.PerSchool
		for i, x := range list {
			a := scope.Actor{DistrictID: x.district, SchoolID: x.school, Kind: scope.School, Username: "system:barometer_reminder"}
			if i == 0 || x.school != list[i-1].school {
				if err := database.SetScope(ctx, tx, a); err != nil {
					return fault.Wrap(err, "scope")
				}
			}
			homeroom := x.homeroom
			ok, err := inbox.Post(ctx, tx, inbox.Notice{School: x.school, User: x.user, Kind: KindMissing, Task: true, Subject: "homeroom", SubjectID: &homeroom,
				Params: map[string]string{"week_start": week.Format(time.DateOnly)}, DedupeKey: "barometer:" + homeroom.String() + ":" + week.Format(time.DateOnly)})
			if err != nil {
				return err
			}
			if ok {
				total++
				posted.Add(a, 1)
			}
		}
		return posted.Record(ctx, tx, func(_ scope.Actor, n int) audit.Entry {
			return audit.Entry{Action: "barometer.remind", ObjectType: "barometer_report", Reason: fmt.Sprintf("%d reminders posted", n)}
		})
	})
	return total, err
}
