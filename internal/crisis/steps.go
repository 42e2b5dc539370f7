package crisis

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// StepInput records one step.
type StepInput struct {
	Kind       string     `json:"kind"`
	OccurredAt *time.Time `json:"occurred_at"`
	Level      string     `json:"level"`    // risk_assessed
	Method     string     `json:"method"`   // risk_assessed
	Guardian   string     `json:"guardian"` // guardian_notified: who (relation, name)
	Channel    string     `json:"channel"`  // guardian_notified: how
	Response   string     `json:"response"` // guardian_notified: their response
	DueOn      string     `json:"due_on"`   // follow_up_scheduled
	RefStep    *uuid.UUID `json:"ref_step"` // follow_up_done: the follow-up; addendum: the corrected step
	// DistrictNote marks a district follow-up request done (follow_up_done).
	DistrictNote *uuid.UUID `json:"district_note"`
	Outcome      string     `json:"outcome"` // closed
	Note         string     `json:"note"`
}

// state is what the steps so far allow.
type state struct {
	open, assessed, safety, guardian bool
	pendingFollowUps                 []uuid.UUID
	doneFollowUps                    []uuid.UUID
	steps                            map[uuid.UUID]string
}

func (s *Service) state(ctx context.Context, tx pgx.Tx, school, crisis uuid.UUID) (state, error) {
	st := state{steps: map[uuid.UUID]string{}}
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM crises WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, crisis).Scan(&status); err != nil {
		return st, database.MapError(err)
	}
	st.open = status == "open"
	rows, err := tx.Query(ctx, `SELECT id, kind, ref_step FROM crisis_steps WHERE school_id = $1 AND crisis_id = $2 ORDER BY occurred_at, id`, school, crisis)
	if err != nil {
		return st, database.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var kind string
		var ref *uuid.UUID
		if err := rows.Scan(&id, &kind, &ref); err != nil {
			return st, database.MapError(err)
		}
		st.steps[id] = kind
		switch kind {
		case "risk_assessed":
			st.assessed = true
		case "safety_actions":
			st.safety = true
		case "guardian_notified":
			st.guardian = true
		case "follow_up_scheduled":
			st.pendingFollowUps = append(st.pendingFollowUps, id)
		case "follow_up_done":
			if ref != nil {
				st.doneFollowUps = append(st.doneFollowUps, *ref)
			}
		}
	}
	st.pendingFollowUps = slices.DeleteFunc(st.pendingFollowUps, func(id uuid.UUID) bool { return slices.Contains(st.doneFollowUps, id) })
	return st, database.MapError(rows.Err())
}

// Transition rules, checked against the steps so far. A refused transition is a
// Conflict naming what is missing.
func (st state) allows(kind string) error {
	if !st.open && kind != "addendum" {
		return fault.New(fault.Conflict, "the crisis is closed: only addenda may be recorded")
	}
	need := func(ok bool, what string) error {
		if !ok {
			return fault.New(fault.Conflict, "%s", what)
		}
		return nil
	}
	switch kind {
	case "risk_assessed", "addendum":
		return nil
	case "safety_actions", "guardian_notified", "follow_up_scheduled", "follow_up_done":
		return need(st.assessed, "assess the risk first")
	case "closed":
		var missing []string
		if !st.assessed {
			missing = append(missing, "risk assessment")
		}
		if !st.safety {
			missing = append(missing, "immediate safety actions")
		}
		if !st.guardian {
			missing = append(missing, "guardian notification")
		}
		if len(st.pendingFollowUps) > 0 {
			missing = append(missing, "the scheduled follow-ups")
		}
		if len(missing) > 0 {
			return fault.New(fault.Conflict, "the crisis cannot be closed before %s", strings.Join(missing, ", "))
		}
		return nil
	}
	return fault.Validation(fault.Field("kind", "invalid_value", "one of "+strings.Join(StepKinds, ", ")))
}

