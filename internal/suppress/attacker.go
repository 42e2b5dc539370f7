package suppress

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
	"slices"
)

// inf is the upper bound of a cell nothing bounds.
const inf = math.MaxInt64

// maxPropagationRounds caps the bound propagation (every round tightens at least one bound by
// at least 1; the cap only matters for pathological chains, where the attacker stops early).
const maxPropagationRounds = 256

var errOverflow = errors.New("overflow")

// equation is sum(coef[j] * x[col[j]]) = rhs over the suppressed cells (columns).
type equation struct {
	col  []int
	coef []int64
	rhs  int64
}

// Recoverable is the attacker: given the published view (values of Shown cells, marks, lines,
// k), it returns the indices (ascending) of suppressed cells whose true value it can pin down,
// by exact elimination (the cell's unit vector lies in the row space of the lines restricted to
// suppressed cells) and by integer bound propagation (Small in [1, k-1], Hidden >= 1) iterated to
// a fixpoint over the lines and the eliminated rows, followed by probing of interval ends.
func Recoverable(view []Published, lines []Line, k int64) []int {
	a := newAttack(view, lines, k)
	if a == nil {
		return nil
	}
	return a.run()
}

type attack struct {
	cells  []int // suppressed cell of each column
	lo, hi []int64
	eqs    []equation

	all     []equation // eqs and the eliminated rows
	colEqs  [][]int    // equations of every column
	inQueue []bool
	queue   []int
	trail   []bound
	changed []int
	tmin    []int64
	tmax    []int64
}

type bound struct {
	col    int
	lo, hi int64
}

func newAttack(view []Published, lines []Line, k int64) *attack {
	n := len(view)
	a := &attack{}
	col := make([]int, n)
	for i, p := range view {
		col[i] = -1
		if p.Mark == Shown {
			continue
		}
		col[i] = len(a.cells)
		a.cells = append(a.cells, i)
		if p.Mark == Small {
			a.lo = append(a.lo, 1)
			a.hi = append(a.hi, max(1, k-1))
		} else {
			a.lo = append(a.lo, 1)
			a.hi = append(a.hi, inf)
		}
	}
	if len(a.cells) == 0 {
		return nil
	}
	coefs := make(map[int]int64)
lines:
	for _, l := range lines {
		clear(coefs)
		var rhs int64
		add := func(c int, s int64) bool {
			if c < 0 || c >= n {
				return false
			}
			if col[c] >= 0 {
				coefs[col[c]] += s
				return true
			}
			v, ok := mul(s, view[c].Value)
			if !ok {
				return false
			}
			rhs, ok = sub(rhs, v)
			return ok
		}
		if !add(l.Total, 1) {
			continue
		}
		for _, p := range l.Parts {
			if !add(p, -1) {
				continue lines
			}
		}
		var e equation
		for c, v := range coefs {
			if v != 0 {
				e.col = append(e.col, c)
			}
		}
		if len(e.col) == 0 {
			continue
		}
		slices.Sort(e.col)
		for _, c := range e.col {
			e.coef = append(e.coef, coefs[c])
		}
		e.rhs = rhs
		a.eqs = append(a.eqs, e)
	}
	return a
}

func (a *attack) run() []int {
	// Exact elimination, one connected set of columns at a time.
	derived := a.eliminate()
	a.all = append(slices.Clip(a.eqs), derived...)
	a.colEqs = make([][]int, len(a.cells))
	for i, e := range a.all {
		for _, c := range e.col {
			a.colEqs[c] = append(a.colEqs[c], i)
		}
	}
	a.inQueue = make([]bool, len(a.all))
	if !a.propagate(nil) {
		// An inconsistent publication: nothing can be claimed.
		return nil
	}
	a.trail = a.trail[:0]
	a.probe()
	var out []int
	for j, c := range a.cells {
		if a.lo[j] == a.hi[j] {
			out = append(out, c)
		}
	}
	return out
}

