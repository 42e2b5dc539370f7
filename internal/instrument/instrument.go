// Package instrument owns screening instruments (量表): their definitions (items with
// options and values, reverse-scored items, subscales, severity bands, critical items,
// an optional validity scale), the validation of a definition with precise errors, and
// the scoring of one answer sheet. It is pure: storage, campaigns and alerts build on it.
package instrument

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// Text is a string in the two languages of the product.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Option is one answer of an item and the value it scores.
type Option struct {
	Value int  `json:"value"`
	Label Text `json:"label"`
}

// Item is one question. Items without options use the instrument's options.
type Item struct {
	Code    string   `json:"code"`
	Text    Text     `json:"text"`
	Options []Option `json:"options,omitempty"`
	// Reverse scores the item as (lowest + highest − answer).
	Reverse bool `json:"reverse,omitempty"`
}

// Subscale sums some items.
type Subscale struct {
	Code  string   `json:"code"`
	Name  Text     `json:"name"`
	Items []string `json:"items"`
}

// Band is a severity band of the total: Min ≤ total ≤ Max.
type Band struct {
	Code  string `json:"code"`
	Min   int    `json:"min"`
	Max   int    `json:"max"`
	Label Text   `json:"label"`
}

// Critical is an item whose answer at or above MinValue must reach a counselor at once
// (e.g. PHQ-9 item 9, thoughts of self-harm), whatever the total.
type Critical struct {
	Item     string `json:"item"`
	MinValue int    `json:"min_value"`
}

// Validity is a lie scale: when the sum of its items exceeds MaxScore the sheet is not
// valid. Its items count toward no total or subscale.
type Validity struct {
	Items    []string `json:"items"`
	MaxScore int      `json:"max_score"`
}

// Definition is an instrument.
type Definition struct {
	Code      string     `json:"code"`
	Name      Text       `json:"name"`
	Stem      Text       `json:"stem"`
	Options   []Option   `json:"options,omitempty"`
	Items     []Item     `json:"items"`
	Subscales []Subscale `json:"subscales,omitempty"`
	Bands     []Band     `json:"bands"`
	Critical  []Critical `json:"critical,omitempty"`
	Validity  *Validity  `json:"validity,omitempty"`
	// Licensed instruments (e.g. SCL-90, MHT) may be enabled for a school only after the
	// district has recorded the licence.
	Licensed bool `json:"licensed,omitempty"`
	// ReliableChange, when set, lets trends report the reliable-change index (Jacobson &
	// Truax): RCI = (x2 − x1) / (SD · √2 · √(1 − r)).
	ReliableChange *ReliableChange `json:"reliable_change,omitempty"`
}

// ReliableChange holds the norm standard deviation of the total and its test–retest
// reliability.
type ReliableChange struct {
	SD          float64 `json:"sd"`
	Reliability float64 `json:"reliability"`
}

// RCI is the reliable-change index from total a to total b; ok is false when the
// instrument defines none. |RCI| > 1.96 is a reliable change.
func (d *Definition) RCI(a, b int) (rci float64, ok bool) {
	rc := d.ReliableChange
	if rc == nil || rc.SD <= 0 || rc.Reliability <= 0 || rc.Reliability >= 1 {
		return 0, false
	}
	return float64(b-a) / (rc.SD * math.Sqrt2 * math.Sqrt(1-rc.Reliability)), true
}

func (d *Definition) options(it Item) []Option {
	if len(it.Options) > 0 {
		return it.Options
	}
	return d.Options
}

func valueRange(opts []Option) (lo, hi int) {
	for i, o := range opts {
		if i == 0 || o.Value < lo {
			lo = o.Value
		}
		if i == 0 || o.Value > hi {
			hi = o.Value
		}
	}
	return lo, hi
}

func (d *Definition) scored(code string) bool {
	return d.Validity == nil || !slices.Contains(d.Validity.Items, code)
}

// TotalRange is the lowest and highest possible total.
func (d *Definition) TotalRange() (lo, hi int) {
	for _, it := range d.Items {
		if !d.scored(it.Code) {
			continue
		}
		l, h := valueRange(d.options(it))
		lo, hi = lo+l, hi+h
	}
	return lo, hi
}

