package suppress

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// grid builds an r×c table with row margins, column margins and a grand total (added twice:
// once over the row totals, once over the column totals). Cell (i, j) is at i*c+j; row total i at
// r*c+i; column total j at r*c+r+j; the grand total last.
func grid(inner [][]int64) (Table, func(i, j int) int, func(i int) int, func(j int) int, int) {
	r, c := len(inner), len(inner[0])
	at := func(i, j int) int { return i*c + j }
	row := func(i int) int { return r*c + i }
	col := func(j int) int { return r*c + r + j }
	grand := r*c + r + c
	cells := make([]Cell, grand+1)
	var lines []Line
	for i := range r {
		l := Line{Total: row(i)}
		for j := range c {
			cells[at(i, j)].Value = inner[i][j]
			cells[row(i)].Value += inner[i][j]
			cells[col(j)].Value += inner[i][j]
			cells[grand].Value += inner[i][j]
			l.Parts = append(l.Parts, at(i, j))
		}
		lines = append(lines, l)
	}
	for j := range c {
		l := Line{Total: col(j)}
		for i := range r {
			l.Parts = append(l.Parts, at(i, j))
		}
		lines = append(lines, l)
	}
	rows, cols := Line{Total: grand}, Line{Total: grand}
	for i := range r {
		rows.Parts = append(rows.Parts, row(i))
	}
	for j := range c {
		cols.Parts = append(cols.Parts, col(j))
	}
	lines = append(lines, rows, cols)
	return Table{Cells: cells, Lines: lines}, at, row, col, grand
}

func suppressed(marks []Mark) []int {
	var out []int
	for i, m := range marks {
		if m != Shown {
			out = append(out, i)
		}
	}
	return out
}

