// Package suppress decides which cells of a published rollup (汇总) may be shown, so that nobody
// can single out a child, not even by subtracting one published number from another.
//
// # Model
//
// A Table is a set of cells (true counts of students, >= 0) and the linear constraints the public
// can see: every Line says that its Parts sum to its Total (row and column margins, a district
// total over its schools, a term over its months, a cumulative total over two periods...). Lines
// may overlap freely: a cell may sit in a row, a column and a time hierarchy, and a Total may be a
// Part of a higher line.
//
// Suppress marks every cell with 1..k-1 students Small (published as "<k"), every non-zero cell
// that draws on a single contributor Hidden (primary suppression), then hides further non-zero
// cells (complementary suppression, published as "*") until the attacker below cannot determine any
// suppressed cell. Zero cells are always shown: a zero singles out nobody.
//
// # The attacker's knowledge
//
// The attacker sees every Shown value, the mark of every suppressed cell, every Line and k, and
// knows this algorithm. From the algorithm he knows that a Small cell holds 1..k-1 students and
// that a Hidden cell holds at least 1 (a Hidden cell is never zero: complements are picked among
// non-zero shown cells, and a Small cell is only turned into a Hidden one when its "<k" mark
// would give it away). He may combine any number of lines (subtracting cumulative totals,
// differencing a district total and its other schools, adding margins...).
//
// # Guarantee
//
// Suppress returns only when every suppressed cell has a witness: a second integer table,
// consistent with everything published and with those ranges, in which that cell has another
// value (witness.go finds them as small shifts of the true table along cycles of the lines). With
// a witness no attacker with the knowledge above can pin the cell, however he computes, so the
// guarantee does not depend on how clever Recoverable is. Recoverable is the package's own
// attacker and the final audit: it substitutes the shown values into the lines, runs an exact
// fraction-free Gauss-Jordan elimination over the suppressed cells (a cell is determined when its
// unit vector lies in the row space), propagates integer interval bounds over the original and the
// eliminated rows to a fixpoint, and probes the ends of every remaining interval (is the system
// still consistent when the cell takes that value?). It is sound but not complete (no full integer
// program), so it must and does find nothing once every cell has a witness.
//
// # Limits
//
//   - "Knows the algorithm" stops at the ranges above. The attacker is not modelled as reading
//     the order of choices: complements prefer the smallest non-zero shown cell of a line, which
//     hints that a complement is not larger than the cells left shown in that line when it was
//     chosen, and a "*" on a would-be "<k" cell hints at the configuration that forced it. Using
//     that would mean simulating Suppress over every table consistent with the publication.
//   - Only what is passed in is protected: every publication that shares cells with this one
//     (another page, last month's export, a different breakdown of the same students) must be in
//     the same Table as lines, or be suppressed consistently by the caller.
//   - Witnesses shift each cell by at most witnessShift and the search per cell is bounded
//     (witnessBudget); a cell without a witness found is treated as at risk and more is hidden,
//     so the bound costs information, never safety.
//   - Complementary suppression is greedy (smallest cells first), not an optimal minimum-loss
//     solution; the 200 schools × 20 categories benchmark suppresses about a third of the cells
//     when a third of the counts are small.
package suppress

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// MinThreshold is the smallest threshold k a district may configure.
const MinThreshold = 3

// DefaultThreshold is the threshold used when a district configures none.
const DefaultThreshold = 5

// MaxValue bounds a cell's value (no rollup counts anywhere near that many students); it keeps
// the exact integer arithmetic of the attacker far from overflow.
const MaxValue = 1 << 40

// Cell is one published count. Value is the true count of students (>= 0).
type Cell struct{ Value int64 }

// Table is a set of cells and linear constraints the public can see: each Line says the
// cells in Parts sum to the cell Total (row/column margins, a district total over its
// schools, a term over its months...). Cells are addressed by index into Cells.
type Table struct {
	Cells []Cell
	Lines []Line
	// Single marks cells that draw on a single contributor (e.g. a district-level cell fed by one
	// school): they are suppressed like small cells when non-zero.
	Single []bool // optional, len == len(Cells) when set
}

// Line says that the cells Parts sum to the cell Total.
type Line struct {
	Total int
	Parts []int
}

