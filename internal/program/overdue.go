package program

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Kinds of overdue tasks.
const (
	// OverdueTermPlan: the school has not submitted its term plan by the plan's deadline
	// (or the district returned it and it is not resubmitted).
	OverdueTermPlan = "term_plan_missing"
	// OverdueIndicator: the last date the school planned for an indicator has passed
	// and the indicator is not met.
	OverdueIndicator = "indicator_overdue"
	// MissedIndicator: the term is over and the indicator is not met.
	MissedIndicator = "indicator_missed"
	// OverdueTermSummary: the term ended more than SummaryGraceDays ago and the school
	// has not submitted its term summary.
	OverdueTermSummary = "term_summary_missing"
)

// SummaryGraceDays is how long after the end of a term its summary is due.
const SummaryGraceDays = 14

// OverdueTask is one task of a school that is past its date.
type OverdueTask struct {
	SchoolID      uuid.UUID  `json:"school_id"`
	SchoolName    string     `json:"school_name"`
	Kind          string     `json:"kind"`
	PlanID        *uuid.UUID `json:"plan_id"`
	PlanTitle     string     `json:"plan_title"`
	TermID        uuid.UUID  `json:"term_id"`
	TermName      string     `json:"term_name"`
	IndicatorCode string     `json:"indicator_code"`
	IndicatorName string     `json:"indicator_name"`
	DueOn         string     `json:"due_on"`
	DaysOverdue   int        `json:"days_overdue"`
}

// Overdue is the district's list of overdue tasks, per school.
type Overdue struct {
	Today string        `json:"today"`
	Items []OverdueTask `json:"items"`
}

// OverdueTasks lists the overdue tasks of the district's schools from its published
// plans (term plans, indicators) and its terms (term summaries), over the last year.
func (s *Service) OverdueTasks(ctx context.Context, a scope.Actor, district uuid.UUID) (Overdue, error) {
	today := s.today()
	day := today.Format(time.DateOnly)
	since := today.AddDate(-1, 0, 0).Format(time.DateOnly)
	out := Overdue{Today: day, Items: []OverdueTask{}}
	days := func(due string) int {
		d, _ := time.Parse(time.DateOnly, due)
		return int(today.Sub(d).Hours() / 24)
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := plans(ctx, tx, `p.district_id = $1 AND p.status = 'published' AND t.starts_on <= $2::date AND t.ends_on >= $3::date`, district, day, since)
		if err != nil {
			return err
		}
		for _, p := range list {
			id := p.ID
			task := func(r Row, kind, due string) OverdueTask {
				return OverdueTask{SchoolID: r.SchoolID, SchoolName: r.SchoolName, Kind: kind, PlanID: &id, PlanTitle: p.Title,
					TermID: p.TermID, TermName: p.Term.Name, DueOn: due, DaysOverdue: days(due)}
			}
			rows, err := targetSchools(ctx, tx, district, p)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				continue
			}
			ids := make([]uuid.UUID, len(rows))
			for i, r := range rows {
				ids[i] = r.SchoolID
			}
			// Term plans, and the answers of those submitted or accepted.
			type tp struct {
				status  string
				answers map[string]Answer
			}
			plansOf := map[uuid.UUID]tp{}
			trows, err := tx.Query(ctx, `SELECT school_id, status, answers FROM term_plans WHERE district_id = $1 AND plan_id = $2`, district, p.ID)
			if err != nil {
				return database.MapError(err)
			}
			for trows.Next() {
				var school uuid.UUID
				var x tp
				var answers []Answer
				if err := trows.Scan(&school, &x.status, &answers); err != nil {
					return database.MapError(err)
				}
				x.answers = map[string]Answer{}
				for _, ans := range answers {
					x.answers[ans.IndicatorCode] = ans
				}
				plansOf[school] = x
			}
			if err := trows.Err(); err != nil {
				return database.MapError(err)
			}
			cells, err := compute(ctx, tx, district, p, ids, today)
			if err != nil {
				return err
			}
			termOver := day > p.Term.EndsOn
			for _, r := range rows {
				x := plansOf[r.SchoolID]
				answered := x.status == TermPlanSubmitted || x.status == TermPlanAccepted
				if !answered && day > p.TermPlanDueOn && !termOver {
					out.Items = append(out.Items, task(r, OverdueTermPlan, p.TermPlanDueOn))
				}
				for i, c := range cells[r.SchoolID] {
					if c.Status == Met {
						continue
					}
					ind := p.Indicators[i]
					var t OverdueTask
					if termOver {
						t = task(r, MissedIndicator, p.Term.EndsOn)
					} else if ans, ok := x.answers[ind.Code]; answered && ok && len(ans.PlannedDates) > 0 && day > ans.PlannedDates[len(ans.PlannedDates)-1] {
						t = task(r, OverdueIndicator, ans.PlannedDates[len(ans.PlannedDates)-1])
					} else {
						continue
					}
					t.IndicatorCode, t.IndicatorName = ind.Code, ind.Name
					out.Items = append(out.Items, t)
				}
			}
		}
		// Term summaries not submitted after the grace period.
		rows, err := tx.Query(ctx, `SELECT s.id, s.name, t.id, t.name, (t.ends_on + $4::int)::text FROM terms t JOIN schools s ON s.district_id = t.district_id
			WHERE t.district_id = $1 AND t.ends_on + $4::int < $2::date AND t.ends_on >= $3::date
			  AND NOT EXISTS (SELECT 1 FROM term_summaries x WHERE x.district_id = t.district_id AND x.school_id = s.id AND x.term_id = t.id
			    AND x.status IN ('submitted', 'approved'))`, district, day, since, SummaryGraceDays)
		if err != nil {
			return database.MapError(err)
		}
		summaries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OverdueTask, error) {
			x := OverdueTask{Kind: OverdueTermSummary}
			err := r.Scan(&x.SchoolID, &x.SchoolName, &x.TermID, &x.TermName, &x.DueOn)
			x.DaysOverdue = days(x.DueOn)
			return x, err
		})
		if err != nil {
			return database.MapError(err)
		}
		out.Items = append(out.Items, summaries...)
		return nil
	})
	slices.SortStableFunc(out.Items, func(a, b OverdueTask) int {
		if c := strings.Compare(a.SchoolName, b.SchoolName); c != 0 {
			return c
		}
		return strings.Compare(a.DueOn, b.DueOn)
	})
	return out, err
}
