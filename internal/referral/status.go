package referral

import (
	"context"
	"errors"
	"strconv"
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

// order ranks the statuses of the closed loop.
var order = map[string]int{"sent": 0, "acknowledged": 1, "appointment": 2, "seen": 3, "feedback": 4, "closed": 5}

// StatusInput moves a referral along the loop (recorded by the counselor, e.g. after a
// phone call with the institution).
type StatusInput struct {
	Status        string     `json:"status"`
	AppointmentAt *time.Time `json:"appointment_at"`
	Feedback      string     `json:"feedback"`
	Reason        string     `json:"reason"`
}

// transition checks a move from one status to another: forward only, feedback needs its
// text, an appointment its time, declining only before the student was seen.
func transition(from string, in *StatusInput) error {
	if from == "closed" || from == "declined" {
		return fault.New(fault.Conflict, "the referral is %s", from)
	}
	if in.Status == "declined" {
		if order[from] >= order["seen"] {
			return fault.New(fault.Conflict, "a referral cannot be declined after the student was seen")
		}
		return nil
	}
	to, ok := order[in.Status]
	if !ok {
		return fault.Validation(fault.Field("status", "invalid_value", "one of "+strings.Join(Statuses, ", ")))
	}
	if to <= order[from] {
		return fault.New(fault.Conflict, "a referral moves forward only: it is %s", from)
	}
	if in.Status == "closed" && order[from] < order["seen"] {
		return fault.New(fault.Conflict, "close a referral once the student was seen (or record that it was declined)")
	}
	return nil
}

func (in *StatusInput) validate() error {
	var f []fault.FieldError
	in.Feedback = strings.TrimSpace(in.Feedback)
	in.Reason = strings.TrimSpace(in.Reason)
	switch in.Status {
	case "appointment":
		if in.AppointmentAt == nil {
			f = append(f, fault.Field("appointment_at", "required", "the appointment time"))
		}
	case "feedback":
		if in.Feedback == "" {
			f = append(f, fault.Field("feedback", "required", "the institution's feedback"))
		}
	case "declined":
		if in.Reason == "" {
			f = append(f, fault.Field("reason", "required", "why the referral was declined"))
		}
	}
	if utf8.RuneCountInString(in.Feedback) > 2000 {
		f = append(f, fault.Field("feedback", "too_long", "at most 2,000 characters"))
	}
	if utf8.RuneCountInString(in.Reason) > 500 {
		f = append(f, fault.Field("reason", "too_long", "at most 500 characters"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// apply writes a status move in the caller's transaction.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, school, id uuid.UUID, in StatusInput) error {
	now := s.now()
	var feedback []byte
	if in.Feedback != "" {
		var err error
		// The school's key, not the file's: the institution's link cannot see the case
		// file. The row goes with the case file all the same.
		if feedback, err = s.Cipher.Encrypt(ctx, tx, school, purposeFeedback, []byte(in.Feedback)); err != nil {
			return err
		}
	}
	var reason *string
	if in.Reason != "" {
		reason = &in.Reason
	}
	_, err := tx.Exec(ctx, `UPDATE referrals SET status = $3,
		acknowledged_at = CASE WHEN $3 IN ('acknowledged', 'appointment', 'seen', 'feedback') THEN coalesce(acknowledged_at, $4) ELSE acknowledged_at END,
		appointment_at = coalesce($5, appointment_at),
		seen_at = CASE WHEN $3 IN ('seen', 'feedback') THEN coalesce(seen_at, $4) ELSE seen_at END,
		feedback = coalesce($6, feedback), feedback_at = CASE WHEN $6::bytea IS NOT NULL THEN $4 ELSE feedback_at END,
		declined_reason = coalesce($7, declined_reason),
		closed_at = CASE WHEN $3 IN ('closed', 'declined') THEN $4 ELSE closed_at END
		WHERE school_id = $1 AND id = $2`, school, id, in.Status, now, in.AppointmentAt, feedback, reason)
	return database.MapError(err)
}

// SetStatus records a move of the referral (counselor).
func (s *Service) SetStatus(ctx context.Context, a scope.Actor, school, id uuid.UUID, in StatusInput) (Referral, error) {
	if err := in.validate(); err != nil {
		return Referral{}, err
	}
	var out Referral
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var from string
		var caseFile uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT status, case_file_id FROM referrals WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, id).Scan(&from, &caseFile); err != nil {
			return database.MapError(err)
		}
		if err := transition(from, &in); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, school, id, in); err != nil {
			return err
		}
		if in.Status == "feedback" || in.Status == "closed" || in.Status == "declined" {
			if err := closeReminders(ctx, tx, school, id); err != nil {
				return err
			}
		}
		var err error
		if out, err = s.referral(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.status", ObjectType: "referral", ObjectID: id.String(), Reason: from + " → " + in.Status})
	})
	return out, err
}

func closeReminders(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) error {
	_, err := tx.Exec(ctx, `SELECT close_referral_reminders($1, $2)`, school, id)
	return database.MapError(err)
}

// ReturnPlanInput is the return-to-school plan after treatment.
type ReturnPlanInput struct {
	Plan       string `json:"plan"`
	ReturnDate string `json:"return_date"`
}

// SetReturnPlan records the return-to-school plan (返校复学计划) of a referral.
func (s *Service) SetReturnPlan(ctx context.Context, a scope.Actor, school, id uuid.UUID, in ReturnPlanInput) (Referral, error) {
	var f []fault.FieldError
	in.Plan = strings.TrimSpace(in.Plan)
	if n := utf8.RuneCountInString(in.Plan); n == 0 || n > 5000 {
		f = append(f, fault.Field("plan", "required", "the plan, 1 to 5,000 characters"))
	}
	d, err := time.ParseInLocation(time.DateOnly, in.ReturnDate, china)
	if err != nil {
		f = append(f, fault.Field("return_date", "invalid_value", "a date YYYY-MM-DD"))
	}
	if len(f) > 0 {
		return Referral{}, fault.Validation(f...)
	}
	var out Referral
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var caseFile uuid.UUID
		var status string
		if err := tx.QueryRow(ctx, `SELECT case_file_id, status FROM referrals WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, id).Scan(&caseFile, &status); err != nil {
			return database.MapError(err)
		}
		if status == "declined" {
			return fault.New(fault.Conflict, "the referral was declined")
		}
		sealed, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, purposeReturn, []byte(in.Plan))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE referrals SET return_plan = $3, return_date = $4 WHERE school_id = $1 AND id = $2`, school, id, sealed, d); err != nil {
			return database.MapError(err)
		}
		if out, err = s.referral(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.return_plan", ObjectType: "referral", ObjectID: id.String()})
	})
	return out, err
}

