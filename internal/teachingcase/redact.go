package teachingcase

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Removal is one identifier the draft removed or generalized: shown to the counselor
// next to the draft (the side-by-side preview), kept only in the sealed draft.
type Removal struct {
	Kind        string `json:"kind"`
	Text        string `json:"text"`
	Replacement string `json:"replacement"`
	Count       int    `json:"count"`
}

// identifier is a literal to remove wherever it appears.
type identifier struct {
	kind, text, replacement string
}

// patterns remove what no list names: phone and id numbers, long digit runs, dates.
var patterns = []struct {
	kind, replacement string
	re                *regexp.Regexp
}{
	{"id_number", "[证件号]", regexp.MustCompile(`\d{17}[\dXx]`)},
	{"phone", "[电话]", regexp.MustCompile(`1[3-9]\d{9}`)},
	{"date", "[日期]", regexp.MustCompile(`\d{4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}\s*日?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]`)},
	{"number", "[编号]", regexp.MustCompile(`\d{5,}`)},
}

// redactor removes identifiers from free text and remembers what it removed.
type redactor struct {
	ids     []identifier
	removed map[string]*Removal
	order   []string
}

func newRedactor(ids []identifier) *redactor {
	var keep []identifier
	seen := map[string]bool{}
	for _, id := range ids {
		id.text = strings.TrimSpace(id.text)
		// One-character fragments would wipe ordinary words; they are not identifiers.
		if utf8.RuneCountInString(id.text) < 2 || seen[id.text] {
			continue
		}
		seen[id.text] = true
		keep = append(keep, id)
	}
	// Longest first: "王小明" before "小明".
	sort.SliceStable(keep, func(i, j int) bool {
		return utf8.RuneCountInString(keep[i].text) > utf8.RuneCountInString(keep[j].text)
	})
	return &redactor{ids: keep, removed: map[string]*Removal{}}
}

func (r *redactor) note(kind, text, replacement string, n int) {
	if n == 0 {
		return
	}
	key := kind + "\x00" + text
	if x, ok := r.removed[key]; ok {
		x.Count += n
		return
	}
	r.removed[key] = &Removal{Kind: kind, Text: text, Replacement: replacement, Count: n}
	r.order = append(r.order, key)
}

// clean returns s with every identifier replaced.
func (r *redactor) clean(s string) string {
	for _, id := range r.ids {
		if n := strings.Count(s, id.text); n > 0 {
			r.note(id.kind, id.text, id.replacement, n)
			s = strings.ReplaceAll(s, id.text, id.replacement)
		}
	}
	for _, p := range patterns {
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			r.note(p.kind, m, p.replacement, 1)
			return p.replacement
		})
	}
	return s
}

func (r *redactor) removals() []Removal {
	out := make([]Removal, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, *r.removed[k])
	}
	return out
}

// leftover names the first identifier still in s: a literal of the original file or a
// pattern (phone, date, number). Empty when s is clean.
func leftover(literals []string, s string) string {
	for _, l := range literals {
		if utf8.RuneCountInString(l) >= 2 && strings.Contains(s, l) {
			return l
		}
	}
	for _, p := range patterns {
		if m := p.re.FindString(s); m != "" {
			return m
		}
	}
	return ""
}
