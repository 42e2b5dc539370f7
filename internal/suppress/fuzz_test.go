package suppress

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// tableFromBytes turns fuzz input into a consistent table and a threshold. The first byte picks
// k (3..10), the second the shape: a grid with margins, a free hierarchy of lines over earlier
// cells (totals feeding higher totals, overlapping lines, single-contributor flags), or the
// period tables of the differencing test seeded from the input.
func tableFromBytes(data []byte) (Table, int64) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	k := 3 + int64(next()%8)
	value := func() int64 {
		switch v := int64(next()); {
		case v < 80:
			return 0
		case v < 180:
			return 1 + v%(k-1)
		default:
			return k + v%40
		}
	}
	switch next() % 3 {
	case 0:
		r, c := 1+int(next()%4), 1+int(next()%4)
		inner := make([][]int64, r)
		for i := range inner {
			inner[i] = make([]int64, c)
			for j := range inner[i] {
				inner[i][j] = value()
			}
		}
		t, _, _, _, _ := grid(inner)
		return t, k
	case 1:
		var t Table
		for range 2 + int(next()%6) {
			t.Cells = append(t.Cells, Cell{value()})
		}
		for range int(next() % 6) {
			mask := uint16(next()) | uint16(next())<<8
			l := Line{Total: len(t.Cells)}
			var sum int64
			for i := range min(len(t.Cells), 16) {
				if mask&(1<<i) != 0 {
					l.Parts = append(l.Parts, i)
					sum += t.Cells[i].Value
				}
			}
			if len(l.Parts) == 0 {
				continue
			}
			t.Cells = append(t.Cells, Cell{sum})
			t.Lines = append(t.Lines, l)
		}
		single := next()
		if single&1 != 0 {
			t.Single = make([]bool, len(t.Cells))
			for i := range t.Single {
				t.Single[i] = single&(1<<(1+i%7)) != 0
			}
		}
		return t, k
	default:
		var seed [16]byte
		copy(seed[:], data)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
		return periodTables(rng, k), k
	}
}

func FuzzSuppress(f *testing.F) {
	f.Add([]byte{2, 0, 2, 2, 10, 200, 190, 3, 0, 250})
	f.Add([]byte{0, 1, 5, 100, 100, 0, 220, 90, 3, 0x0f, 0, 0x30, 0, 0x07, 0, 0x03})
	f.Add([]byte{2, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, k := tableFromBytes(data)
		marks, err := Suppress(tb, k)
		if err != nil {
			t.Fatalf("Suppress: %v\ntable %+v k %d", err, tb, k)
		}
		again, err := Suppress(tb, k)
		if err != nil || !slices.Equal(marks, again) {
			t.Fatalf("not deterministic: %v then %v (%v)", marks, again, err)
		}
		// The exact attacker is exponential in the worst case: it runs on the smaller tables.
		exact := len(suppressed(marks)) <= 40
		if err := protectionError(tb, k, marks, exact); err != nil && !errors.Is(err, errUndecided) {
			t.Fatalf("%v\ntable %+v k %d\nmarks %v", err, tb, k, marks)
		}
	})
}
