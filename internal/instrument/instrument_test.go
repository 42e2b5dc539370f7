package instrument_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/instrument"
)

// sheet answers n items (codes "1".."n") so that they add up to total, filling the
// first items with max before the next ones.
func sheet(n, max, total int) map[string]int {
	out := map[string]int{}
	for i := 1; i <= n; i++ {
		v := min(max, total)
		out[strconv.Itoa(i)] = v
		total -= v
	}
	return out
}

func fields(err error) []string {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, f := range fe.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestBuiltinInstrumentsAreValid(t *testing.T) {
	t.Parallel()
	for _, d := range instrument.Builtin() {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v %v", d.Code, err, fields(err))
		}
		for _, it := range d.Items {
			if it.Text.ZH == "" || it.Text.EN == "" {
				t.Errorf("%s item %s lacks a translation", d.Code, it.Code)
			}
		}
	}
}

// Hand-computed totals at every band edge.
func TestScoringAtEveryBandEdge(t *testing.T) {
	t.Parallel()
	phq, gad := instrument.PHQ9(), instrument.GAD7()
	cases := []struct {
		d     instrument.Definition
		total int
		band  string
	}{
		{phq, 0, "minimal"}, {phq, 4, "minimal"}, {phq, 5, "mild"}, {phq, 9, "mild"}, {phq, 10, "moderate"}, {phq, 14, "moderate"},
		{phq, 15, "moderately_severe"}, {phq, 19, "moderately_severe"}, {phq, 20, "severe"}, {phq, 27, "severe"},
		{gad, 0, "minimal"}, {gad, 4, "minimal"}, {gad, 5, "mild"}, {gad, 9, "mild"}, {gad, 10, "moderate"}, {gad, 14, "moderate"},
		{gad, 15, "severe"}, {gad, 21, "severe"},
	}
	for _, c := range cases {
		answers := sheet(len(c.d.Items), 3, c.total)
		r, err := c.d.Score(answers)
		if err != nil {
			t.Fatalf("%s %d: %v", c.d.Code, c.total, err)
		}
		if r.Total != c.total || r.Band != c.band || !r.Valid {
			t.Errorf("%s total %d: got %+v, want band %s", c.d.Code, c.total, r, c.band)
		}
	}
}

// PHQ-9 item 9 at 1 or more is critical, whatever the total; at 0 it is not.
func TestPHQ9Item9IsCritical(t *testing.T) {
	t.Parallel()
	phq := instrument.PHQ9()
	for v, want := range map[int]bool{0: false, 1: true, 2: true, 3: true} {
		answers := sheet(9, 0, 0)
		answers["9"] = v
		r, err := phq.Score(answers)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(r.Critical, "9"); got != want || r.Total != v {
			t.Errorf("item 9 = %d: critical %v, total %d", v, r.Critical, r.Total)
		}
	}
}

func TestMissingAndWrongAnswersAreRefusedByName(t *testing.T) {
	t.Parallel()
	phq := instrument.PHQ9()
	answers := sheet(9, 3, 10)
	delete(answers, "4")
	delete(answers, "9")
	answers["2"] = 7
	answers["10"] = 1
	_, err := phq.Score(answers)
	if got, want := fields(err), []string{"answers.10", "answers.2", "answers.4", "answers.9"}; !slices.Equal(got, want) {
		t.Fatalf("refused fields %v, want %v (%v)", got, want, err)
	}
}

// A district instrument with reverse items, subscales, a critical item and a lie scale.
func custom() instrument.Definition {
	yes := []instrument.Option{{Value: 0, Label: instrument.Text{ZH: "否"}}, {Value: 1, Label: instrument.Text{ZH: "是"}}}
	return instrument.Definition{
		Code: "school-stress", Name: instrument.Text{ZH: "学业压力问卷"},
		Options: []instrument.Option{{Value: 1, Label: instrument.Text{ZH: "从不"}}, {Value: 2, Label: instrument.Text{ZH: "有时"}},
			{Value: 3, Label: instrument.Text{ZH: "经常"}}, {Value: 4, Label: instrument.Text{ZH: "总是"}}},
		Items: []instrument.Item{
			{Code: "a1", Text: instrument.Text{ZH: "担心考试"}},
			{Code: "a2", Text: instrument.Text{ZH: "作业做不完"}},
			{Code: "b1", Text: instrument.Text{ZH: "和同学相处愉快"}, Reverse: true},
			{Code: "b2", Text: instrument.Text{ZH: "想伤害自己"}},
			{Code: "l1", Text: instrument.Text{ZH: "我从来没有说过谎"}, Options: yes},
			{Code: "l2", Text: instrument.Text{ZH: "我从来没有生过气"}, Options: yes},
		},
		Subscales: []instrument.Subscale{{Code: "study", Items: []string{"a1", "a2"}}, {Code: "social", Items: []string{"b1", "b2"}}},
		Bands:     []instrument.Band{{Code: "low", Min: 4, Max: 8}, {Code: "mid", Min: 9, Max: 12}, {Code: "high", Min: 13, Max: 16}},
		Critical:  []instrument.Critical{{Item: "b2", MinValue: 3}},
		Validity:  &instrument.Validity{Items: []string{"l1", "l2"}, MaxScore: 1},
	}
}

