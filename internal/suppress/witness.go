package suppress

// A witness for a suppressed cell is a second table, consistent with everything published, in
// which that cell has another value: with one in hand, no attacker whatsoever (however clever, even
// one enumerating every integer table) can pin the cell down. Suppress looks for witnesses as
// small integer shifts d of the true table: d is zero on shown cells, every line still adds up
// (sum of coef*d = 0), and true+d keeps every suppressed cell within what its mark announces
// (Small in [1, k-1], Hidden >= 1). One witness covers every cell it moves.

// witnessShift bounds |d| per cell in the search; alternatives to real tables are nearly always
// cycles of ±1 (±2 on a total over two moved parts...).
const witnessShift = 3

// witnessBudget bounds the search nodes per attempt; a cell without a witness found within it is
// treated as recoverable (conservative: Suppress hides more).
const witnessBudget = 4000

type witnessSearch struct {
	a      *attack
	truth  []int64
	col    []int // column of each cell, -1 when shown
	lines  []Line
	marks  []Mark
	cells  []Cell
	budget int
	mark   int // trail length when the current find began
}

func newWitnessSearch(t Table, marks []Mark, k int64) *witnessSearch {
	w := &witnessSearch{col: make([]int, len(t.Cells)), lines: t.Lines, marks: marks, cells: t.Cells}
	a := &attack{}
	for i, m := range marks {
		w.col[i] = -1
		if m == Shown {
			continue
		}
		w.col[i] = len(a.cells)
		a.cells = append(a.cells, i)
		x := t.Cells[i].Value
		w.truth = append(w.truth, x)
		lo := max(-witnessShift, 1-x)
		hi := int64(witnessShift)
		if m == Small {
			hi = min(hi, k-1-x)
		}
		a.lo, a.hi = append(a.lo, lo), append(a.hi, hi)
	}
	for _, l := range t.Lines {
		var e equation
		if c := w.col[l.Total]; c >= 0 {
			e.col, e.coef = append(e.col, c), append(e.coef, 1)
		}
		for _, p := range l.Parts {
			if c := w.col[p]; c >= 0 {
				e.col, e.coef = append(e.col, c), append(e.coef, -1)
			}
		}
		if len(e.col) > 0 {
			a.eqs = append(a.eqs, e)
		}
	}
	a.all = a.eqs
	a.colEqs = make([][]int, len(a.cells))
	for i, e := range a.all {
		for _, c := range e.col {
			a.colEqs[c] = append(a.colEqs[c], i)
		}
	}
	a.inQueue = make([]bool, len(a.all))
	w.a = a
	return w
}

// unwitnessed returns the suppressed cells (ascending) for which no witness was found.
func (w *witnessSearch) unwitnessed() []int {
	a := w.a
	if len(a.cells) == 0 {
		return nil
	}
	if !a.propagate(nil) {
		// Cannot happen for a consistent table (d = 0 satisfies everything).
		return append([]int(nil), a.cells...)
	}
	a.trail = a.trail[:0]
	covered := make([]bool, len(a.cells))
	var out []int
	for c := range a.cells {
		if covered[c] {
			continue
		}
		if d := w.find(c); d != nil {
			for j, v := range d {
				if v != 0 {
					covered[j] = true
				}
			}
			continue
		}
		if w.scalable(c, covered) {
			continue
		}
		out = append(out, a.cells[c])
	}
	return out
}

// scalable covers the case where Suppress has hidden everything around c: when the connected set
// of suppressed cells holds no Small cell and every shown cell on its lines is zero, its lines
// are homogeneous with no upper bound, so doubling every cell of the set is a witness.
func (w *witnessSearch) scalable(c int, covered []bool) bool {
	a := w.a
	seen := map[int]bool{c: true}
	seenEq := map[int]bool{}
	queue := []int{c}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if w.marks[a.cells[x]] == Small {
			return false
		}
		for _, ei := range a.colEqs[x] {
			if seenEq[ei] {
				continue
			}
			seenEq[ei] = true
			for _, y := range a.all[ei].col {
				if !seen[y] {
					seen[y] = true
					queue = append(queue, y)
				}
			}
		}
	}
	// Every line touching the set: its shown members must be zero.
	for _, l := range w.lines {
		touches := false
		for _, m := range append([]int{l.Total}, l.Parts...) {
			if j := w.col[m]; j >= 0 && seen[j] {
				touches = true
			}
		}
		if !touches {
			continue
		}
		for _, m := range append([]int{l.Total}, l.Parts...) {
			if w.col[m] < 0 && w.cells[m].Value != 0 {
				return false
			}
		}
	}
	for j := range seen {
		covered[j] = true
	}
	return true
}