// eliminate returns the rows of the reduced row echelon form of every connected block of the
// system, scaled to coprime integers. A row with a single column pins that column: its bounds
// are set to the value.
func (a *attack) eliminate() []equation {
	m := len(a.cells)
	parent := make([]int, m)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, e := range a.eqs {
		for _, c := range e.col[1:] {
			parent[find(c)] = find(e.col[0])
		}
	}
	blockEqs := make(map[int][]int)
	var roots []int
	for i, e := range a.eqs {
		r := find(e.col[0])
		if _, ok := blockEqs[r]; !ok {
			roots = append(roots, r)
		}
		blockEqs[r] = append(blockEqs[r], i)
	}
	var out []equation
	for _, r := range roots {
		var cols []int
		for c := range m {
			if find(c) == r {
				cols = append(cols, c)
			}
		}
		rows, err := rrefInt(a.eqs, blockEqs[r], cols)
		if err != nil {
			rows = rrefRat(a.eqs, blockEqs[r], cols)
		}
		for _, e := range rows {
			if len(e.col) == 1 {
				c := e.col[0]
				if e.rhs%e.coef[0] == 0 {
					v := e.rhs / e.coef[0]
					a.lo[c], a.hi[c] = v, v
				}
			}
		}
		out = append(out, rows...)
	}
	return out
}

// rrefInt is a fraction-free Gauss-Jordan elimination with int64 rows kept coprime.
func rrefInt(eqs []equation, which []int, cols []int) ([]equation, error) {
	idx := make(map[int]int, len(cols))
	for i, c := range cols {
		idx[c] = i
	}
	w := len(cols)
	rows := make([][]int64, len(which))
	for i, ei := range which {
		r := make([]int64, w+1)
		for j, c := range eqs[ei].col {
			r[idx[c]] = eqs[ei].coef[j]
		}
		r[w] = eqs[ei].rhs
		rows[i] = r
	}
	rank := 0
	for c := 0; c < w && rank < len(rows); c++ {
		p := -1
		for i := rank; i < len(rows); i++ {
			if rows[i][c] != 0 && (p < 0 || abs(rows[i][c]) < abs(rows[p][c])) {
				p = i
			}
		}
		if p < 0 {
			continue
		}
		rows[rank], rows[p] = rows[p], rows[rank]
		pr := rows[rank]
		pv := pr[c]
		for i := range rows {
			if i == rank || rows[i][c] == 0 {
				continue
			}
			r := rows[i]
			e := r[c]
			g := gcd(abs(pv), abs(e))
			f1, f2 := pv/g, e/g
			var rg int64
			for j := range r {
				if r[j] == 0 && pr[j] == 0 {
					continue
				}
				x, ok1 := mul(r[j], f1)
				y, ok2 := mul(pr[j], f2)
				if !ok1 || !ok2 {
					return nil, errOverflow
				}
				v, ok := sub(x, y)
				if !ok {
					return nil, errOverflow
				}
				r[j] = v
				rg = gcd(rg, abs(v))
			}
			if rg > 1 {
				for j := range r {
					r[j] /= rg
				}
			}
		}
		rank++
	}
	var out []equation
	for _, r := range rows[:rank] {
		var e equation
		for j := range w {
			if r[j] != 0 {
				e.col = append(e.col, cols[j])
				e.coef = append(e.coef, r[j])
			}
		}
		e.rhs = r[w]
		if len(e.col) > 0 {
			out = append(out, e)
		}
	}
	return out, nil
}

