package casefile

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// CatalogueFilter searches the archive catalogue (档案目录清单). Zero values match all.
type CatalogueFilter struct {
	Query         string     // student number prefix or part of the name
	HomeroomID    *uuid.UUID //
	GradeID       *uuid.UUID //
	RiskTier      string     //
	Status        string     //
	CounselorID   *uuid.UUID // one counselor's caseload
	ContactBefore *time.Time // last contact before (or never)
	ContactAfter  *time.Time // last contact on or after
	Page          page.Request
}

// Entry is one line of the catalogue.
type Entry struct {
	CaseFileID    uuid.UUID  `json:"case_file_id"`
	StudentID     uuid.UUID  `json:"student_id"`
	StudentNumber string     `json:"student_number"`
	StudentName   string     `json:"student_name"`
	GradeName     string     `json:"grade_name"`
	HomeroomName  string     `json:"homeroom_name"`
	Status        string     `json:"status"`
	RiskTier      string     `json:"risk_tier"`
	LastContactAt *time.Time `json:"last_contact_at"`
	OpenedAt      time.Time  `json:"opened_at"`
}

// Catalogue searches the school's case files by student number (the cursor order).
func (s *Service) Catalogue(ctx context.Context, a scope.Actor, school uuid.UUID, f CatalogueFilter) (page.Page[Entry], error) {
	size, err := f.Page.Size()
	if err != nil {
		return page.Page[Entry]{}, err
	}
	after, err := f.Page.After()
	if err != nil {
		return page.Page[Entry]{}, err
	}
	if f.RiskTier != "" && !slices.Contains(Tiers, f.RiskTier) {
		return page.Page[Entry]{}, fault.Validation(fault.Field("risk_tier", "invalid_value", "unknown risk tier"))
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return page.Page[Entry]{}, fault.Validation(fault.Field("status", "invalid_value", "unknown status"))
	}
	q := strings.TrimSpace(f.Query)
	var items []Entry
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.id, c.student_id, st.student_number, st.name, g.name, h.name, c.status, c.risk_tier, c.last_contact_at, c.opened_at
			FROM case_files c
			JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
			JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
			JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
			WHERE c.school_id = $1 AND st.student_number > $2
			  AND ($3 = '' OR st.student_number LIKE $3 || '%' OR st.name LIKE '%' || $3 || '%')
			  AND ($4::uuid IS NULL OR st.homeroom_id = $4) AND ($5::uuid IS NULL OR st.grade_id = $5)
			  AND ($6 = '' OR c.risk_tier = $6) AND ($7 = '' OR c.status = $7)
			  AND ($8::uuid IS NULL OR EXISTS (SELECT 1 FROM case_file_counselors k WHERE k.school_id = c.school_id AND k.case_file_id = c.id AND k.user_id = $8))
			  AND ($9::timestamptz IS NULL OR c.last_contact_at IS NULL OR c.last_contact_at < $9)
			  AND ($10::timestamptz IS NULL OR c.last_contact_at >= $10)
			ORDER BY st.student_number LIMIT $11`,
			school, after, q, f.HomeroomID, f.GradeID, f.RiskTier, f.Status, f.CounselorID, f.ContactBefore, f.ContactAfter, size+1)
		if err != nil {
			return database.MapError(err)
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
			var e Entry
			return e, r.Scan(&e.CaseFileID, &e.StudentID, &e.StudentNumber, &e.StudentName, &e.GradeName, &e.HomeroomName, &e.Status, &e.RiskTier, &e.LastContactAt, &e.OpenedAt)
		})
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.catalogue", ObjectType: "case_file"})
	})
	return page.Build(items, size, func(e Entry) string { return e.StudentNumber }), err
}