var codeOK = func(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Validate checks a definition and names every problem precisely (field paths such as
// "items[3].options" or "bands[1].min").
func (d *Definition) Validate() error {
	var f []fault.FieldError
	add := func(field, code, msg string) { f = append(f, fault.Field(field, code, msg)) }
	if !codeOK(d.Code) {
		add("code", "invalid_value", "1 to 32 of a-z, 0-9, _ and -")
	}
	if strings.TrimSpace(d.Name.ZH) == "" {
		add("name.zh", "required", "the Chinese name is required")
	}
	checkOptions := func(field string, opts []Option) {
		if len(opts) < 2 || len(opts) > 10 {
			add(field, "out_of_range", "2 to 10 options")
		}
		seen := map[int]bool{}
		for i, o := range opts {
			if seen[o.Value] {
				add(fmt.Sprintf("%s[%d].value", field, i), "duplicate", "each option has its own value")
			}
			seen[o.Value] = true
			if o.Value < 0 || o.Value > 100 {
				add(fmt.Sprintf("%s[%d].value", field, i), "out_of_range", "values are 0 to 100")
			}
			if strings.TrimSpace(o.Label.ZH) == "" {
				add(fmt.Sprintf("%s[%d].label.zh", field, i), "required", "the Chinese label is required")
			}
		}
	}
	if len(d.Options) > 0 {
		checkOptions("options", d.Options)
	}
	if len(d.Items) == 0 || len(d.Items) > 200 {
		add("items", "out_of_range", "1 to 200 items")
	}
	items := map[string]bool{}
	for i, it := range d.Items {
		p := fmt.Sprintf("items[%d]", i)
		if !codeOK(it.Code) {
			add(p+".code", "invalid_value", "1 to 32 of a-z, 0-9, _ and -")
		} else if items[it.Code] {
			add(p+".code", "duplicate", "item codes are unique")
		}
		items[it.Code] = true
		if strings.TrimSpace(it.Text.ZH) == "" {
			add(p+".text.zh", "required", "the Chinese item text is required")
		}
		if len(it.Options) > 0 {
			checkOptions(p+".options", it.Options)
		} else if len(d.Options) == 0 {
			add(p+".options", "required", "the item has no options and the instrument none to share")
		}
	}
	refs := func(field string, list []string) {
		if len(list) == 0 {
			add(field, "required", "at least one item")
		}
		for j, c := range list {
			if !items[c] {
				add(fmt.Sprintf("%s[%d]", field, j), "invalid_value", fmt.Sprintf("no item %q", c))
			}
		}
	}
	subs := map[string]bool{}
	for i, s := range d.Subscales {
		p := fmt.Sprintf("subscales[%d]", i)
		if !codeOK(s.Code) || subs[s.Code] {
			add(p+".code", "invalid_value", "a unique code of a-z, 0-9, _ and -")
		}
		subs[s.Code] = true
		refs(p+".items", s.Items)
	}
	if d.Validity != nil {
		refs("validity.items", d.Validity.Items)
		if d.Validity.MaxScore < 0 {
			add("validity.max_score", "out_of_range", "zero or more")
		}
		for i, s := range d.Subscales {
			for _, c := range s.Items {
				if slices.Contains(d.Validity.Items, c) {
					add(fmt.Sprintf("subscales[%d].items", i), "invalid_value", fmt.Sprintf("item %q belongs to the validity scale", c))
				}
			}
		}
	}
	for i, c := range d.Critical {
		p := fmt.Sprintf("critical[%d]", i)
		if !items[c.Item] {
			add(p+".item", "invalid_value", fmt.Sprintf("no item %q", c.Item))
			continue
		}
		for _, it := range d.Items {
			if it.Code == c.Item {
				if lo, hi := valueRange(d.options(it)); c.MinValue <= lo || c.MinValue > hi {
					add(p+".min_value", "out_of_range", fmt.Sprintf("between %d (exclusive) and %d", lo, hi))
				}
			}
		}
	}
	if rc := d.ReliableChange; rc != nil {
		if !(rc.SD > 0 && rc.SD < 1000) {
			add("reliable_change.sd", "out_of_range", "a positive standard deviation")
		}
		if !(rc.Reliability > 0 && rc.Reliability < 1) {
			add("reliable_change.reliability", "out_of_range", "between 0 and 1 (exclusive)")
		}
	}
	if len(f) == 0 { // bands need a sound item list to compute the total range
		lo, hi := d.TotalRange()
		bands := slices.Clone(d.Bands)
		sort.SliceStable(bands, func(i, j int) bool { return bands[i].Min < bands[j].Min })
		if len(bands) == 0 {
			add("bands", "required", "at least one severity band")
		}
		next := lo
		codes := map[string]bool{}
		for i, b := range bands {
			p := fmt.Sprintf("bands[%d]", slices.Index(d.Bands, b))
			if !codeOK(b.Code) || codes[b.Code] {
				add(p+".code", "invalid_value", "a unique code of a-z, 0-9, _ and -")
			}
			codes[b.Code] = true
			if b.Max < b.Min {
				add(p+".max", "out_of_range", "max is below min")
			}
			if b.Min != next {
				add(p+".min", "invalid_value", fmt.Sprintf("bands must cover %d to %d without gaps or overlaps: expected %d", lo, hi, next))
			}
			next = b.Max + 1
			if i == len(bands)-1 && b.Max != hi {
				add(p+".max", "invalid_value", fmt.Sprintf("the last band must end at the highest total, %d", hi))
			}
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// Result is a scored sheet.
type Result struct {
	Total     int            `json:"total"`
	Subscales map[string]int `json:"subscales"`
	Band      string         `json:"band"`
	Critical  []string       `json:"critical"` // critical items answered at or above their threshold
	Valid     bool           `json:"valid"`    // false when the validity scale invalidates the sheet
}

// Score scores answers (item code → chosen option value). Every item must be answered
// with one of its options: missing items are refused by name, nothing is imputed.
func (d *Definition) Score(answers map[string]int) (Result, error) {
	var f []fault.FieldError
	scoredValue := map[string]int{}
	for _, it := range d.Items {
		v, ok := answers[it.Code]
		if !ok {
			f = append(f, fault.Field("answers."+it.Code, "required", "item "+it.Code+" is not answered"))
			continue
		}
		opts := d.options(it)
		if !slices.ContainsFunc(opts, func(o Option) bool { return o.Value == v }) {
			f = append(f, fault.Field("answers."+it.Code, "invalid_value", "not one of the item's options"))
			continue
		}
		if it.Reverse {
			lo, hi := valueRange(opts)
			v = lo + hi - v
		}
		scoredValue[it.Code] = v
	}
	for code := range answers {
		if !slices.ContainsFunc(d.Items, func(it Item) bool { return it.Code == code }) {
			f = append(f, fault.Field("answers."+code, "invalid_value", "no such item"))
		}
	}
	if len(f) > 0 {
		sort.Slice(f, func(i, j int) bool { return f[i].Field < f[j].Field })
		return Result{}, fault.Validation(f...)
	}
	r := Result{Subscales: map[string]int{}, Critical: []string{}, Valid: true}
	for _, it := range d.Items {
		if d.scored(it.Code) {
			r.Total += scoredValue[it.Code]
		}
	}
	for _, s := range d.Subscales {
		for _, c := range s.Items {
			r.Subscales[s.Code] += scoredValue[c]
		}
	}
	for _, b := range d.Bands {
		if r.Total >= b.Min && r.Total <= b.Max {
			r.Band = b.Code
		}
	}
	for _, c := range d.Critical {
		if answers[c.Item] >= c.MinValue {
			r.Critical = append(r.Critical, c.Item)
		}
	}
	if d.Validity != nil {
		lie := 0
		for _, c := range d.Validity.Items {
			lie += scoredValue[c]
		}
		r.Valid = lie <= d.Validity.MaxScore
	}
	return r, nil
}
