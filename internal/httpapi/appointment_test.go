package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/inbox"
)

// schoolDay returns 00:00 China time of the n-th school day (Monday to Friday) after
// today, n >= 1, far enough from freeSlot's days when n is large.
func schoolDay(n int) time.Time {
	d := time.Now().In(appointment.China)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, appointment.China)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d
}

func at(day time.Time, hhmm string) time.Time {
	t, _ := time.Parse("15:04", hhmm)
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}

// A counselor books a student in the room's opening hours; the appointment shows in the
// counselor's and the room's calendar; check-in records a scheduled session in the
// student's case file in the same transaction; the counts follow.
func TestAppointmentBookedShownAndCheckedInAsSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	counselorID := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	student := w.id(`SELECT id FROM students s WHERE school_id = $1
		AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, own.school)
	day := schoolDay(20)
	r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "student", "student_id": student,
		"starts_at": at(day, "09:00"), "duration_minutes": 45, "contact": "班主任转达"})
	if r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	var booked appointment.Appointment
	r.decode(t, &booked)
	if booked.Status != "booked" || booked.CounselorID == nil || *booked.CounselorID != counselorID || booked.StudentName == "" ||
		!booked.EndsAt.Equal(at(day, "09:45")) || booked.Contact != "班主任转达" {
		t.Fatalf("booked: %+v", booked)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var contact []byte
		tx.QueryRow(context.Background(), `SELECT contact FROM appointments WHERE id = $1`, booked.ID).Scan(&contact)
		if len(contact) == 0 || bytes.Contains(contact, []byte("班主任")) {
			t.Errorf("the contact is stored in clear or not at all: %q", contact)
		}
	})

	// The day calendar of the counselor and the week calendar of the room show it.
	for _, q := range []string{
		"?from=" + day.UTC().Format(time.RFC3339) + "&to=" + day.AddDate(0, 0, 1).UTC().Format(time.RFC3339) + "&counselor_id=" + counselorID.String(),
		"?from=" + day.AddDate(0, 0, -3).UTC().Format(time.RFC3339) + "&to=" + day.AddDate(0, 0, 4).UTC().Format(time.RFC3339),
	} {
		var cal struct{ Items []appointment.Appointment }
		w.do(counselor, "GET", base+"/appointments"+q, nil).decode(t, &cal)
		if len(cal.Items) != 1 || cal.Items[0].ID != booked.ID {
			t.Fatalf("calendar %s: %+v", q, cal.Items)
		}
	}
	var empty struct{ Items []appointment.Appointment }
	w.do(counselor, "GET", base+"/appointments?from="+day.AddDate(0, 0, 1).UTC().Format(time.RFC3339)+"&to="+day.AddDate(0, 0, 2).UTC().Format(time.RFC3339), nil).decode(t, &empty)
	if len(empty.Items) != 0 {
		t.Fatalf("the next day's calendar: %+v", empty.Items)
	}

	// Check-in: the session lands in the student's (new) case file.
	r = w.do(counselor, "POST", base+"/appointments/"+booked.ID.String()+"/check-in", map[string]any{"summary": "首次预约面谈"})
	if r.status != 200 {
		t.Fatalf("check-in: %d %s", r.status, r.body)
	}
	var in appointment.Appointment
	r.decode(t, &in)
	if in.Status != "checked_in" || in.CaseFileID == nil || in.SessionID == nil {
		t.Fatalf("checked in: %+v", in)
	}
	var timeline struct{ Items []casefile.Session }
	w.do(counselor, "GET", base+"/case-files/"+in.CaseFileID.String()+"/timeline", nil).decode(t, &timeline)
	if len(timeline.Items) != 1 || timeline.Items[0].ID != *in.SessionID || timeline.Items[0].Channel != "scheduled" ||
		timeline.Items[0].Summary != "首次预约面谈" || timeline.Items[0].DurationMinutes != 45 {
		t.Fatalf("timeline: %+v", timeline.Items)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+booked.ID.String()+"/check-in", nil); r.status != 409 {
		t.Fatalf("checking in twice: %d", r.status)
	}
	var stats appointment.Stats
	w.do(counselor, "GET", base+"/appointments/stats?from="+day.UTC().Format(time.RFC3339)+"&to="+day.AddDate(0, 0, 1).UTC().Format(time.RFC3339), nil).decode(t, &stats)
	if len(stats.Counselors) != 1 || stats.Counselors[0].CheckedIn != 1 || stats.Counselors[0].Booked != 0 {
		t.Fatalf("stats: %+v", stats)
	}
	if w.auditCount("appointments.book", "allowed") != 1 || w.auditCount("appointments.check_in", "allowed") != 1 || w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'sessions.create' AND object_id = $1`, in.SessionID.String()) != 1 {
		t.Fatal("booking, check-in and the session are audited")
	}
}

