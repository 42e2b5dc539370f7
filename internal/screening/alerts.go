package screening

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/escalation"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// TypeEscalate is the periodic task that escalates unacknowledged alerts.
const TypeEscalate = "screening:escalate"

// Alert is an alert as the school's counselors see it.
type Alert struct {
	ID             uuid.UUID  `json:"id"`
	StudentID      uuid.UUID  `json:"student_id"`
	StudentName    string     `json:"student_name"`
	StudentNumber  string     `json:"student_number"`
	HomeroomName   string     `json:"homeroom_name"`
	AssessmentID   uuid.UUID  `json:"assessment_id"`
	InstrumentCode string     `json:"instrument_code"`
	Reason         string     `json:"reason"`
	Band           string     `json:"band"`
	SuggestedTier  string     `json:"suggested_tier"`
	CreatedAt      time.Time  `json:"created_at"`
	DueAt          time.Time  `json:"due_at"`
	Overdue        bool       `json:"overdue"`
	Escalation     string     `json:"escalation"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy *uuid.UUID `json:"acknowledged_by"`
	Outcome        *string    `json:"outcome"`
	CaseFileID     *uuid.UUID `json:"case_file_id"`
}

// Outcomes of an acknowledged alert.
var Outcomes = []string{"case_opened", "monitoring", "no_action_needed"}

func (s *Service) alerts(ctx context.Context, tx pgx.Tx, school uuid.UUID, openOnly bool, id *uuid.UUID) ([]Alert, error) {
	rows, err := tx.Query(ctx, `SELECT a.id, a.student_id, st.name, st.student_number, h.name, a.assessment_id, a.instrument_code, a.reason, a.band,
		a.suggested_tier, a.created_at, a.due_at, a.escalation, a.acknowledged_at, a.acknowledged_by, a.outcome, a.case_file_id
		FROM screening_alerts a
		JOIN students st ON st.school_id = a.school_id AND st.id = a.student_id
		JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
		WHERE a.school_id = $1 AND (NOT $2 OR a.acknowledged_at IS NULL) AND ($3::uuid IS NULL OR a.id = $3)
		ORDER BY a.acknowledged_at IS NOT NULL, a.due_at, a.id
		LIMIT 500`, school, openOnly, id)
	if err != nil {
		return nil, database.MapError(err)
	}
	now := s.now()
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) {
		var x Alert
		err := r.Scan(&x.ID, &x.StudentID, &x.StudentName, &x.StudentNumber, &x.HomeroomName, &x.AssessmentID, &x.InstrumentCode, &x.Reason,
			&x.Band, &x.SuggestedTier, &x.CreatedAt, &x.DueAt, &x.Escalation, &x.AcknowledgedAt, &x.AcknowledgedBy, &x.Outcome, &x.CaseFileID)
		x.Overdue = x.AcknowledgedAt == nil && !now.Before(x.DueAt)
		return x, err
	})
	return out, database.MapError(err)
}

// Alerts lists the school's alerts: the open ones (status "open", the default) or all.
func (s *Service) Alerts(ctx context.Context, a scope.Actor, school uuid.UUID, status string) ([]Alert, error) {
	if status != "" && status != "open" && status != "all" {
		return nil, fault.Validation(fault.Field("status", "invalid_value", "open or all"))
	}
	var out []Alert
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		if out, err = s.alerts(ctx, tx, school, status != "all", nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_alerts.list", ObjectType: "school", ObjectID: school.String()})
	})
	return out, err
}

// AckInput acknowledges an alert.
type AckInput struct {
	Outcome      string `json:"outcome"`
	OpenCaseFile bool   `json:"open_case_file"`
}

// Acknowledge records that a counselor has taken an alert in hand, optionally opening
// (or finding) the student's case file, and closes every counselor's alert task.
func (s *Service) Acknowledge(ctx context.Context, a scope.Actor, school, id uuid.UUID, in AckInput) (Alert, error) {
	if in.OpenCaseFile {
		in.Outcome = "case_opened"
	}
	if !slices.Contains(Outcomes, in.Outcome) {
		return Alert{}, fault.Validation(fault.Field("outcome", "invalid_value", "one of case_opened, monitoring, no_action_needed"))
	}
	var out Alert
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var student uuid.UUID
		var acked *time.Time
		if err := tx.QueryRow(ctx, `SELECT student_id, acknowledged_at FROM screening_alerts WHERE school_id = $1 AND id = $2 FOR UPDATE`,
			school, id).Scan(&student, &acked); err != nil {
			return database.MapError(err)
		}
		if acked != nil {
			return fault.New(fault.Conflict, "this alert has already been acknowledged")
		}
		var caseFile *uuid.UUID
		if in.Outcome == "case_opened" {
			cf, err := s.CaseFiles.OpenInTx(ctx, tx, a, school, student)
			if err != nil {
				return err
			}
			caseFile = &cf
		}
		if _, err := tx.Exec(ctx, `UPDATE screening_alerts SET acknowledged_at = $3, acknowledged_by = $4, outcome = $5, case_file_id = $6
			WHERE school_id = $1 AND id = $2`, school, id, s.now(), a.UserID, in.Outcome, caseFile); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `SELECT close_screening_alert_tasks($1, $2)`, school, id); err != nil {
			return database.MapError(err)
		}
		list, err := s.alerts(ctx, tx, school, false, &id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_alerts.acknowledge", ObjectType: "screening_alert", ObjectID: id.String(), Reason: in.Outcome})
	})
	return out, err
}

// Escalation is an escalated alert as the district sees it: no student identity.
type Escalation struct {
	AlertID        uuid.UUID  `json:"alert_id"`
	SchoolID       uuid.UUID  `json:"school_id"`
	SchoolName     string     `json:"school_name"`
	Reason         string     `json:"reason"`
	CreatedAt      time.Time  `json:"created_at"`
	DueAt          time.Time  `json:"due_at"`
	EscalatedAt    *time.Time `json:"escalated_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

// DistrictEscalations lists the alerts escalated to the district.
func (s *Service) DistrictEscalations(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Escalation, error) {
	var out []Escalation
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT alert_id, school_id, school_name, reason, created_at, due_at, escalated_at, acknowledged_at
			FROM screening_district_escalations()`)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Escalation, error) {
			var e Escalation
			return e, r.Scan(&e.AlertID, &e.SchoolID, &e.SchoolName, &e.Reason, &e.CreatedAt, &e.DueAt, &e.EscalatedAt, &e.AcknowledgedAt)
		})
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_escalations.list", ObjectType: "district", ObjectID: district.String()})
	})
	return out, err
}

// EscalateOverdue escalates every unacknowledged alert past its deadline: to the school
// leaders (an inbox task each) when the counselors' deadline has passed, then to the
// district supervisors' board when the leader's time has passed too. Each step happens
// once per alert whatever the number of runs, workers or retries. It returns how many
// steps it took.
func (s *Service) EscalateOverdue(ctx context.Context) (int, error) {
	return alertLadder.Escalate(ctx, s.DB, s.now())
}

// alertLadder escalates overdue alerts: leaders after the counselors' deadline, the
// district after the leaders' time.
var alertLadder = escalation.Ladder{Username: "system:screening_escalation", Step: "screening_alert_escalate",
	Overdue:    `SELECT district_id, school_id, alert_id, escalation, due_at, leader_minutes FROM screening_alerts_overdue($1)`,
	LeaderKind: "screening_alert_escalated", Subject: "screening_alert", DedupePrefix: "screening_alert_leader:",
	AuditAction: "screening_alerts.escalate"}