func TestSuppressHandComputedFixtures(t *testing.T) {
	t.Parallel()
	noSmall, _, _, _, _ := grid([][]int64{{12, 10, 20}, {8, 12, 15}, {9, 30, 11}})
	oneSmall, at, _, _, _ := grid([][]int64{{2, 10, 20}, {8, 12, 15}, {9, 30, 11}})
	zeros, zat, _, zcol, _ := grid([][]int64{{0, 3, 12}, {0, 9, 14}})
	// District total (cell 3) over three schools, one of which has every case.
	district := Table{
		Cells:  []Cell{{0}, {0}, {7}, {7}},
		Lines:  []Line{{Total: 3, Parts: []int{0, 1, 2}}},
		Single: []bool{false, false, false, true},
	}
	// Term (cell 4) over its four months.
	term := Table{
		Cells: []Cell{{20}, {3}, {15}, {18}, {56}},
		Lines: []Line{{Total: 4, Parts: []int{0, 1, 2, 3}}},
	}
	// Weeks w1..w3 (0..2) and cumulative totals c1..c3 (3..5): c1 = w1, c2 = c1 + w2, c3 = c2 + w3.
	cumulative := Table{
		Cells: []Cell{{10}, {2}, {9}, {10}, {12}, {21}},
		Lines: []Line{
			{Total: 3, Parts: []int{0}},
			{Total: 4, Parts: []int{3, 1}},
			{Total: 5, Parts: []int{4, 2}},
		},
	}
	// A total of 2 over two cells of 1 with k = 3: "<3" everywhere would pin all three.
	pinnedByMarks := Table{
		Cells: []Cell{{1}, {1}, {2}},
		Lines: []Line{{Total: 2, Parts: []int{0, 1}}},
	}
	// School totals (0, 1) feed a district total (2); the schools' categories feed the schools.
	nested := Table{
		Cells: []Cell{{14}, {25}, {39}, {3}, {11}, {12}, {13}},
		Lines: []Line{
			{Total: 0, Parts: []int{3, 4}},
			{Total: 1, Parts: []int{5, 6}},
			{Total: 2, Parts: []int{0, 1}},
		},
	}
	tests := []struct {
		name   string
		table  Table
		k      int64
		small  []int
		hidden []int
	}{
		{name: "a table without small cells is shown whole", table: noSmall, k: 5},
		{
			name: "one small cell gets a complement in its row and its column",
			// (0,0)=2 → row 0 hides 10 at (0,1), column 0 hides 8 at (1,0); column 1 then holds
			// only (0,1) and hides its smallest other part 12 at (1,1); row 1 now has two.
			table:  oneSmall,
			k:      5,
			small:  []int{at(0, 0)},
			hidden: []int{at(0, 1), at(1, 0), at(1, 1)},
		},
		{
			name: "zero cells stay shown and are never used as complements",
			// (0,1)=3 → row 0 skips the zero and hides 12 at (0,2); column 1 hides 9 at (1,1);
			// row 1 skips its zero and hides 14 at (1,2).
			table:  zeros,
			k:      5,
			small:  []int{zat(0, 1)},
			hidden: []int{zat(0, 2), zat(1, 1), zat(1, 2)},
		},
		{
			name:   "a district cell fed by a single school is hidden with that school",
			table:  district,
			k:      5,
			hidden: []int{2, 3},
		},
		{
			name:   "a small month hides the smallest other month of its term",
			table:  term,
			k:      5,
			small:  []int{1},
			hidden: []int{2},
		},
		{
			name: "a small week cannot be derived from two cumulative totals",
			// w2 small → c2 = c1 + w2 hides c1, then c1 = w1 hides w1.
			table:  cumulative,
			k:      5,
			small:  []int{1},
			hidden: []int{0, 3},
		},
		{
			name:   "small cells whose marks alone pin them are turned into hidden cells",
			table:  pinnedByMarks,
			k:      3,
			hidden: []int{0, 1, 2},
		},
		{
			name: "a small category protects through the school total and the district total",
			// 3 → school 0 = 3 + 11 hides the 11 and no more: 3 + x = 14 leaves x in 10..13; the
			// school and district totals stay shown.
			table:  nested,
			k:      5,
			small:  []int{3},
			hidden: []int{4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			marks, err := Suppress(tc.table, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			var small, hidden []int
			for i, m := range marks {
				switch m {
				case Small:
					small = append(small, i)
				case Hidden:
					hidden = append(hidden, i)
				}
			}
			if !slices.Equal(small, tc.small) || !slices.Equal(hidden, tc.hidden) {
				t.Errorf("small %v hidden %v, want small %v hidden %v", small, hidden, tc.small, tc.hidden)
			}
			if rec := Recoverable(View(tc.table, marks), tc.table.Lines, tc.k); len(rec) != 0 {
				t.Errorf("recoverable %v", rec)
			}
			for i, c := range tc.table.Cells {
				if c.Value == 0 && marks[i] != Shown {
					t.Errorf("zero cell %d is %v", i, marks[i])
				}
			}
		})
	}
	// The zero column's total is shown too.
	marks, _ := Suppress(zeros, 5)
	if marks[zcol(0)] != Shown {
		t.Errorf("zero column total is %v", marks[zcol(0)])
	}
}

func TestRecoverableFindsWhatSubtractionGivesAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		view  []Published
		lines []Line
		want  []int
	}{
		{
			name:  "a lone suppressed part is the total minus the others",
			view:  []Published{{Shown, 20}, {Small, 0}, {Shown, 23}},
			lines: []Line{{Total: 2, Parts: []int{0, 1}}},
			want:  []int{1},
		},
		{
			name:  "two suppressed parts of one line are safe",
			view:  []Published{{Hidden, 0}, {Small, 0}, {Shown, 23}},
			lines: []Line{{Total: 2, Parts: []int{0, 1}}},
		},
		{
			name: "a hidden cell bounded below by the algorithm pins a small neighbour",
			// x0 + x1 = 2 with x0 small (>= 1) and x1 hidden (>= 1): both are 1.
			view:  []Published{{Small, 0}, {Hidden, 0}, {Shown, 2}},
			lines: []Line{{Total: 2, Parts: []int{0, 1}}},
			want:  []int{0, 1},
		},
		{
			name: "a week is the difference of two cumulative totals",
			// c1 = w1 shown, c2 = c1 + w2 shown: w2 = c2 - c1 even with w1 hidden.
			view:  []Published{{Hidden, 0}, {Small, 0}, {Shown, 10}, {Shown, 12}},
			lines: []Line{{Total: 2, Parts: []int{0}}, {Total: 3, Parts: []int{2, 1}}},
			want:  []int{0, 1},
		},
		{
			name: "elimination across rows and columns finds a corner of a rectangle",
			// a=3 b=2 c=3 d=6 with margins a+b, c+d, a+c, b+d: once d is shown, c = (c+d) - d,
			// a = (a+c) - c and b = (a+b) - a.
			view: []Published{
				{Small, 0}, {Hidden, 0}, {Hidden, 0}, {Shown, 6}, // a b c d
				{Shown, 5}, {Shown, 9}, {Shown, 6}, {Shown, 8}, // a+b, c+d, a+c, b+d
			},
			lines: []Line{
				{Total: 4, Parts: []int{0, 1}},
				{Total: 5, Parts: []int{2, 3}},
				{Total: 6, Parts: []int{0, 2}},
				{Total: 7, Parts: []int{1, 3}},
			},
			want: []int{0, 1, 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Recoverable(tc.view, tc.lines, 5); !slices.Equal(got, tc.want) {
				t.Errorf("Recoverable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSuppressRejectsBadInput(t *testing.T) {
	t.Parallel()
	ok := Table{Cells: []Cell{{1}, {2}, {3}}, Lines: []Line{{Total: 2, Parts: []int{0, 1}}}}
	tests := []struct {
		name  string
		table Table
		k     int64
		want  string
	}{
		{name: "a threshold below 3", table: ok, k: 2, want: "threshold"},
		{name: "a negative count", table: Table{Cells: []Cell{{-1}}}, k: 5, want: "out of"},
		{name: "a line that does not add up", table: Table{Cells: []Cell{{1}, {2}, {4}}, Lines: ok.Lines}, k: 5, want: "sum"},
		{name: "a line naming a cell twice", table: Table{Cells: []Cell{{1}, {2}}, Lines: []Line{{Total: 1, Parts: []int{0, 0}}}}, k: 5, want: "twice"},
		{name: "a line containing its own total", table: Table{Cells: []Cell{{0}, {0}}, Lines: []Line{{Total: 1, Parts: []int{0, 1}}}}, k: 5, want: "twice"},
		{name: "a line out of range", table: Table{Cells: []Cell{{1}}, Lines: []Line{{Total: 0, Parts: []int{3}}}}, k: 5, want: "range"},
		{name: "a line without parts", table: Table{Cells: []Cell{{1}}, Lines: []Line{{Total: 0}}}, k: 5, want: "no parts"},
		{name: "single flags of the wrong length", table: Table{Cells: []Cell{{1}}, Single: []bool{true, false}}, k: 5, want: "Single"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			marks, err := Suppress(tc.table, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Suppress = %v, %v; want an error about %q", marks, err, tc.want)
			}
			if tc.k < MinThreshold && !errors.Is(err, ErrThreshold) {
				t.Errorf("error %v is not ErrThreshold", err)
			}
		})
	}
}

func TestLabelRendersEachMark(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    int64
		m    Mark
		k    int64
		want string
	}{
		{name: "a shown count is its number", v: 42, m: Shown, k: 5, want: "42"},
		{name: "a shown zero is 0", v: 0, m: Shown, k: 5, want: "0"},
		{name: "a small cell is below the threshold", v: 3, m: Small, k: 5, want: "<5"},
		{name: "a small cell under a district threshold of 10", v: 7, m: Small, k: 10, want: "<10"},
		{name: "a hidden cell is a star", v: 120, m: Hidden, k: 5, want: "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Label(tc.v, tc.m, tc.k); got != tc.want {
				t.Errorf("Label = %q, want %q", got, tc.want)
			}
		})
	}
}