// A failed session (here: an archived case file) rolls the check-in back: the
// appointment stays booked.
func TestCheckInIsOneTransactionWithTheSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "guardian", "client_name": "王女士",
		"student_id": own.student, "starts_at": at(schoolDay(21), "10:00"), "duration_minutes": 30})
	var a appointment.Appointment
	r.decode(t, &a)
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `UPDATE case_files SET status = 'archived', archived_at = now(), archive_reason = 'graduated' WHERE id = $1`, own.caseFile); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	if r := w.do(counselor, "POST", base+"/appointments/"+a.ID.String()+"/check-in", nil); r.status != 409 {
		t.Fatalf("check-in into an archived file: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM appointments WHERE id = $1 AND status = 'booked' AND session_id IS NULL`, a.ID); n != 1 {
		t.Fatal("the appointment changed although its session was refused")
	}
}

// Double booking is impossible: concurrent overlapping bookings of one counselor leave
// exactly one; the others answer 409. The database refuses it even behind the API.
func TestDoubleBookingIsImpossibleEvenConcurrently(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	day := schoolDay(22)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Every pair overlaps: 14:00 + i*2 minutes, 30 minutes long.
			r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "student", "student_id": own.student,
				"starts_at": at(day, "14:00").Add(time.Duration(i*2) * time.Minute), "duration_minutes": 30})
			statuses[i] = r.status
		}()
	}
	close(start)
	wg.Wait()
	created, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
			conflicts++
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("concurrent bookings: %v", statuses)
	}
	if c := w.scalar(`SELECT count(*) FROM appointments WHERE school_id = $1 AND status = 'booked'`, own.school); c != 1 {
		t.Fatalf("%d booked appointments", c)
	}
	// Behind the API: the owner cannot write an overlapping appointment either.
	w.ownerQuery(func(tx pgx.Tx) {
		_, err := tx.Exec(context.Background(), `INSERT INTO appointments (school_id, id, counselor_id, client_kind, student_id, starts_at, ends_at, status, source, created_by)
			SELECT school_id, $2, counselor_id, 'student', student_id, starts_at + interval '10 minutes', ends_at, 'booked', 'counselor', created_by
			FROM appointments WHERE school_id = $1 AND status = 'booked'`, own.school, uuid.New())
		if err == nil || !strings.Contains(err.Error(), "appointments_no_double_booking") {
			t.Fatalf("an overlapping insert behind the API: %v", err)
		}
	})
	// Back to back is fine; a cancelled appointment frees its time.
	if r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "student", "student_id": own.student,
		"starts_at": at(day, "15:00"), "duration_minutes": 30}); r.status != 201 {
		t.Fatalf("a later appointment: %d %s", r.status, r.body)
	}
	first := w.id(`SELECT id FROM appointments WHERE school_id = $1 AND status = 'booked' ORDER BY starts_at LIMIT 1`, own.school)
	if r := w.do(counselor, "POST", base+"/appointments/"+first.String()+"/cancel", map[string]any{"reason": "client_cancelled"}); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "student", "student_id": own.student,
		"starts_at": at(day, "14:05"), "duration_minutes": 30}); r.status != 201 {
		t.Fatalf("booking a cancelled appointment's time: %d %s", r.status, r.body)
	}
}