// Mark says how a cell is published.
type Mark uint8

const (
	// Shown cells are published with their value.
	Shown Mark = iota
	// Small cells (primary suppression: 1..k-1 students) are published as "<k", e.g. "<5".
	Small
	// Hidden cells (complementary suppression, or a single contributor) are published as "*".
	Hidden
)

// String names the mark.
func (m Mark) String() string {
	switch m {
	case Shown:
		return "shown"
	case Small:
		return "small"
	case Hidden:
		return "hidden"
	}
	return "mark(" + strconv.Itoa(int(m)) + ")"
}

// Published is what the public sees of one cell. Value is only meaningful for Shown cells.
type Published struct {
	Mark  Mark
	Value int64
}

// Label renders a cell: the number for Shown, "<k" for Small and "*" for Hidden.
func Label(v int64, m Mark, k int64) string {
	switch m {
	case Shown:
		return strconv.FormatInt(v, 10)
	case Small:
		return "<" + strconv.FormatInt(k, 10)
	default:
		return "*"
	}
}

// View is the publication of t under marks: values of Shown cells only.
func View(t Table, marks []Mark) []Published {
	view := make([]Published, len(t.Cells))
	for i, c := range t.Cells {
		view[i].Mark = marks[i]
		if marks[i] == Shown {
			view[i].Value = c.Value
		}
	}
	return view
}

// ErrThreshold is returned for a threshold below MinThreshold.
var ErrThreshold = errors.New("suppress: threshold below the minimum of 3")

func validate(t Table, k int64) error {
	if k < MinThreshold {
		return ErrThreshold
	}
	if k > MaxValue {
		return fmt.Errorf("suppress: threshold %d too large", k)
	}
	n := len(t.Cells)
	if t.Single != nil && len(t.Single) != n {
		return fmt.Errorf("suppress: Single has %d entries for %d cells", len(t.Single), n)
	}
	for i, c := range t.Cells {
		if c.Value < 0 || c.Value > MaxValue {
			return fmt.Errorf("suppress: cell %d has value %d out of [0, 2^40]", i, c.Value)
		}
	}
	seen := make(map[int]int)
	for li, l := range t.Lines {
		if l.Total < 0 || l.Total >= n {
			return fmt.Errorf("suppress: line %d: total %d out of range", li, l.Total)
		}
		if len(l.Parts) == 0 {
			return fmt.Errorf("suppress: line %d has no parts", li)
		}
		clear(seen)
		seen[l.Total] = -1
		var sum int64
		for _, p := range l.Parts {
			if p < 0 || p >= n {
				return fmt.Errorf("suppress: line %d: part %d out of range", li, p)
			}
			if _, dup := seen[p]; dup {
				return fmt.Errorf("suppress: line %d names cell %d twice", li, p)
			}
			seen[p] = 1
			sum += t.Cells[p].Value
			if sum > math.MaxInt64/4 {
				return fmt.Errorf("suppress: line %d: parts overflow", li)
			}
		}
		if sum != t.Cells[l.Total].Value {
			return fmt.Errorf("suppress: line %d: parts sum to %d, total is %d", li, sum, t.Cells[l.Total].Value)
		}
	}
	return nil
}

