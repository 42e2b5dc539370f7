package audit

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// PerSchool is the tail of a background job that works across schools in one
// transaction (reminders, escalations): it counts the work done per school and records
// one audit row in each school that got any, in the order the schools were first seen.
type PerSchool struct {
	actors []scope.Actor
	count  map[uuid.UUID]int
}

// Add notes n units of work (possibly none) for the school of a system actor a.
func (p *PerSchool) Add(a scope.Actor, n int) {
	if p.count == nil {
		p.count = map[uuid.UUID]int{}
	}
	if _, seen := p.count[a.SchoolID]; !seen {
		p.actors = append(p.actors, a)
	}
	p.count[a.SchoolID] += n
}

// Record scopes tx to each school that got work and records the entry made for its count.
func (p *PerSchool) Record(ctx context.Context, tx pgx.Tx, entry func(a scope.Actor, n int) Entry) error {
	for _, a := range p.actors {
		n := p.count[a.SchoolID]
		if n == 0 {
			continue
		}
		if err := database.SetScope(ctx, tx, a); err != nil {
			return fault.Wrap(err, "scope")
		}
		if err := Record(ctx, tx, a, entry(a, n)); err != nil {
			return err
		}
	}
	return nil
}