// RecordStep records one step of an open crisis (or an addendum of any crisis). Steps
// follow the workflow: risk assessed → safety actions / guardian notified / follow-ups
// → closed; a step out of order is refused with 409 and nothing is written. A guardian
// notification is also entered in the case file's disclosure log with the basis
// "imminent danger".
func (s *Service) RecordStep(ctx context.Context, a scope.Actor, school, id uuid.UUID, in StepInput) (Crisis, error) {
	var f []fault.FieldError
	if !slices.Contains(StepKinds, in.Kind) {
		f = append(f, fault.Field("kind", "invalid_value", "one of "+strings.Join(StepKinds, ", ")))
	}
	trimmed("note", &in.Note, 5000, in.Kind == "safety_actions" || in.Kind == "addendum", &f)
	trimmed("response", &in.Response, 2000, false, &f)
	trimmed("guardian", &in.Guardian, 100, in.Kind == "guardian_notified", &f)
	row := stepRow{kind: in.Kind}
	switch in.Kind {
	case "risk_assessed":
		if !slices.Contains(Levels, in.Level) {
			f = append(f, fault.Field("level", "invalid_value", "one of "+strings.Join(Levels, ", ")))
		}
		if !slices.Contains(Methods, in.Method) {
			f = append(f, fault.Field("method", "invalid_value", "one of "+strings.Join(Methods, ", ")))
		}
		row.level, row.method = &in.Level, &in.Method
	case "guardian_notified":
		if !slices.Contains(Channels, in.Channel) {
			f = append(f, fault.Field("channel", "invalid_value", "one of "+strings.Join(Channels, ", ")))
		}
		row.guardian, row.channel = &in.Guardian, &in.Channel
	case "follow_up_scheduled":
		d, err := time.ParseInLocation(time.DateOnly, in.DueOn, china)
		if err != nil || d.Before(today(s.now()).AddDate(0, 0, -1)) {
			f = append(f, fault.Field("due_on", "invalid_value", "a date YYYY-MM-DD, not in the past"))
		}
		row.dueOn = &d
	case "follow_up_done":
		if (in.RefStep == nil) == (in.DistrictNote == nil) {
			f = append(f, fault.Field("ref_step", "required", "the follow-up (ref_step) or the district's request (district_note) that was done"))
		}
		row.refStep = in.RefStep
	case "addendum":
		if in.RefStep == nil {
			f = append(f, fault.Field("ref_step", "required", "the step this addendum corrects"))
		}
		row.refStep = in.RefStep
	case "closed":
		if !slices.Contains(Outcomes, in.Outcome) {
			f = append(f, fault.Field("outcome", "invalid_value", "one of "+strings.Join(Outcomes, ", ")))
		}
	}
	if len(f) > 0 {
		return Crisis{}, fault.Validation(f...)
	}
	var out Crisis
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		set, err := LoadSettings(ctx, tx, a.DistrictID)
		if err != nil {
			return err
		}
		st, err := s.state(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if err := st.allows(in.Kind); err != nil {
			return err
		}
		c, err := s.crisis(ctx, tx, school, id, false)
		if err != nil {
			return err
		}
		if in.Kind == "addendum" {
			row.at = s.now()
		} else if row.at, err = s.when(in.OccurredAt, set, "occurred_at"); err != nil {
			return err
		}
		if row.at.Before(c.OpenedAt) {
			return fault.Validation(fault.Field("occurred_at", "out_of_range", "before the crisis was reported"))
		}
		switch in.Kind {
		case "follow_up_done":
			if in.RefStep != nil && st.steps[*in.RefStep] != "follow_up_scheduled" {
				return fault.Validation(fault.Field("ref_step", "invalid_value", "not a follow-up of this crisis"))
			}
			if in.RefStep != nil && slices.Contains(st.doneFollowUps, *in.RefStep) {
				return fault.New(fault.Conflict, "this follow-up is already done")
			}
			if in.DistrictNote != nil {
				tag, err := tx.Exec(ctx, `UPDATE crisis_district_notes SET done_at = now(), done_by = $4 WHERE school_id = $1 AND crisis_id = $2 AND id = $3
					AND kind = 'follow_up' AND done_at IS NULL`, school, id, *in.DistrictNote, a.UserID)
				if err != nil {
					return database.MapError(err)
				}
				if tag.RowsAffected() == 0 {
					return fault.Validation(fault.Field("district_note", "invalid_value", "no open follow-up request of the district on this crisis"))
				}
			}
		case "addendum":
			if _, ok := st.steps[*in.RefStep]; !ok {
				return fault.Validation(fault.Field("ref_step", "invalid_value", "not a step of this crisis"))
			}
		}
		if err := s.insertStep(ctx, tx, a, school, c.CaseFileID, id, row, details{Note: in.Note, Response: in.Response, Outcome: in.Outcome}); err != nil {
			return err
		}
		switch in.Kind {
		case "risk_assessed":
			d := set.Deadlines[in.Level]
			if _, err := tx.Exec(ctx, `UPDATE crises SET level = $3, assessed_at = coalesce(assessed_at, $4),
				guardian_due_at = least(guardian_due_at, opened_at + make_interval(mins => $5)) WHERE school_id = $1 AND id = $2`,
				school, id, in.Level, row.at, d.GuardianMinutes); err != nil {
				return database.MapError(err)
			}
		case "guardian_notified":
			if _, err := tx.Exec(ctx, `UPDATE crises SET guardian_notified_at = coalesce(guardian_notified_at, $3) WHERE school_id = $1 AND id = $2`,
				school, id, row.at); err != nil {
				return database.MapError(err)
			}
			if _, err := s.Disclosures.RecordInTx(ctx, tx, a, school, c.CaseFileID, disclosure.Input{RecipientKind: "guardian", RecipientName: in.Guardian,
				LegalBasis: disclosure.BasisImminentDanger, Justification: "危机干预：通知监护人学生的安全风险（crisis: guardian notified of a safety risk）",
				Items: []disclosure.Item{{Type: "summary_text"}}, DisclosedAt: row.at}); err != nil {
				return err
			}
		case "closed":
			if _, err := tx.Exec(ctx, `UPDATE crises SET status = 'closed', closed_at = $3, outcome = $4 WHERE school_id = $1 AND id = $2`,
				school, id, row.at, in.Outcome); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = s.crisis(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crises.step", ObjectType: "crisis", ObjectID: id.String(), Reason: in.Kind})
	})
	return out, err
}

var china = time.FixedZone("CST", 8*3600)

// today is the date of t in China (midnight, China time). A due date may be yesterday's
// (a client near midnight); older dates are refused.
func today(t time.Time) time.Time {
	y, m, d := t.In(china).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, china)
}