// rrefRat is the exact rational fallback of rrefInt for systems whose integer rows overflow.
// Rows that do not fit int64 once scaled back to integers are dropped from propagation, but a
// single-column row still pins its cell.
func rrefRat(eqs []equation, which []int, cols []int) []equation {
	idx := make(map[int]int, len(cols))
	for i, c := range cols {
		idx[c] = i
	}
	w := len(cols)
	rows := make([][]*big.Rat, len(which))
	for i, ei := range which {
		r := make([]*big.Rat, w+1)
		for j := range r {
			r[j] = new(big.Rat)
		}
		for j, c := range eqs[ei].col {
			r[idx[c]].SetInt64(eqs[ei].coef[j])
		}
		r[w].SetInt64(eqs[ei].rhs)
		rows[i] = r
	}
	rank := 0
	tmp := new(big.Rat)
	for c := 0; c < w && rank < len(rows); c++ {
		p := -1
		for i := rank; i < len(rows); i++ {
			if rows[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[rank], rows[p] = rows[p], rows[rank]
		pr := rows[rank]
		inv := new(big.Rat).Inv(pr[c])
		for j := range pr {
			pr[j].Mul(pr[j], inv)
		}
		for i := range rows {
			if i == rank || rows[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(rows[i][c])
			for j := range rows[i] {
				rows[i][j].Sub(rows[i][j], tmp.Mul(f, pr[j]))
			}
		}
		rank++
	}
	var out []equation
	for _, r := range rows[:rank] {
		// Scale to integers: multiply by the lcm of the denominators.
		l := big.NewInt(1)
		for _, v := range r {
			d := v.Denom()
			g := new(big.Int).GCD(nil, nil, l, d)
			l.Mul(l, new(big.Int).Quo(d, g))
		}
		var e equation
		ok := true
		for j := 0; j <= w; j++ {
			if r[j].Sign() == 0 && j < w {
				continue
			}
			v := new(big.Int).Mul(r[j].Num(), new(big.Int).Quo(l, r[j].Denom()))
			if !v.IsInt64() {
				ok = false
				break
			}
			if j < w {
				e.col = append(e.col, cols[j])
				e.coef = append(e.coef, v.Int64())
			} else {
				e.rhs = v.Int64()
			}
		}
		if ok && len(e.col) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// propagate tightens the integer bounds over the equations with a work list, starting from the
// equations of the given columns (all equations when cols is nil), until nothing changes or the
// budget of maxPropagationRounds visits per equation is spent. It reports false when some bounds
// become empty (an inconsistent system).
func (a *attack) propagate(cols []int) bool {
	queue := a.queue[:0]
	if cols == nil {
		for i := range a.all {
			queue = append(queue, i)
			a.inQueue[i] = true
		}
	} else {
		for _, c := range cols {
			for _, i := range a.colEqs[c] {
				if !a.inQueue[i] {
					a.inQueue[i] = true
					queue = append(queue, i)
				}
			}
		}
	}
	ok := true
	budget := maxPropagationRounds * len(a.all)
	for head := 0; head < len(queue); head++ {
		i := queue[head]
		a.inQueue[i] = false
		if budget == 0 {
			continue
		}
		budget--
		changed, good := a.tighten(a.all[i])
		if !good {
			ok = false
			for _, j := range queue[head+1:] {
				a.inQueue[j] = false
			}
			break
		}
		for _, c := range changed {
			for _, j := range a.colEqs[c] {
				if !a.inQueue[j] {
					a.inQueue[j] = true
					queue = append(queue, j)
				}
			}
		}
		if head > 4096 && head*2 > len(queue) {
			queue = append(queue[:0], queue[head+1:]...)
			head = -1
		}
	}
	a.queue = queue[:0]
	return ok
}

// set changes the bounds of column c, remembering the old ones on the trail.
func (a *attack) set(c int, lo, hi int64) {
	a.trail = append(a.trail, bound{c, a.lo[c], a.hi[c]})
	a.lo[c], a.hi[c] = lo, hi
}

func (a *attack) undo(mark int) {
	for i := len(a.trail) - 1; i >= mark; i-- {
		b := a.trail[i]
		a.lo[b.col], a.hi[b.col] = b.lo, b.hi
	}
	a.trail = a.trail[:mark]
}

// tighten applies one equation to the bounds of its columns and returns the columns it changed.
func (a *attack) tighten(e equation) (changed []int, ok bool) {
	// Sum of the minimum and maximum of every term; infinite terms are counted apart.
	var minSum, maxSum int64
	var minInf, maxInf int
	tmin, tmax := a.tmin[:0], a.tmax[:0]
	a.changed = a.changed[:0]
	for j, c := range e.col {
		lo, hi, ok := termRange(e.coef[j], a.lo[c], a.hi[c])
		if !ok {
			return nil, true // overflow: skip this equation
		}
		tmin, tmax = append(tmin, lo), append(tmax, hi)
		if lo == -inf {
			minInf++
		} else if minSum, ok = add(minSum, lo); !ok {
			return nil, true
		}
		if hi == inf {
			maxInf++
		} else if maxSum, ok = add(maxSum, hi); !ok {
			return nil, true
		}
	}
	a.tmin, a.tmax = tmin, tmax
	for j, c := range e.col {
		// Range of the other terms.
		restMin, restMax := int64(-inf), int64(inf)
		if tmin[j] == -inf {
			if minInf == 1 {
				restMin = minSum
			}
		} else if minInf == 0 {
			restMin = minSum - tmin[j]
		}
		if tmax[j] == inf {
			if maxInf == 1 {
				restMax = maxSum
			}
		} else if maxInf == 0 {
			restMax = maxSum - tmax[j]
		}
		// coef * x in [rhs - restMax, rhs - restMin].
		lo, hi := a.lo[c], a.hi[c]
		cf := e.coef[j]
		if restMax != inf {
			if L, ok := sub(e.rhs, restMax); ok {
				if cf > 0 {
					lo = max(lo, ceilDiv(L, cf))
				} else {
					hi = min(hi, floorDiv(L, cf))
				}
			}
		}
		if restMin != -inf {
			if U, ok := sub(e.rhs, restMin); ok {
				if cf > 0 {
					hi = min(hi, floorDiv(U, cf))
				} else {
					lo = max(lo, ceilDiv(U, cf))
				}
			}
		}
		if lo > hi {
			return a.changed, false
		}
		if lo != a.lo[c] || hi != a.hi[c] {
			a.set(c, lo, hi)
			a.changed = append(a.changed, c)
		}
	}
	return a.changed, true
}

// probe checks the ends of every open interval: if fixing a column to its lower (upper) bound
// makes the propagation fail, that value is impossible and the bound moves inward. A column
// left with one value is recovered. Each column is probed a bounded number of times.
func (a *attack) probe() {
	const maxSteps = 4
	feasible := func(c int, v int64) bool {
		mark := len(a.trail)
		a.set(c, v, v)
		ok := a.propagate([]int{c})
		a.undo(mark)
		return ok
	}
	for c := range a.cells {
		for step := 0; step < maxSteps && a.lo[c] < a.hi[c]; step++ {
			moved := false
			if v := a.lo[c]; !feasible(c, v) {
				a.set(c, v+1, a.hi[c])
				moved = true
			}
			if v := a.hi[c]; v != inf && a.lo[c] < v && !feasible(c, v) {
				a.set(c, a.lo[c], v-1)
				moved = true
			}
			if !moved {
				break
			}
			if !a.propagate([]int{c}) {
				return
			}
		}
	}
	a.trail = a.trail[:0]
}

func termRange(coef, lo, hi int64) (int64, int64, bool) {
	x, ok := mul(coef, lo)
	if !ok {
		return 0, 0, false
	}
	if hi == inf {
		if coef > 0 {
			return x, inf, true
		}
		return -inf, x, true
	}
	y, ok := mul(coef, hi)
	if !ok {
		return 0, 0, false
	}
	if coef > 0 {
		return x, y, true
	}
	return y, x, true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	hi, lo := bits.Mul64(uint64(abs(a)), uint64(abs(b)))
	if hi != 0 || lo > math.MaxInt64/2 || abs(a) == math.MinInt64 || abs(b) == math.MinInt64 {
		return 0, false
	}
	v := int64(lo)
	if (a < 0) != (b < 0) {
		v = -v
	}
	return v, true
}

func add(a, b int64) (int64, bool) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) || s > math.MaxInt64/2 || s < -math.MaxInt64/2 {
		return 0, false
	}
	return s, true
}

func sub(a, b int64) (int64, bool) { return add(a, -b) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) == (b < 0)) {
		q++
	}
	return q
}