func TestCustomInstrumentReverseSubscalesValidity(t *testing.T) {
	t.Parallel()
	d := custom()
	if err := d.Validate(); err != nil {
		t.Fatalf("%v %v", err, fields(err))
	}
	cases := []struct {
		name      string
		answers   map[string]int
		total     int
		study     int
		social    int
		band      string
		critical  bool
		validates bool
	}{
		// b1 = 1 ("never gets on well") reverses to 4.
		{"reverse", map[string]int{"a1": 1, "a2": 1, "b1": 1, "b2": 1, "l1": 0, "l2": 0}, 7, 2, 5, "low", false, true},
		{"all high", map[string]int{"a1": 4, "a2": 4, "b1": 1, "b2": 4, "l1": 1, "l2": 0}, 16, 8, 8, "high", true, true},
		{"lie scale", map[string]int{"a1": 2, "a2": 2, "b1": 4, "b2": 3, "l1": 1, "l2": 1}, 8, 4, 4, "low", true, false},
	}
	for _, c := range cases {
		r, err := d.Score(c.answers)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Total != c.total || r.Subscales["study"] != c.study || r.Subscales["social"] != c.social || r.Band != c.band ||
			slices.Contains(r.Critical, "b2") != c.critical || r.Valid != c.validates {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
}

func TestDefinitionValidationNamesEveryProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(d *instrument.Definition)
		field string
	}{
		{"bad code", func(d *instrument.Definition) { d.Code = "School Stress" }, "code"},
		{"no name", func(d *instrument.Definition) { d.Name.ZH = " " }, "name.zh"},
		{"no items", func(d *instrument.Definition) { d.Items = nil }, "items"},
		{"duplicate item", func(d *instrument.Definition) { d.Items[1].Code = "a1" }, "items[1].code"},
		{"item without text", func(d *instrument.Definition) { d.Items[2].Text.ZH = "" }, "items[2].text.zh"},
		{"one option", func(d *instrument.Definition) { d.Items[4].Options = d.Items[4].Options[:1] }, "items[4].options"},
		{"duplicate value", func(d *instrument.Definition) { d.Options[1].Value = 1 }, "options[1].value"},
		{"no options anywhere", func(d *instrument.Definition) { d.Options = nil }, "items[0].options"},
		{"subscale of an unknown item", func(d *instrument.Definition) { d.Subscales[0].Items = []string{"zz"} }, "subscales[0].items[0]"},
		{"subscale with a lie item", func(d *instrument.Definition) { d.Subscales[1].Items = append(d.Subscales[1].Items, "l1") }, "subscales[1].items"},
		{"critical unknown item", func(d *instrument.Definition) { d.Critical[0].Item = "zz" }, "critical[0].item"},
		{"critical threshold out of range", func(d *instrument.Definition) { d.Critical[0].MinValue = 9 }, "critical[0].min_value"},
		{"validity without items", func(d *instrument.Definition) { d.Validity.Items = nil }, "validity.items"},
		{"band gap", func(d *instrument.Definition) { d.Bands[1].Min = 10 }, "bands[1].min"},
		{"band overlap", func(d *instrument.Definition) { d.Bands[2].Min = 12 }, "bands[2].min"},
		{"band short of the top", func(d *instrument.Definition) { d.Bands[2].Max = 15 }, "bands[2].max"},
		{"no bands", func(d *instrument.Definition) { d.Bands = nil }, "bands"},
	}
	for _, c := range cases {
		d := custom()
		c.edit(&d)
		err := d.Validate()
		if !slices.Contains(fields(err), c.field) {
			t.Errorf("%s: want a problem on %s, got %v (%v)", c.name, c.field, fields(err), err)
		}
	}
}