// ReissueLink gives the institution a fresh one-time link (the old one stops working),
// e.g. to ask for overdue feedback.
func (s *Service) ReissueLink(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Referral, error) {
	var out Referral
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM referrals WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, id).Scan(&status); err != nil {
			return database.MapError(err)
		}
		if status == "closed" || status == "declined" {
			return fault.New(fault.Conflict, "the referral is %s", status)
		}
		token, hash := newLink()
		if _, err := tx.Exec(ctx, `UPDATE referrals SET link_hash = $3, link_expires_at = $4, link_used_at = NULL WHERE school_id = $1 AND id = $2`,
			school, id, hash, s.now().Add(LinkTTL)); err != nil {
			return database.MapError(err)
		}
		var err error
		if out, err = s.referral(ctx, tx, school, id); err != nil {
			return err
		}
		out.Link = "/r/" + token
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.link", ObjectType: "referral", ObjectID: id.String()})
	})
	return out, err
}

// LinkView is what the institution sees behind its link: no student data.
type LinkView struct {
	Reference   string    `json:"reference"`
	School      string    `json:"school"`
	Institution string    `json:"institution"`
	SentAt      time.Time `json:"sent_at"`
	Status      string    `json:"status"`
}

// LinkInput is the institution's answer: receipt, an appointment, whether the student
// was seen, a short feedback — or a decline.
type LinkInput struct {
	Received      bool       `json:"received"`
	AppointmentAt *time.Time `json:"appointment_at"`
	Seen          bool       `json:"seen"`
	Feedback      string     `json:"feedback"`
	DeclineReason string     `json:"decline_reason"`
}

