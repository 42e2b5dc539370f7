package httpapi_test

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/referral"
)

// calmStudent returns a student of t's school without an open crisis.
func (w *world) calmStudent(t target) uuid.UUID {
	var id uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(context.Background(), `SELECT s.id FROM students s WHERE s.school_id = $1
			AND NOT EXISTS (SELECT 1 FROM crises c WHERE c.school_id = s.school_id AND c.student_id = s.id AND c.status = 'open')
			ORDER BY s.student_number DESC LIMIT 1`, t.school).Scan(&id); err != nil {
			w.t.Fatal(err)
		}
	})
	return id
}

// newCrisis returns the crisis of t's school that the matrix uses (opened once, for a
// calm student); escalated puts it on the district's board.
func (w *world) newCrisis(t target, escalated bool) uuid.UUID {
	key := fmt.Sprintf("crisis/%s/%v", t.school, escalated)
	w.mu.Lock()
	if id, ok := w.cached[key]; ok {
		w.mu.Unlock()
		return id
	}
	w.mu.Unlock()
	id := w.openCrisis(t, escalated)
	w.mu.Lock()
	w.cached[key] = id
	w.mu.Unlock()
	return id
}

// openCrisis opens a new crisis in t's school for a calm student.
func (w *world) openCrisis(t target, escalated bool) uuid.UUID {
	student := w.calmStudent(t)
	c, err := w.crises.Open(bg(), w.counselorActor(w.t, t.code), t.school, crisis.OpenInput{Source: "counselor", StudentID: &student, Level: "high"})
	if err != nil {
		w.t.Fatalf("open crisis: %v", err)
	}
	if escalated {
		w.ownerQuery(func(tx pgx.Tx) {
			if _, err := tx.Exec(context.Background(), `UPDATE crises SET escalation = 'district', leader_escalated_at = now(), district_escalated_at = now()
				WHERE school_id = $1 AND id = $2`, t.school, c.ID); err != nil {
				w.t.Fatal(err)
			}
			if err := tx.Commit(context.Background()); err != nil {
				w.t.Fatal(err)
			}
		})
	}
	return c.ID
}

func (w *world) assess(t target, id uuid.UUID) {
	if w.scalar(`SELECT count(*) FROM crisis_steps WHERE crisis_id = $1 AND kind = 'risk_assessed'`, id) > 0 {
		return
	}
	if _, err := w.crises.RecordStep(bg(), w.counselorActor(w.t, t.code), t.school, id, crisis.StepInput{Kind: "risk_assessed", Level: "high", Method: "interview"}); err != nil {
		w.t.Fatalf("assess: %v", err)
	}
}

func (w *world) newInstitution(t target, name string) uuid.UUID {
	kind := "hospital"
	direct := true
	in, err := w.referrals.CreateInstitution(bg(), w.districtAdmin(t), t.district, referral.InstitutionInput{Name: &name, Kind: &kind, AcceptsDirect: &direct})
	if err != nil {
		w.t.Fatalf("institution: %v", err)
	}
	return in.ID
}

// newReferral refers, under imminent danger, the student of a fresh assessed crisis.
func (w *world) newReferral(t target) referral.Referral {
	c := w.newCrisis(t, false)
	w.assess(t, c)
	caseFile := w.id(`SELECT case_file_id FROM crises WHERE id = $1`, c)
	r, err := w.referrals.Send(bg(), w.counselorActor(w.t, t.code), t.school, referral.SendInput{CaseFileID: caseFile, CrisisID: &c,
		InstitutionID: w.newInstitution(t, "市精神卫生中心-"+uuid.NewString()[:6]), Basis: "imminent_danger", Items: []string{"risk_tier"}, Reason: "持续出现自伤念头，需专科评估"})
	if err != nil {
		w.t.Fatalf("referral: %v", err)
	}
	return r
}