// find returns a shift d with d[c] != 0, or nil.
func (w *witnessSearch) find(c int) []int64 {
	a := w.a
	for _, side := range [2][2]int64{{1, a.hi[c]}, {a.lo[c], -1}} {
		if side[0] > side[1] {
			continue
		}
		mark := len(a.trail)
		w.mark = mark
		a.set(c, side[0], side[1])
		w.budget = witnessBudget
		var d []int64
		if a.propagate([]int{c}) && w.search(mark) {
			d = make([]int64, len(a.cells))
			for j := range d {
				if a.lo[j] == a.hi[j] {
					d[j] = a.lo[j]
				}
			}
		}
		a.undo(mark)
		if d != nil {
			return d
		}
	}
	return nil
}

// frontier reports whether equation ei cannot be satisfied by zeros on its open columns: its fixed
// columns do not cancel out, or an open column excludes zero.
func (w *witnessSearch) frontier(ei int) bool {
	a := w.a
	var fixed int64
	open := false
	for j, c := range a.all[ei].col {
		if a.lo[c] == a.hi[c] {
			fixed += a.all[ei].coef[j] * a.lo[c]
			continue
		}
		open = true
		if a.lo[c] > 0 || a.hi[c] < 0 {
			return true
		}
	}
	return open && fixed != 0
}

// search extends the current domains to a solution where every column not forced away from zero
// is zero. It branches only on frontier equations, found among the equations of the columns the
// search has touched (the trail from index from on: an equation only becomes a frontier when one
// of its columns changes, which puts that column on the trail); when there is none, zeros on the
// open columns complete the solution. It prefers a column that also sits in a second frontier
// equation (closing a cycle), and the value that balances the equation. On success the domains
// are left fixed at the solution for the caller to read (the caller undoes them).
func (w *witnessSearch) search(from int) bool {
	a := w.a
	w.budget--
	if w.budget < 0 {
		return false
	}
	eqi := -1
	for ; from < len(a.trail) && eqi < 0; from++ {
		for _, ei := range a.colEqs[a.trail[from].col] {
			if w.frontier(ei) {
				eqi = ei
				break
			}
		}
	}
	from-- // the entry that gave eqi: the equations of earlier entries were all balanced
	if eqi < 0 {
		// Zeros complete it: fix every open column to zero.
		for c := range a.cells {
			if a.lo[c] < a.hi[c] {
				a.set(c, 0, 0)
			}
		}
		return true
	}
	e := a.all[eqi]
	branch := -1
	var fixed, coef int64
	for j, c := range e.col {
		if a.lo[c] == a.hi[c] {
			fixed += e.coef[j] * a.lo[c]
			continue
		}
		if branch < 0 {
			branch, coef = c, e.coef[j]
		}
		closes := false
		for _, ej := range a.colEqs[c] {
			if ej != eqi && w.frontier(ej) {
				closes = true
				break
			}
		}
		if closes {
			branch, coef = c, e.coef[j]
			break
		}
	}
	if branch < 0 {
		return false // cannot happen: a frontier equation has an open column
	}
	// Try the value that balances the equation best first, then the others by distance.
	want := min(max(-fixed*coef, a.lo[branch]), a.hi[branch]) // coef is ±1
	lo, hi := a.lo[branch], a.hi[branch]
	for dist := int64(0); want-dist >= lo || want+dist <= hi; dist++ {
		for _, v := range [2]int64{want - dist, want + dist} {
			if v < lo || v > hi || (dist == 0 && v != want-dist) {
				continue
			}
			mark := len(a.trail)
			a.set(branch, v, v)
			if a.propagate([]int{branch}) && w.search(from) {
				return true
			}
			a.undo(mark)
			if w.budget < 0 {
				return false
			}
			if dist == 0 {
				break
			}
		}
	}
	return false
}