// Any definition either is refused with field errors or scores its lowest sheet into
// one of its bands; nothing panics.
func FuzzDefinition(f *testing.F) {
	for _, d := range append(instrument.Builtin(), custom()) {
		b, _ := json.Marshal(d)
		f.Add(b)
	}
	f.Add([]byte(`{"code":"x","name":{"zh":"x"},"items":[{"code":"1","text":{"zh":"x"},"options":[{"value":0,"label":{"zh":"a"}},{"value":0,"label":{"zh":"b"}}]}],"bands":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d instrument.Definition
		if json.Unmarshal(b, &d) != nil {
			return
		}
		if err := d.Validate(); err != nil {
			if len(fields(err)) == 0 {
				t.Fatalf("a refusal without field errors: %v", err)
			}
			return
		}
		answers := map[string]int{}
		for _, it := range d.Items {
			opts := it.Options
			if len(opts) == 0 {
				opts = d.Options
			}
			lo := opts[0].Value
			for _, o := range opts {
				lo = min(lo, o.Value)
			}
			answers[it.Code] = lo
		}
		r, err := d.Score(answers)
		if err != nil {
			t.Fatalf("a valid definition refuses a complete sheet: %v", err)
		}
		if r.Band == "" {
			t.Fatalf("total %d falls in no band of %+v", r.Total, d.Bands)
		}
	})
}

func TestReliableChangeIndex(t *testing.T) {
	t.Parallel()
	d := custom()
	if _, ok := d.RCI(3, 9); ok {
		t.Fatal("an instrument without reliable_change must report no RCI")
	}
	d.ReliableChange = &instrument.ReliableChange{SD: 5, Reliability: 0.84}
	if err := d.Validate(); err != nil {
		t.Fatalf("valid definition refused: %v", err)
	}
	// SEdiff = 5 · √2 · √0.16 = 2.828...; (9 − 3) / 2.828 = 2.1213
	rci, ok := d.RCI(3, 9)
	if !ok || rci < 2.121 || rci > 2.122 {
		t.Fatalf("RCI(3, 9) = %v, %v; want 2.1213", rci, ok)
	}
	d.ReliableChange = &instrument.ReliableChange{SD: 0, Reliability: 1}
	got := fields(d.Validate())
	want := []string{"reliable_change.sd", "reliable_change.reliability"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fields = %v, want %v", got, want)
	}
}

// FuzzScoreAnswers: any answer sheet for any instrument is either refused with field
// errors, every one naming an answer, or scored to a total inside the instrument's
// range, in one of its bands, with critical items among its items; nothing panics.
func FuzzScoreAnswers(f *testing.F) {
	f.Add(uint8(0), []byte(`{"1":0,"2":1,"3":2,"4":3,"5":0,"6":1,"7":2,"8":3,"9":0}`))
	f.Add(uint8(1), []byte(`{"1":3,"2":3,"3":3,"4":3,"5":3,"6":3,"7":3}`))
	f.Add(uint8(2), []byte(`{"q1":-1,"q2":99,"nope":0}`))
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(0), []byte(`{"9":2147483647,"1":-2147483648}`))
	defs := append(instrument.Builtin(), custom())
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		d := defs[int(which)%len(defs)]
		var answers map[string]int
		if json.Unmarshal(b, &answers) != nil {
			return
		}
		r, err := d.Score(answers)
		if err != nil {
			fs := fields(err)
			if len(fs) == 0 {
				t.Fatalf("a refusal without field errors: %v", err)
			}
			for _, f := range fs {
				if !strings.HasPrefix(f, "answers.") {
					t.Fatalf("field error %q names no answer", f)
				}
			}
			return
		}
		lo, hi := d.TotalRange()
		if r.Total < lo || r.Total > hi {
			t.Fatalf("total %d outside %d..%d", r.Total, lo, hi)
		}
		if r.Band == "" {
			t.Fatalf("total %d in no band", r.Total)
		}
		for _, c := range r.Critical {
			if !slices.ContainsFunc(d.Items, func(it instrument.Item) bool { return it.Code == c }) {
				t.Fatalf("critical item %q is no item", c)
			}
		}
	})
}