// Bookings outside the opening hours, in a closure, outside the counselor's slots, in
// the past or malformed are refused with a problem naming the field; nothing is stored.
func TestBookingOutsideOpeningHoursIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor, leader := w.token("counselor.s1"), w.token("leader.s1")
	day := schoolDay(23)
	saturday := day
	for saturday.Weekday() != time.Saturday {
		saturday = saturday.AddDate(0, 0, 1)
	}
	exam := schoolDay(24)
	if r := w.do(leader, "POST", base+"/room/closures", map[string]any{"starts_on": exam.Format(time.DateOnly), "ends_on": exam.Format(time.DateOnly), "label": "期中考试周"}); r.status != 201 {
		t.Fatalf("closure: %d %s", r.status, r.body)
	}
	book := func(starts time.Time, minutes int) map[string]any {
		return map[string]any{"client_kind": "student", "student_id": own.student, "starts_at": starts, "duration_minutes": minutes}
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
		code  string
	}{
		{"before opening", book(at(day, "07:00"), 30), "starts_at", "outside_opening_hours"},
		{"in the lunch break", book(at(day, "12:15"), 30), "starts_at", "outside_opening_hours"},
		{"across closing", book(at(day, "11:45"), 30), "starts_at", "outside_opening_hours"},
		{"on a Saturday", book(at(saturday, "09:00"), 30), "starts_at", "outside_opening_hours"},
		{"in the exam week", book(at(exam, "09:00"), 30), "starts_at", "closed"},
		{"in the past", book(time.Now().Add(-48*time.Hour), 30), "starts_at", "out_of_range"},
		{"too short", book(at(day, "09:00"), 5), "duration_minutes", "out_of_range"},
		{"no student", map[string]any{"client_kind": "student", "starts_at": at(day, "09:00"), "duration_minutes": 30}, "student_id", "required"},
		{"guardian without a name", map[string]any{"client_kind": "guardian", "starts_at": at(day, "09:00"), "duration_minutes": 30}, "client_name", "required"},
		{"unknown kind", map[string]any{"client_kind": "parent", "starts_at": at(day, "09:00"), "duration_minutes": 30, "client_name": "x"}, "client_kind", "invalid_value"},
		{"another school's student", map[string]any{"client_kind": "student", "student_id": w.target("s2").student, "starts_at": at(day, "09:00"), "duration_minutes": 30}, "student_id", "invalid_value"},
		{"another school's counselor", map[string]any{"client_kind": "student", "student_id": own.student, "counselor_id": w.id(`SELECT id FROM users WHERE username = 'counselor.s2'`), "starts_at": at(day, "09:00"), "duration_minutes": 30}, "counselor_id", "invalid_value"},
	}
	for _, c := range cases {
		r := w.do(counselor, "POST", base+"/appointments", c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) == 0 || p.Errors[0].Field != c.field || p.Errors[0].Code != c.code {
			t.Errorf("%s: problem %+v", c.name, p)
		}
	}
	// The counselor's own slots narrow the opening hours.
	if r := w.do(counselor, "PUT", base+"/room/slots", map[string]any{"slots": []map[string]any{{"weekday": int(day.Weekday()), "start": "09:00", "end": "10:00"}}}); r.status != 200 {
		t.Fatalf("slots: %d %s", r.status, r.body)
	}
	r := w.do(counselor, "POST", base+"/appointments", book(at(day, "10:30"), 30))
	if p := w.problem(t, r); r.status != 422 || p.Errors[0].Code != "outside_slots" {
		t.Errorf("outside the slots: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM appointments`); n != 0 {
		t.Fatalf("%d appointments stored from bad input", n)
	}
	if r := w.do(counselor, "POST", base+"/appointments", book(at(day, "09:15"), 30)); r.status != 201 {
		t.Fatalf("inside the slot: %d %s", r.status, r.body)
	}
}

