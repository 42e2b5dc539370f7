package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/program"
)

// The counseling room feeds the district plan: the published opening hours minus the
// room's closures give the weekly hours, and the public requests answered within 2
// school days give the response rate — for the district's matrix and the school's own
// task alike. A school without hours has 0; a school without requests has 100.
func TestPlanComplianceComputedFromTheCounselingRoom(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	s1, s2 := w.schools["s1"], w.schools["s2"]
	admin := w.districtAdminActor(w.district)
	counselor := schoolActor(w, s1, "counselor")
	if _, err := w.room.SetOpeningHours(ctx, counselor, s1, demo.OpeningHours()); err != nil { // 40 hours a week
		t.Fatal(err)
	}
	// Four public requests of s1 made 20 days ago: three answered the same day, one six
	// days later (after its 2 school days).
	created := time.Now().Add(-20 * 24 * time.Hour)
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(ctx, `DELETE FROM room_opening_hours WHERE school_id = $1`, s2); err != nil { // s2 publishes none
			t.Fatal(err)
		}
		for i, late := range []bool{false, false, false, true} {
			answered := created.Add(time.Hour)
			if late {
				answered = created.Add(6 * 24 * time.Hour)
			}
			starts := created.Add(time.Duration(48+i) * time.Hour)
			if _, err := tx.Exec(ctx, `INSERT INTO appointments (school_id, id, client_kind, starts_at, ends_at, status, source, created_at, answered_at)
				VALUES ($1, $2, 'guardian', $3, $4, 'declined', 'public_request', $5, $6)`, s1, uuid.New(), starts, starts.Add(30*time.Minute), created, answered); err != nil {
				t.Fatal(err)
			}
		}
		tx.Commit(ctx)
	})
	p, err := w.programs.CreatePlan(ctx, admin, w.district, program.PlanInput{TermID: w.currentTerm(w.district).ID, Title: "辅导室工作", AllSchools: true,
		Indicators: []program.Indicator{
			{Code: "room_open", Name: "辅导室每周开放时长", Kind: program.RoomOpenHours, Target: 30},
			{Code: "room_answers", Name: "预约两个工作日内答复", Kind: program.RoomResponseRate, Target: 80},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.programs.Publish(ctx, admin, w.district, p.ID, ""); err != nil {
		t.Fatal(err)
	}
	m, err := w.programs.Compliance(ctx, admin, w.district, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	row := map[uuid.UUID][]program.Cell{}
	for _, r := range m.Rows {
		row[r.SchoolID] = r.Cells
	}
	want := []struct {
		school uuid.UUID
		code   string
		value  float64
		status string
	}{
		{s1, "room_open", 40, program.Met},
		{s1, "room_answers", 75, program.OnTrack}, // 3 of 4; 90 % of 80 is 72
		{s2, "room_open", 0, program.AtRisk},
		{s2, "room_answers", 100, program.Met}, // no requests
	}
	for _, c := range want {
		if got := cellOf(row[c.school], c.code); got.Value != c.value || got.Status != c.status {
			t.Errorf("%s of %s: got %+v, want %v %s", c.code, c.school, got, c.value, c.status)
		}
	}
	// The school sees the same in its own task.
	tasks, err := w.programs.SchoolPlans(ctx, schoolActor(w, s1, "school_leader"), s1)
	if err != nil {
		t.Fatal(err)
	}
	var mine []program.Cell
	for _, x := range tasks {
		if x.Plan.ID == p.ID {
			mine = x.Cells
		}
	}
	if cellOf(mine, "room_open").Value != 40 || cellOf(mine, "room_answers").Value != 75 {
		t.Fatalf("the school's task: %+v", mine)
	}
	// A closure of the room over the whole term closes every week.
	if _, err := w.room.AddClosure(ctx, counselor, s1, appointment.ClosureInput{StartsOn: time.Now().AddDate(0, 0, -40).Format(time.DateOnly),
		EndsOn: time.Now().AddDate(0, 0, 70).Format(time.DateOnly), Label: "装修"}); err != nil {
		t.Fatal(err)
	}
	if m, err = w.programs.Compliance(ctx, admin, w.district, p.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows {
		if r.SchoolID == s1 && cellOf(r.Cells, "room_open").Value != 0 {
			t.Fatalf("hours with the room closed: %+v", r.Cells)
		}
	}
	// The functions behind it give a school actor its own school only.
	err = w.db.App.InTx(ctx, counselor, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM plan_room_requests($1, now() - interval '1 year', now())`, []uuid.UUID{s1, s2, w.schools["d2.s1"]}).Scan(&n); err != nil {
			return err
		}
		if n != 4 {
			t.Errorf("requests seen by s1: %d", n)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM plan_room_schools($1)`, []uuid.UUID{s2, w.schools["d2.s1"]}).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("other schools seen by s1: %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