// Suppress decides what to publish with threshold k (k >= 3; callers pass the district's
// threshold, default 5).
//
//  1. Primary: every cell with 1..k-1 students is Small; a Single cell with k or more students is
//     Hidden. Zero cells are shown.
//  2. Complementary: while a line has exactly one suppressed member (its Total counted), hide the
//     smallest non-zero shown part of that line (lowest index on ties), else its total.
//  3. Audit: every suppressed cell needs a witness (see the package doc), and Recoverable must
//     find nothing. While some cell lacks a witness or is recovered, hide the smallest non-zero
//     shown cell of a line through it (parts before totals; one per such cell per round, skipping
//     lines already widened in the round); if its lines have none, the smallest one of any line
//     touching its connected set of suppressed cells; if there is none either, the Small cells of
//     that set become Hidden.
//
// Every round hides at least one more cell or turns a Small cell into a Hidden one, so Suppress
// terminates; in the worst case every non-zero cell of a connected set is Hidden, which leaves
// only homogeneous equations between cells with no upper bound: doubling every cell of the set is
// a witness for all of them.
// The output depends only on the input (no randomness, no map order).
func Suppress(t Table, k int64) ([]Mark, error) {
	if err := validate(t, k); err != nil {
		return nil, err
	}
	n := len(t.Cells)
	marks := make([]Mark, n)
	for i, c := range t.Cells {
		switch {
		case c.Value >= 1 && c.Value < k:
			marks[i] = Small
		case c.Value >= k && t.Single != nil && t.Single[i]:
			marks[i] = Hidden
		}
	}
	lines := t.Lines
	linesOf := make([][]int, n)
	for li, l := range lines {
		linesOf[l.Total] = append(linesOf[l.Total], li)
		for _, p := range l.Parts {
			linesOf[p] = append(linesOf[p], li)
		}
	}
	// smallestShown returns the shown non-zero member of the given lines with the smallest value
	// (parts before totals, then lowest index), or -1.
	smallestShown := func(ls []int) int {
		best, bestTotal := -1, true
		consider := func(c int, isTotal bool) {
			if marks[c] != Shown || t.Cells[c].Value == 0 {
				return
			}
			if best < 0 || (bestTotal && !isTotal) ||
				(bestTotal == isTotal && (t.Cells[c].Value < t.Cells[best].Value ||
					(t.Cells[c].Value == t.Cells[best].Value && c < best))) {
				best, bestTotal = c, isTotal
			}
		}
		for _, li := range ls {
			for _, p := range lines[li].Parts {
				consider(p, false)
			}
			consider(lines[li].Total, true)
		}
		return best
	}
	complement := func() {
		for changed := true; changed; {
			changed = false
			for li, l := range lines {
				count := 0
				if marks[l.Total] != Shown {
					count++
				}
				for _, p := range l.Parts {
					if marks[p] != Shown {
						count++
					}
				}
				if count != 1 {
					continue
				}
				if c := smallestShown([]int{li}); c >= 0 {
					marks[c] = Hidden
					changed = true
				}
			}
		}
	}
	// component returns the suppressed cells connected to c through lines, and the lines
	// touching them.
	component := func(c int) (cells, ls []int) {
		seenCell := map[int]bool{c: true}
		seenLine := map[int]bool{}
		queue := []int{c}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			cells = append(cells, x)
			for _, li := range linesOf[x] {
				if seenLine[li] {
					continue
				}
				seenLine[li] = true
				ls = append(ls, li)
				for _, y := range append([]int{lines[li].Total}, lines[li].Parts...) {
					if marks[y] != Shown && !seenCell[y] {
						seenCell[y] = true
						queue = append(queue, y)
					}
				}
			}
		}
		slices.Sort(cells)
		slices.Sort(ls)
		return cells, ls
	}
	for {
		complement()
		rec := newWitnessSearch(t, marks, k).unwitnessed()
		if len(rec) == 0 {
			// Every suppressed cell has a witness, so no attacker can pin one; Recoverable must
			// agree (it is sound), and is run as the final audit all the same.
			if rec = Recoverable(View(t, marks), lines, k); len(rec) == 0 {
				return marks, nil
			}
		}
		changed := false
		widened := make(map[int]bool)
		for _, r := range rec {
			if slices.ContainsFunc(linesOf[r], func(li int) bool { return widened[li] }) {
				continue
			}
			if c := smallestShown(linesOf[r]); c >= 0 {
				marks[c] = Hidden
				changed = true
				for _, li := range linesOf[r] {
					widened[li] = true
				}
			}
		}
		if changed {
			continue
		}
		for _, r := range rec {
			cells, ls := component(r)
			if c := smallestShown(ls); c >= 0 {
				marks[c] = Hidden
				changed = true
				break
			}
			for _, x := range cells {
				if marks[x] == Small {
					marks[x] = Hidden
					changed = true
				}
			}
			if changed {
				break
			}
		}
		if !changed {
			// Unreachable when the attacker is sound: everything that could be hidden is.
			return nil, fmt.Errorf("suppress: cell %d stays recoverable with every cell around it hidden", rec[0])
		}
	}
}