// Opening hours and slots: overlaps and slots outside the hours are refused and change
// nothing; the schedule is readable by the school's teachers, not its slots' owners' rows.
func TestOpeningHoursAndSlotsRefuseOverlaps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor, leader, teacher := w.token("counselor.s1"), w.token("leader.s1"), w.token("teacher.s1")
	bad := []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"overlapping hours", "/room/opening-hours", map[string]any{"opening_hours": []map[string]any{{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}}}, "opening_hours[1]"},
		{"end before start", "/room/opening-hours", map[string]any{"opening_hours": []map[string]any{{"weekday": 2, "start": "12:00", "end": "08:00"}}}, "opening_hours[0].end"},
		{"no such weekday", "/room/opening-hours", map[string]any{"opening_hours": []map[string]any{{"weekday": 8, "start": "08:00", "end": "09:00"}}}, "opening_hours[0].weekday"},
		{"not a time", "/room/opening-hours", map[string]any{"opening_hours": []map[string]any{{"weekday": 1, "start": "8 am", "end": "09:00"}}}, "opening_hours[0].start"},
		{"overlapping slots", "/room/slots", map[string]any{"slots": []map[string]any{{"weekday": 1, "start": "08:00", "end": "10:00"}, {"weekday": 1, "start": "09:00", "end": "11:00"}}}, "slots[1]"},
		{"slot outside the hours", "/room/slots", map[string]any{"slots": []map[string]any{{"weekday": 6, "start": "08:00", "end": "10:00"}}}, "slots[0]"},
	}
	for _, c := range bad {
		tok := leader
		if c.path == "/room/slots" {
			tok = counselor
		}
		r := w.do(tok, "PUT", base+c.path, c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: problem %+v", c.name, p)
		}
	}
	var sch appointment.Schedule
	w.do(teacher, "GET", base+"/room/schedule", nil).decode(t, &sch)
	if len(sch.OpeningHours) != 10 || len(sch.Slots) != 0 {
		t.Fatalf("the schedule changed or shows slots to a teacher: %+v", sch)
	}
	if r := w.do(counselor, "PUT", base+"/room/slots", map[string]any{"slots": []map[string]any{{"weekday": 3, "start": "14:00", "end": "17:30"}}}); r.status != 200 {
		t.Fatalf("slots: %d %s", r.status, r.body)
	}
	w.do(leader, "GET", base+"/room/schedule", nil).decode(t, &sch)
	if len(sch.Slots) != 1 || sch.Slots[0].Start != "14:00" || sch.Slots[0].End != "17:30" || sch.Slots[0].CounselorName == "" {
		t.Fatalf("the leader's view of the slots: %+v", sch.Slots)
	}
	w.do(teacher, "GET", base+"/room/schedule", nil).decode(t, &sch)
	if len(sch.Slots) != 0 {
		t.Fatalf("a teacher sees the counselors' slots: %+v", sch.Slots)
	}
}