var (
	errUnknownLink = fault.New(fault.NotFound, "this link is not known")
	errUsedLink    = fault.New(fault.Conflict, "this link has already been used")
	errExpiredLink = fault.New(fault.Gone, "this link has expired")
)

// OpenLink shows the institution what the link is about.
func (s *Service) OpenLink(ctx context.Context, token string) (LinkView, error) {
	if len(token) < 20 || len(token) > 64 {
		return LinkView{}, errUnknownLink
	}
	var out LinkView
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		var id uuid.UUID
		var expires *time.Time
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT referral_id, school_name, institution_name, sent_at, status, link_expires_at, link_used_at FROM referral_link_lookup($1)`,
			linkHash(token)).Scan(&id, &out.School, &out.Institution, &out.SentAt, &out.Status, &expires, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnknownLink
		}
		if err != nil {
			return database.MapError(err)
		}
		switch {
		case used != nil:
			return errUsedLink
		case expires == nil || !s.now().Before(*expires) || out.Status == "closed" || out.Status == "declined":
			return errExpiredLink
		}
		out.Reference = strings.ToUpper(id.String()[:8])
		return nil
	})
	return out, err
}

// AnswerLink records the institution's answer through its one-time link. Exactly one of
// concurrent answers wins; the link is then used up.
func (s *Service) AnswerLink(ctx context.Context, token string, in LinkInput) (LinkView, error) {
	if len(token) < 20 || len(token) > 64 {
		return LinkView{}, errUnknownLink
	}
	in.Feedback = strings.TrimSpace(in.Feedback)
	in.DeclineReason = strings.TrimSpace(in.DeclineReason)
	var f []fault.FieldError
	if !in.Received && in.DeclineReason == "" {
		f = append(f, fault.Field("received", "required", "confirm receipt, or decline with a reason"))
	}
	if in.Received && in.DeclineReason != "" {
		f = append(f, fault.Field("decline_reason", "not_allowed", "either confirm receipt or decline"))
	}
	if utf8.RuneCountInString(in.Feedback) > 1000 {
		f = append(f, fault.Field("feedback", "too_long", "at most 1,000 characters"))
	}
	if utf8.RuneCountInString(in.DeclineReason) > 500 {
		f = append(f, fault.Field("decline_reason", "too_long", "at most 500 characters"))
	}
	if in.AppointmentAt != nil && in.AppointmentAt.Before(s.now().AddDate(0, 0, -60)) {
		f = append(f, fault.Field("appointment_at", "out_of_range", "a recent or future time"))
	}
	if len(f) > 0 {
		return LinkView{}, fault.Validation(f...)
	}
	var out LinkView
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		var id, school, district uuid.UUID
		var state string
		err := tx.QueryRow(ctx, `SELECT referral_id, school_id, district_id, state FROM referral_link_claim($1, $2)`, linkHash(token), s.now()).
			Scan(&id, &school, &district, &state)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnknownLink
		}
		if err != nil {
			return database.MapError(err)
		}
		switch state {
		case "used":
			return errUsedLink
		case "expired":
			return errExpiredLink
		}
		a := scope.Actor{DistrictID: district, SchoolID: school, Kind: scope.School, Username: "institution:link"}
		if err := database.SetScope(ctx, tx, a); err != nil {
			return fault.Wrap(err, "scope")
		}
		var from string
		var caseFile uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT status, case_file_id FROM referrals WHERE school_id = $1 AND id = $2`, school, id).Scan(&from, &caseFile); err != nil {
			return database.MapError(err)
		}
		// The furthest status the answer reaches, never going back.
		target := StatusInput{Status: "acknowledged", AppointmentAt: in.AppointmentAt, Feedback: in.Feedback}
		switch {
		case in.DeclineReason != "":
			target = StatusInput{Status: "declined", Reason: in.DeclineReason}
		case in.Feedback != "":
			target.Status = "feedback"
		case in.Seen:
			target.Status = "seen"
		case in.AppointmentAt != nil:
			target.Status = "appointment"
		}
		if target.Status != "declined" && order[target.Status] <= order[from] {
			target.Status = from // nothing new beyond what is known: keep the status, record the details
		} else if err := transition(from, &target); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, school, id, target); err != nil {
			return err
		}
		if target.Status == "feedback" || target.Status == "declined" {
			if err := closeReminders(ctx, tx, school, id); err != nil {
				return err
			}
		}
		var sentBy uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT sent_by FROM referrals WHERE school_id = $1 AND id = $2`, school, id).Scan(&sentBy); err != nil {
			return database.MapError(err)
		}
		cf := caseFile
		if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: sentBy, Kind: "referral_answered", CaseFileID: &cf,
			Subject: "referral", SubjectID: &id, Params: map[string]string{"status": target.Status}}); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT sc.name, i.name, r.sent_at, r.status FROM referrals r JOIN schools sc ON sc.id = r.school_id
			JOIN institutions i ON i.district_id = r.district_id AND i.id = r.institution_id WHERE r.school_id = $1 AND r.id = $2`, school, id).
			Scan(&out.School, &out.Institution, &out.SentAt, &out.Status); err != nil {
			return database.MapError(err)
		}
		out.Reference = strings.ToUpper(id.String()[:8])
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.answer", ObjectType: "referral", ObjectID: id.String(), Reason: from + " → " + target.Status})
	})
	return out, err
}

