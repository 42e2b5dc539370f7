package program

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Tally is how many indicators of one school's published plans of one term are in one
// compliance status (the rollup measure plan_compliance).
type Tally struct {
	School    uuid.UUID
	TermStart time.Time // the first day of the plan's term
	Status    string
	N         int64
}

// ComplianceTally rates every published plan of the district for every target school as
// of today (a date, as Service.today) with exactly the rules of Compliance, and counts
// the school × indicator cells by status. tx must run with the district's scope; the
// rollup job writes the result into rollup cells.
func ComplianceTally(ctx context.Context, tx pgx.Tx, district uuid.UUID, today time.Time) ([]Tally, error) {
	list, err := plans(ctx, tx, `p.district_id = $1 AND p.status = 'published'`, district)
	if err != nil {
		return nil, err
	}
	type key struct {
		school uuid.UUID
		start  time.Time
		status string
	}
	counts := map[key]int64{}
	var order []key
	for _, p := range list {
		rows, err := targetSchools(ctx, tx, district, p)
		if err != nil {
			return nil, err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.SchoolID
		}
		cells, err := compute(ctx, tx, district, p, ids, today)
		if err != nil {
			return nil, err
		}
		start, _ := p.Term.bounds()
		for _, id := range ids {
			for _, c := range cells[id] {
				k := key{id, start, c.Status}
				if _, ok := counts[k]; !ok {
					order = append(order, k)
				}
				counts[k]++
			}
		}
	}
	out := make([]Tally, 0, len(order))
	for _, k := range order {
		out = append(out, Tally{School: k.school, TermStart: k.start, Status: k.status, N: counts[k]})
	}
	return out, nil
}