// A guardian requests a slot on the public page (no account, name optional); the
// answer is the same whether or not the time is taken; the counselors get a task; the
// counselor accepts it for the guardian's child, and the check-in records a session.
func TestPublicRequestAcceptedAndCheckedIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	pub := "/api/v1/public/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	day := schoolDay(3)

	var room appointment.PublicRoom
	r := w.do("", "GET", pub+"/room", nil)
	r.decode(t, &room)
	if r.status != 200 || room.SchoolName != "示范区第一中学" || len(room.OpeningHours) != 10 || room.DurationMinutes != 45 {
		t.Fatalf("public room: %d %s", r.status, r.body)
	}
	// The counselor is busy at 09:00; the public page answers alike.
	if r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "student", "student_id": own.student,
		"starts_at": at(day, "09:00"), "duration_minutes": 45}); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	var answers []string
	for _, body := range []map[string]any{
		{"requester_kind": "guardian", "contact": "13800001111", "starts_at": at(day, "09:00")},
		{"requester_kind": "guardian", "name": "李先生", "contact": "13800002222", "starts_at": at(day, "10:00")},
	} {
		r := w.do("", "POST", pub+"/appointment-requests", body)
		if r.status != 202 {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		answers = append(answers, string(r.body))
	}
	if answers[0] != answers[1] || answers[0] != `{"status":"received"}` {
		t.Fatalf("the answers differ or say more than received: %q", answers)
	}
	for _, body := range []string{string(r.body), answers[0]} {
		if strings.Contains(body, own.student.String()) || strings.Contains(body, "booked") {
			t.Fatalf("the public page reveals a booking: %s", body)
		}
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var contact []byte
		tx.QueryRow(context.Background(), `SELECT contact FROM appointments WHERE status = 'requested' AND client_name IS NOT NULL`).Scan(&contact)
		if len(contact) == 0 || bytes.Contains(contact, []byte("13800002222")) {
			t.Errorf("the contact is stored in clear: %q", contact)
		}
	})

	var requests struct{ Items []appointment.Appointment }
	w.do(counselor, "GET", base+"/appointments?status=requested", nil).decode(t, &requests)
	if len(requests.Items) != 2 {
		t.Fatalf("requests: %+v", requests.Items)
	}
	var mine appointment.Appointment
	for _, a := range requests.Items {
		if a.ClientName == "李先生" {
			mine = a
		}
	}
	if mine.Contact != "13800002222" || mine.ClientKind != "guardian" || mine.Source != "public_request" || mine.CounselorID != nil {
		t.Fatalf("the request: %+v", mine)
	}
	var box inbox.Summary
	w.do(counselor, "GET", base+"/inbox", nil).decode(t, &box)
	if !hasItem(box, "appointment_requested", mine.ID, true) {
		t.Fatalf("counselor inbox: %+v", box)
	}
	for _, it := range box.Items {
		if strings.Contains(string(mustJSON(t, it.Params)), "1380000") {
			t.Fatalf("an inbox item holds the contact: %+v", it)
		}
	}
	// The busy time cannot be accepted as is: 409; the counselor moves it while accepting.
	other := requests.Items[0]
	if other.ID == mine.ID {
		other = requests.Items[1]
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+other.ID.String()+"/accept", nil); r.status != 409 {
		t.Fatalf("accepting a request at a busy time: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+other.ID.String()+"/decline", nil); r.status != 200 {
		t.Fatalf("decline: %d %s", r.status, r.body)
	}
	r = w.do(counselor, "POST", base+"/appointments/"+mine.ID.String()+"/accept", map[string]any{"student_id": own.student, "starts_at": at(day, "10:30")})
	var accepted appointment.Appointment
	r.decode(t, &accepted)
	if r.status != 200 || accepted.Status != "booked" || !accepted.StartsAt.Equal(at(day, "10:30")) || accepted.StudentID == nil || accepted.AnsweredAt == nil {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	w.do(counselor, "GET", base+"/inbox", nil).decode(t, &box)
	if hasItem(box, "appointment_requested", mine.ID, true) {
		t.Fatal("the request task is still open")
	}
	r = w.do(counselor, "POST", base+"/appointments/"+mine.ID.String()+"/check-in", nil)
	var in appointment.Appointment
	r.decode(t, &in)
	if r.status != 200 || in.SessionID == nil || in.CaseFileID == nil || *in.CaseFileID != own.caseFile {
		t.Fatalf("check-in: %d %s", r.status, r.body)
	}
	var timeline struct{ Items []casefile.Session }
	w.do(counselor, "GET", base+"/case-files/"+own.caseFile.String()+"/timeline", nil).decode(t, &timeline)
	found := false
	for _, s := range timeline.Items {
		if s.ID == *in.SessionID && s.Channel == "scheduled" && s.InitiatedBy == "guardian" && slicesEqual(s.Participants, []string{"guardian"}) {
			found = true
		}
	}
	if !found {
		t.Fatalf("the session is not in the case file: %+v", timeline.Items)
	}
	var stats appointment.Stats
	w.do(counselor, "GET", base+"/appointments/stats?from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+"&to="+day.AddDate(0, 0, 1).UTC().Format(time.RFC3339), nil).decode(t, &stats)
	if stats.Requests != 2 || stats.RequestsOpen != 0 || stats.AnsweredWithin2Days != 2 {
		t.Fatalf("request stats: %+v", stats)
	}
	if w.auditCount("appointments.request", "allowed") != 2 {
		t.Fatal("public requests are audited")
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// The public page refuses bad requests with a problem naming the field and stores
// nothing; a flood from one address is refused with 429; unknown schools are not found.
func TestPublicRequestBadInputAndRateLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	pub := "/api/v1/public/schools/" + own.school.String()
	day := schoolDay(4)
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no contact", map[string]any{"requester_kind": "guardian", "starts_at": at(day, "09:00")}, "contact"},
		{"a teacher", map[string]any{"requester_kind": "teacher", "contact": "13800000000", "starts_at": at(day, "09:00")}, "requester_kind"},
		{"outside the opening hours", map[string]any{"requester_kind": "student", "contact": "13800000000", "starts_at": at(day, "19:00")}, "starts_at"},
		{"in the past", map[string]any{"requester_kind": "student", "contact": "13800000000", "starts_at": time.Now().Add(-time.Hour)}, "starts_at"},
		{"too far ahead", map[string]any{"requester_kind": "student", "contact": "13800000000", "starts_at": at(schoolDay(40), "09:00")}, "starts_at"},
		{"a long name", map[string]any{"requester_kind": "student", "name": strings.Repeat("名", 51), "contact": "13800000000", "starts_at": at(day, "09:00")}, "client_name"},
	}
	for _, c := range cases {
		r := w.do("", "POST", pub+"/appointment-requests", c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: problem %+v", c.name, p)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM appointments`); n != 0 {
		t.Fatalf("%d requests stored from bad input", n)
	}
	for _, path := range []string{"/api/v1/public/schools/" + uuid.NewString(), "/api/v1/public/schools/42"} {
		if r := w.do("", "GET", path+"/room", nil); r.status != 404 {
			t.Errorf("room of %s: %d", path, r.status)
		}
		if r := w.do("", "POST", path+"/appointment-requests", map[string]any{"requester_kind": "student", "contact": "13800000000", "starts_at": at(day, "09:00")}); r.status != 404 {
			t.Errorf("request to %s: %d", path, r.status)
		}
	}
	for i := range 6 {
		r := w.do("", "POST", pub+"/appointment-requests", map[string]any{"requester_kind": "student", "contact": "13800000000",
			"starts_at": at(day, "09:00").Add(time.Duration(i) * 15 * time.Minute)})
		want := 202
		if i == 5 {
			want = 429
		}
		if r.status != want {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
		if want == 429 {
			w.problem(t, r)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM appointments`); n != 5 {
		t.Fatalf("%d requests stored, want 5", n)
	}
}

// Cancellations and no-shows are recorded and counted; a move into a busy time is
// refused; a no-show before the start is refused.
func TestCancellationsAndNoShowsAreCounted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	day := schoolDay(25)
	book := func(hhmm string) appointment.Appointment {
		r := w.do(counselor, "POST", base+"/appointments", map[string]any{"client_kind": "teacher", "client_name": "张老师", "student_id": own.student,
			"starts_at": at(day, hhmm), "duration_minutes": 30})
		var a appointment.Appointment
		r.decode(t, &a)
		if r.status != 201 {
			t.Fatalf("book %s: %d %s", hhmm, r.status, r.body)
		}
		return a
	}
	a, b := book("08:00"), book("09:00")
	if r := w.do(counselor, "POST", base+"/appointments/"+a.ID.String()+"/move", map[string]any{"starts_at": at(day, "09:15")}); r.status != 409 {
		t.Fatalf("moving into a busy time: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+a.ID.String()+"/move", map[string]any{"starts_at": at(day, "10:00")}); r.status != 200 {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+a.ID.String()+"/cancel", map[string]any{"reason": "because"}); r.status != 422 {
		t.Fatalf("cancel without a known reason: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+a.ID.String()+"/cancel", map[string]any{"reason": "school_event"}); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+b.ID.String()+"/no-show", nil); r.status != 409 {
		t.Fatalf("a no-show before the start: %d %s", r.status, r.body)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		tx.Exec(context.Background(), `UPDATE appointments SET starts_at = starts_at - interval '60 days', ends_at = ends_at - interval '60 days' WHERE id = $1`, b.ID)
		tx.Commit(context.Background())
	})
	if r := w.do(counselor, "POST", base+"/appointments/"+b.ID.String()+"/no-show", nil); r.status != 200 {
		t.Fatalf("no-show: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/appointments/"+b.ID.String()+"/cancel", map[string]any{"reason": "other"}); r.status != 409 {
		t.Fatalf("cancelling a no-show: %d", r.status)
	}
	var stats appointment.Stats
	w.do(counselor, "GET", base+"/appointments/stats?from="+day.AddDate(0, 0, -70).UTC().Format(time.RFC3339)+"&to="+day.AddDate(0, 0, 1).UTC().Format(time.RFC3339), nil).decode(t, &stats)
	if len(stats.Counselors) != 1 || stats.Counselors[0].Cancelled != 1 || stats.Counselors[0].NoShow != 1 {
		t.Fatalf("stats: %+v", stats)
	}
	for _, q := range []string{"", "?from=2026-01-01", "?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		if r := w.do(counselor, "GET", base+"/appointments/stats"+q, nil); r.status != 422 {
			t.Errorf("stats %q: %d", q, r.status)
		}
		if r := w.do(counselor, "GET", base+"/appointments"+q, nil); r.status != 422 {
			t.Errorf("calendar %q: %d", q, r.status)
		}
	}
}

// The reminder job posts each counselor one reminder per appointment starting within a
// day — time only, never the client — and a second run posts nothing.
func TestAppointmentRemindersAreIdempotentAndCarryNoClient(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	counselorID := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	soon, later := uuid.New(), uuid.New()
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		for _, x := range []struct {
			id uuid.UUID
			in time.Duration
		}{{soon, 3 * time.Hour}, {later, 72 * time.Hour}} {
			starts := time.Now().Add(x.in).Truncate(time.Minute)
			if _, err := tx.Exec(ctx, `INSERT INTO appointments (school_id, id, counselor_id, client_kind, client_name, starts_at, ends_at, status, source, created_by)
				VALUES ($1, $2, $3, 'guardian', '\x01', $4, $5, 'booked', 'counselor', $3)`, own.school, x.id, counselorID, starts, starts.Add(30*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		tx.Commit(ctx)
	})
	n, err := w.room.RemindUpcoming(context.Background(), appointment.ReminderAhead)
	if err != nil || n != 1 {
		t.Fatalf("first run: %d %v", n, err)
	}
	if n, err = w.room.RemindUpcoming(context.Background(), appointment.ReminderAhead); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
	var box inbox.Summary
	w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+own.school.String()+"/inbox", nil).decode(t, &box)
	if !hasItem(box, appointment.KindReminder, soon, false) && !hasItem(box, appointment.KindReminder, soon, true) {
		t.Fatalf("no reminder: %+v", box)
	}
	for _, it := range box.Items {
		if it.Kind == appointment.KindReminder && (len(it.Params) != 1 || it.Params["starts_at"] == "" || *it.SubjectID == later) {
			t.Fatalf("reminder: %+v", it)
		}
	}
	if w.auditCount("appointments.remind", "allowed") != 1 {
		t.Fatal("one audit row for the school's reminders")
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