// RemindFeedbackOverdue posts, once per referral and due date, a task to the counselor
// who sent each referral whose feedback is overdue. It returns how many it posted.
func (s *Service) RemindFeedbackOverdue(ctx context.Context) (int, error) {
	type due struct {
		district, school, referral, caseFile, sentBy uuid.UUID
		dueAt                                        time.Time
	}
	posted := 0
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		posted = 0
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, referral_id, case_file_id, feedback_due_at, sent_by FROM referrals_feedback_overdue($1)`, s.now())
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var x due
			return x, r.Scan(&x.district, &x.school, &x.referral, &x.caseFile, &x.dueAt, &x.sentBy)
		})
		if err != nil {
			return database.MapError(err)
		}
		var per audit.PerSchool
		for _, x := range list {
			a := scope.Actor{DistrictID: x.district, SchoolID: x.school, Kind: scope.School, Username: "system:referral_feedback"}
			if err := database.SetScope(ctx, tx, a); err != nil {
				return fault.Wrap(err, "scope")
			}
			ref, cf, dueAt := x.referral, x.caseFile, x.dueAt
			ok, err := inbox.Post(ctx, tx, inbox.Notice{School: x.school, User: x.sentBy, Kind: "referral_feedback_overdue", Task: true, CaseFileID: &cf,
				Subject: "referral", SubjectID: &ref, DueAt: &dueAt, DedupeKey: "referral_feedback:" + ref.String() + ":" + dueAt.UTC().Format(time.RFC3339)})
			if err != nil {
				return err
			}
			if ok {
				posted++
				per.Add(a, 1)
			}
		}
		return per.Record(ctx, tx, func(a scope.Actor, n int) audit.Entry {
			return audit.Entry{Action: "referrals.remind", ObjectType: "school", ObjectID: a.SchoolID.String(), Reason: strconv.Itoa(n) + " feedback reminders"}
		})
	})
	return posted, err
}
