package appointment

import (
	"testing"
	"time"
)

func TestAddSchoolDaysSkipsWeekends(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, China)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct{ from, want string }{
		{"2026-12-07 10:00", "2026-12-09 10:00"}, // Monday -> Wednesday
		{"2026-12-10 16:00", "2026-12-14 16:00"}, // Thursday -> Monday
		{"2026-12-12 09:00", "2026-12-15 09:00"}, // Saturday -> Tuesday
	}
	for _, c := range cases {
		if got := AddSchoolDays(at(c.from), 2); !got.Equal(at(c.want)) {
			t.Errorf("AddSchoolDays(%s, 2) = %s, want %s", c.from, got, c.want)
		}
	}
}

func TestParseWindowsRefusesOverlapsAndBadTimes(t *testing.T) {
	if _, err := parseWindows("w", []Window{{1, "08:00", "12:00"}, {1, "13:30", "24:00"}, {2, "08:00", "12:00"}}); err != nil {
		t.Fatalf("valid windows refused: %v", err)
	}
	for _, ws := range [][]Window{
		{{1, "08:00", "12:00"}, {1, "11:59", "13:00"}},
		{{0, "08:00", "09:00"}},
		{{1, "9:00am", "10:00"}},
		{{1, "10:00", "10:00"}},
	} {
		if _, err := parseWindows("w", ws); err == nil {
			t.Errorf("accepted %v", ws)
		}
	}
}