func (s *Service) overdue(c *Crisis) {
	now := s.now()
	c.Overdue = []string{}
	if c.Status != "open" {
		return
	}
	if c.AssessedAt == nil && !now.Before(c.AckDueAt) {
		c.Overdue = append(c.Overdue, "risk_assessment")
	}
	if c.GuardianNotifiedAt == nil && !now.Before(c.GuardianDueAt) {
		c.Overdue = append(c.Overdue, "guardian_notification")
	}
}

const crisisColumns = `c.id, c.case_file_id, c.student_id, st.name, st.student_number, h.name, c.source, c.source_id, c.level, c.status, c.opened_at,
	c.ack_due_at, c.guardian_due_at, c.assessed_at, c.guardian_notified_at, c.escalation, c.closed_at, c.outcome`

func scanCrisis(r pgx.Row) (Crisis, error) {
	var c Crisis
	err := r.Scan(&c.ID, &c.CaseFileID, &c.StudentID, &c.StudentName, &c.StudentNumber, &c.HomeroomName, &c.Source, &c.SourceID, &c.Level, &c.Status,
		&c.OpenedAt, &c.AckDueAt, &c.GuardianDueAt, &c.AssessedAt, &c.GuardianNotifiedAt, &c.Escalation, &c.ClosedAt, &c.Outcome)
	return c, err
}

