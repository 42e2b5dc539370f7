package program

import (
	"testing"
	"time"

	"github.com/xinqiao/xinqiao/internal/fault"
)

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

// A published week of 8 hours a day, Monday to Friday: 40 hours.
var fortyHours = roomWeek{0, 480, 480, 480, 480, 480, 0, 0}

// The term runs from Monday 2026-09-07 to Friday 2027-01-15.
func TestRoomOpenHoursPerWeekFromOpeningHoursMinusClosures(t *testing.T) {
	t.Parallel()
	start, end := day("2026-09-07"), day("2027-01-15")
	friday := []roomClosure{{day("2026-09-11"), day("2026-09-11")}}
	cases := []struct {
		name     string
		week     roomWeek
		closures []roomClosure
		start    time.Time
		today    string
		want     float64
	}{
		{"the first Monday counts the whole first week", fortyHours, nil, start, "2026-09-07", 40},
		{"the second week averages two weeks", fortyHours, nil, start, "2026-09-16", 40},
		{"a closed Friday in two weeks takes 4 hours off the average", fortyHours, friday, start, "2026-09-16", 36},
		{"a closed Friday in the only week takes 8 hours off", fortyHours, friday, start, "2026-09-08", 32},
		{"a week-long closure closes the whole first week", fortyHours, []roomClosure{{day("2026-09-01"), day("2026-09-20")}}, start, "2026-09-08", 0},
		{"a closure outside the term changes nothing", fortyHours, []roomClosure{{day("2026-08-01"), day("2026-09-06")}}, start, "2026-09-08", 40},
		{"a term starting on a Wednesday counts its whole first week", fortyHours, nil, day("2026-09-09"), "2026-09-09", 40},
		{"a closed day in the first week before the term starts counts", fortyHours, []roomClosure{{day("2026-09-07"), day("2026-09-07")}}, day("2026-09-09"), "2026-09-09", 32},
		{"before the term the first week is shown", fortyHours, nil, start, "2026-08-20", 40},
		{"after the term the whole term counts", fortyHours, nil, start, "2027-03-01", 40},
		{"no opening hours published is 0", roomWeek{}, nil, start, "2026-09-16", 0},
		{"weekend hours count too", roomWeek{0, 0, 0, 0, 0, 0, 120, 120}, nil, start, "2026-09-16", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := roomOpenHoursPerWeek(c.week, c.closures, c.start, end, day(c.today)); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRoomResponseRateWithinTwoSchoolDays(t *testing.T) {
	t.Parallel()
	ptr := func(s string) *time.Time { v := at(s); return &v }
	monday := "2026-09-07 10:00:00" // answered in time up to Wednesday 10:00
	friday := "2026-09-11 16:00:00" // the weekend does not count: up to Tuesday 16:00
	cases := []struct {
		name  string
		reqs  []roomRequest
		today string
		want  float64
	}{
		{"no requests is 100", nil, "2026-09-20", 100},
		{"answered exactly at the end of the second school day is in time", []roomRequest{{at(monday), ptr("2026-09-09 10:00:00")}}, "2026-09-20", 100},
		{"answered one second later is late", []roomRequest{{at(monday), ptr("2026-09-09 10:00:01")}}, "2026-09-20", 0},
		{"a Friday request answered on Monday is in time", []roomRequest{{at(friday), ptr("2026-09-14 09:00:00")}}, "2026-09-20", 100},
		{"a Friday request answered on Tuesday after its hour is late", []roomRequest{{at(friday), ptr("2026-09-15 16:00:01")}}, "2026-09-20", 0},
		{"a Saturday request has until Tuesday", []roomRequest{{at("2026-09-12 09:00:00"), ptr("2026-09-15 08:59:00")}}, "2026-09-20", 100},
		{"an open request still within its time is not counted", []roomRequest{{at(monday), nil}}, "2026-09-09", 100},
		{"an open request past its time counts as not answered", []roomRequest{{at(monday), nil}}, "2026-09-10", 0},
		{"four of five in time is 80", []roomRequest{
			{at(monday), ptr("2026-09-07 11:00:00")}, {at(monday), ptr("2026-09-08 11:00:00")}, {at(monday), ptr("2026-09-09 09:00:00")},
			{at(friday), ptr("2026-09-15 10:00:00")}, {at(friday), ptr("2026-09-16 10:00:00")}}, "2026-09-20", 80},
		{"two of three is rounded to 66.7", []roomRequest{
			{at(monday), ptr("2026-09-07 11:00:00")}, {at(monday), ptr("2026-09-08 11:00:00")}, {at(monday), nil}}, "2026-09-20", 66.7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := roomResponseRate(c.reqs, day(c.today)); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// The room kinds are rated like percentages: met at the target, on track from 90 % of
// it, at risk below, missed once the term is over.
func TestRoomIndicatorStatusAtTheEdges(t *testing.T) {
	t.Parallel()
	start, end := day("2026-09-01"), day("2026-12-09")
	cases := []struct {
		name          string
		kind          string
		value, target float64
		today         string
		want          string
	}{
		{"40 weekly hours of 40 is met", RoomOpenHours, 40, 40, "2026-09-10", Met},
		{"39.9 weekly hours of 40 is on track", RoomOpenHours, 39.9, 40, "2026-11-01", OnTrack},
		{"36 weekly hours of 40 is on track (exactly 90 %)", RoomOpenHours, 36, 40, "2026-11-01", OnTrack},
		{"35.9 weekly hours of 40 is at risk", RoomOpenHours, 35.9, 40, "2026-11-01", AtRisk},
		{"39.9 weekly hours of 40 after the term is missed", RoomOpenHours, 39.9, 40, "2026-12-10", Missed},
		{"no hours published is at risk", RoomOpenHours, 0, 40, "2026-09-01", AtRisk},
		{"80 % answered of 80 is met", RoomResponseRate, 80, 80, "2026-10-01", Met},
		{"79.9 % answered of 80 is on track", RoomResponseRate, 79.9, 80, "2026-10-01", OnTrack},
		{"71.9 % answered of 80 is at risk", RoomResponseRate, 71.9, 80, "2026-10-01", AtRisk},
		{"no requests (100) meets a target of 100", RoomResponseRate, 100, 100, "2026-10-01", Met},
		{"79.9 % answered of 80 after the term is missed", RoomResponseRate, 79.9, 80, "2026-12-10", Missed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Status(c.kind, c.value, c.target, start, end, day(c.today)); got != c.want {
				t.Errorf("Status(%s, %v, %v, %s) = %s, want %s", c.kind, c.value, c.target, c.today, got, c.want)
			}
		})
	}
}

func TestRoomIndicatorsAreValidated(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    Indicator
		field string // "" when valid
	}{
		{"weekly hours", Indicator{Code: "room", Name: "辅导室开放", Kind: RoomOpenHours, Target: 10}, ""},
		{"a whole week of hours", Indicator{Code: "room", Name: "辅导室开放", Kind: RoomOpenHours, Target: 168}, ""},
		{"more hours than a week has", Indicator{Code: "room", Name: "辅导室开放", Kind: RoomOpenHours, Target: 168.5}, "indicators[0].target"},
		{"no hours", Indicator{Code: "room", Name: "辅导室开放", Kind: RoomOpenHours, Target: 0}, "indicators[0].target"},
		{"hours with an activity type", Indicator{Code: "room", Name: "辅导室开放", Kind: RoomOpenHours, ActivityType: "room_hours", Target: 10}, "indicators[0].kind"},
		{"a response rate", Indicator{Code: "answers", Name: "预约及时答复", Kind: RoomResponseRate, Target: 90}, ""},
		{"a response rate of 100", Indicator{Code: "answers", Name: "预约及时答复", Kind: RoomResponseRate, Target: 100}, ""},
		{"a response rate above 100", Indicator{Code: "answers", Name: "预约及时答复", Kind: RoomResponseRate, Target: 100.1}, "indicators[0].target"},
		{"a response rate with a metric", Indicator{Code: "answers", Name: "预约及时答复", Kind: RoomResponseRate, Metric: "liaison_coverage", Target: 90}, "indicators[0].kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ValidateIndicators([]Indicator{c.in})
			switch {
			case c.field == "" && len(f) > 0:
				t.Fatalf("want valid, got %v", fault.Validation(f...))
			case c.field != "" && (len(f) == 0 || f[0].Field != c.field):
				t.Fatalf("want an error on %s, got %v", c.field, f)
			}
		})
	}
}
