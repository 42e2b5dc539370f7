package program

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
)

// Indicator kinds fed by the counseling room (心理辅导室).
const (
	// RoomOpenHours: the room is open at least Target hours a week, from the published
	// opening hours minus the room's closures, averaged over the term's weeks up to
	// this one.
	RoomOpenHours = "room_open_hours"
	// RoomResponseRate: at least Target % of the public requests answered (accepted,
	// moved or declined) within 2 school days (Monday to Friday).
	RoomResponseRate = "room_response_rate"
)

// validateRoomIndicator checks an indicator of a room kind.
func validateRoomIndicator(in *Indicator, at func(string) string) []fault.FieldError {
	var f []fault.FieldError
	if in.ActivityType != "" || in.Metric != "" {
		f = append(f, fault.Field(at("kind"), "not_allowed", "a counseling-room indicator has neither activity type nor metric"))
	}
	switch in.Kind {
	case RoomOpenHours:
		if in.Target <= 0 || in.Target > 168 {
			f = append(f, fault.Field(at("target"), "invalid_value", "a weekly opening-hours target is more than 0 and at most 168"))
		}
	case RoomResponseRate:
		if in.Target <= 0 || in.Target > 100 {
			f = append(f, fault.Field(at("target"), "invalid_value", "a percentage target is more than 0 and at most 100"))
		}
	}
	return f
}

// roomWeek is a school's published week: opening minutes per ISO weekday (1 = Monday).
type roomWeek [8]int

// roomClosure is a closure of the whole room, dates inclusive.
type roomClosure struct{ from, to time.Time }

// roomOpenHoursPerWeek is the room's average opening hours per week over the calendar
// weeks (Monday to Sunday) of the term up to today's week: the published hours of each
// day, the room's closed days left out, divided by the number of weeks, rounded to 0.1.
// Before the term it is the first week's. Dates are calendar days (midnight UTC
// standing for the China date).
func roomOpenHoursPerWeek(week roomWeek, closures []roomClosure, start, end, today time.Time) float64 {
	last := today
	if last.After(end) {
		last = end
	}
	if last.Before(start) {
		last = start
	}
	first, stop := weekStart(start), weekStart(last).AddDate(0, 0, 6)
	days, minutes := 0, 0
	for d := first; !d.After(stop); d = d.AddDate(0, 0, 1) {
		days++
		closed := false
		for _, c := range closures {
			if !d.Before(c.from) && !d.After(c.to) {
				closed = true
				break
			}
		}
		if !closed {
			minutes += week[(int(d.Weekday())+6)%7+1]
		}
	}
	if days == 0 {
		return 0
	}
	return math.Round(float64(minutes)/60*7/float64(days)*10) / 10
}

// roomRequest is a public request: when it was made and, if so, answered.
type roomRequest struct {
	created  time.Time
	answered *time.Time
}

// roomResponseRate is the share (%, rounded to 0.1) of the requests due that were
// answered within 2 school days. A request is due once answered or once its 2 school
// days ended before today; none due is 100.
func roomResponseRate(reqs []roomRequest, today time.Time) float64 {
	due, inTime := 0, 0
	for _, r := range reqs {
		deadline := appointment.AddSchoolDays(r.created, 2)
		dl := time.Date(deadline.Year(), deadline.Month(), deadline.Day(), 0, 0, 0, 0, time.UTC)
		if r.answered == nil && !dl.Before(today) {
			continue // still within its time
		}
		due++
		if r.answered != nil && !r.answered.After(deadline) {
			inTime++
		}
	}
	if due == 0 {
		return 100
	}
	return math.Round(float64(inTime)/float64(due)*1000) / 10
}

// roomIndicators sets, per school, the values of the room kinds into values (keyed by
// kind): opening hours per week and the request response rate of the term up to today.
func roomIndicators(ctx context.Context, tx pgx.Tx, p Plan, schools []uuid.UUID, start, end, today time.Time, values map[key]float64) error {
	need := map[string]bool{}
	for _, in := range p.Indicators {
		need[in.Kind] = true
	}
	if need[RoomOpenHours] {
		weeks := map[uuid.UUID]*roomWeek{}
		closures := map[uuid.UUID][]roomClosure{}
		for _, s := range schools {
			weeks[s] = &roomWeek{}
		}
		rows, err := tx.Query(ctx, `SELECT school_id, weekday, minutes FROM plan_room_opening_hours($1)`, schools)
		if err != nil {
			return database.MapError(err)
		}
		for rows.Next() {
			var s uuid.UUID
			var wd int16
			var m int
			if err := rows.Scan(&s, &wd, &m); err != nil {
				return database.MapError(err)
			}
			if w := weeks[s]; w != nil && wd >= 1 && wd <= 7 {
				w[wd] = m
			}
		}
		if err := rows.Err(); err != nil {
			return database.MapError(err)
		}
		rows, err = tx.Query(ctx, `SELECT school_id, starts_on, ends_on FROM plan_room_closures($1, $2::date, $3::date)`,
			schools, weekStart(start).Format(time.DateOnly), weekStart(end).AddDate(0, 0, 6).Format(time.DateOnly))
		if err != nil {
			return database.MapError(err)
		}
		for rows.Next() {
			var s uuid.UUID
			var c roomClosure
			if err := rows.Scan(&s, &c.from, &c.to); err != nil {
				return database.MapError(err)
			}
			closures[s] = append(closures[s], c)
		}
		if err := rows.Err(); err != nil {
			return database.MapError(err)
		}
		for _, s := range schools {
			values[key{s, RoomOpenHours}] = roomOpenHoursPerWeek(*weeks[s], closures[s], start, end, today)
		}
	}
	if need[RoomResponseRate] {
		last := today
		if end.Before(last) {
			last = end
		}
		from := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, shanghai)
		to := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, shanghai)
		reqs := map[uuid.UUID][]roomRequest{}
		rows, err := tx.Query(ctx, `SELECT school_id, created_at, answered_at FROM plan_room_requests($1, $2, $3)`, schools, from, to)
		if err != nil {
			return database.MapError(err)
		}
		for rows.Next() {
			var s uuid.UUID
			var r roomRequest
			if err := rows.Scan(&s, &r.created, &r.answered); err != nil {
				return database.MapError(err)
			}
			reqs[s] = append(reqs[s], r)
		}
		if err := rows.Err(); err != nil {
			return database.MapError(err)
		}
		for _, s := range schools {
			values[key{s, RoomResponseRate}] = roomResponseRate(reqs[s], today)
		}
	}
	return nil
}