const crisisFrom = ` FROM crises c JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
	JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id`

func (s *Service) crisis(ctx context.Context, tx pgx.Tx, school, id uuid.UUID, withSteps bool) (Crisis, error) {
	c, err := scanCrisis(tx.QueryRow(ctx, `SELECT `+crisisColumns+crisisFrom+` WHERE c.school_id = $1 AND c.id = $2`, school, id))
	if err != nil {
		return c, database.MapError(err)
	}
	s.overdue(&c)
	if !withSteps {
		return c, nil
	}
	rows, err := tx.Query(ctx, `SELECT s.id, s.kind, s.actor_id, coalesce(u.display_name, ''), s.occurred_at, s.recorded_at, s.level, s.method, s.guardian, s.channel,
		to_char(s.due_on, 'YYYY-MM-DD'), s.ref_step, s.referral_id, s.details
		FROM crisis_steps s LEFT JOIN users u ON u.id = s.actor_id
		WHERE s.school_id = $1 AND s.crisis_id = $2 ORDER BY s.occurred_at, s.recorded_at, s.id`, school, id)
	if err != nil {
		return c, database.MapError(err)
	}
	type sealedStep struct {
		Step
		sealed []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealedStep, error) {
		var x sealedStep
		err := r.Scan(&x.ID, &x.Kind, &x.ActorID, &x.ActorName, &x.OccurredAt, &x.RecordedAt, &x.Level, &x.Method, &x.Guardian, &x.Channel,
			&x.DueOn, &x.RefStep, &x.ReferralID, &x.sealed)
		return x, err
	})
	if err != nil {
		return c, database.MapError(err)
	}
	c.Steps = make([]Step, 0, len(list))
	for _, x := range list {
		if x.sealed != nil {
			raw, err := s.Cipher.Decrypt(ctx, tx, school, purposeDetails, x.sealed)
			if err != nil {
				return c, err
			}
			var d details
			if err := json.Unmarshal(raw, &d); err != nil {
				return c, err
			}
			x.Note, x.Response, x.Outcome = d.Note, d.Response, d.Outcome
		}
		c.Steps = append(c.Steps, x.Step)
	}
	rows, err = tx.Query(ctx, `SELECT id, kind, body, to_char(due_on, 'YYYY-MM-DD'), created_at, done_at FROM crisis_district_notes
		WHERE school_id = $1 AND crisis_id = $2 ORDER BY created_at`, school, id)
	if err != nil {
		return c, database.MapError(err)
	}
	c.DistrictNotes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DistrictNote, error) {
		var n DistrictNote
		return n, r.Scan(&n.ID, &n.Kind, &n.Body, &n.DueOn, &n.CreatedAt, &n.DoneAt)
	})
	return c, database.MapError(err)
}

// Get returns a crisis with its timeline (audited: the timeline is confidential).
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Crisis, error) {
	var out Crisis
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		if out, err = s.crisis(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crises.read", ObjectType: "crisis", ObjectID: id.String()})
	})
	return out, err
}

// List lists the school's crises: open ones (status "open", the default), closed or all.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, status string) ([]Crisis, error) {
	if status == "" {
		status = "open"
	}
	if status != "open" && status != "closed" && status != "all" {
		return nil, fault.Validation(fault.Field("status", "invalid_value", "open, closed or all"))
	}
	var out []Crisis
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+crisisColumns+crisisFrom+` WHERE c.school_id = $1 AND ($2 = 'all' OR c.status = $2)
			ORDER BY c.status DESC, c.opened_at DESC LIMIT 500`, school, status)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Crisis, error) { return scanCrisis(r) })
		if err != nil {
			return database.MapError(err)
		}
		for i := range out {
			s.overdue(&out[i])
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crises.list", ObjectType: "school", ObjectID: school.String()})
	})
	return out, err
}
