package suppress

import (
	"math/rand/v2"
	"testing"
)

// districtTable is 200 schools × 20 categories with school totals, category totals and the
// district total; a fifth of the counts are zero and about one in seven is small.
func districtTable(k int64) Table {
	rng := rand.New(rand.NewPCG(200, 20))
	inner := make([][]int64, 200)
	for i := range inner {
		inner[i] = make([]int64, 20)
		for j := range inner[i] {
			switch p := rng.IntN(100); {
			case p < 20:
			case p < 35:
				inner[i][j] = 1 + rng.Int64N(k-1)
			default:
				inner[i][j] = k + rng.Int64N(80)
			}
		}
	}
	t, _, _, _, _ := grid(inner)
	return t
}

func BenchmarkSuppress200Schools20Categories(b *testing.B) {
	t := districtTable(DefaultThreshold)
	var hidden int
	for b.Loop() {
		marks, err := Suppress(t, DefaultThreshold)
		if err != nil {
			b.Fatal(err)
		}
		hidden = len(suppressed(marks))
	}
	b.ReportMetric(float64(hidden), "suppressed")
	b.ReportMetric(float64(len(t.Cells)), "cells")
}

func BenchmarkRecoverable200Schools20Categories(b *testing.B) {
	t := districtTable(DefaultThreshold)
	marks, err := Suppress(t, DefaultThreshold)
	if err != nil {
		b.Fatal(err)
	}
	view := View(t, marks)
	for b.Loop() {
		if rec := Recoverable(view, t.Lines, DefaultThreshold); len(rec) != 0 {
			b.Fatal(rec)
		}
	}
}
