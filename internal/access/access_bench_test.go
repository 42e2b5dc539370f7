package access_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/access"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/synthetic"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

type benchCase struct {
	name     string
	a        scope.Actor
	obj, act string
	want     bool
}

// policy200Schools loads an enforcer with the built-in rules and the role assignments
// of a synthetic district of 200 schools (a counselor and a leader per school, more in
// big schools) and returns the decisions benchmarked.
func policy200Schools(b *testing.B) (*access.Enforcer, []benchCase) {
	ctx := context.Background()
	db := testdb.New(b)
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	ring, _ := keyring.Parse("bench:eGlucWlhby1sb2NhbC1kZXZlbG9wbWVudC1rZXkhISE=", "")
	sum, err := synthetic.Generate(ctx, conn, ring, synthetic.Options{Schools: 200, Students: 200 * 300, Seed: 1, CaseFileRate: 0.01})
	if err != nil {
		b.Fatal(err)
	}
	en, err := access.NewEnforcer(db.App.Pool, slog.Default())
	if err != nil {
		b.Fatal(err)
	}
	var counselor uuid.UUID
	var other uuid.UUID
	if err := conn.QueryRow(ctx, `SELECT u.id, (SELECT id FROM schools WHERE id <> $2 ORDER BY id DESC LIMIT 1) FROM users u WHERE username = $1`,
		sum.FirstCounselor, sum.FirstSchool).Scan(&counselor, &other); err != nil {
		b.Fatal(err)
	}
	var lines int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&lines)
	b.Logf("policy: built-in rules + %d role assignments in %d schools", lines, sum.Schools)
	own := scope.Actor{UserID: counselor, DistrictID: sum.DistrictID, SchoolID: sum.FirstSchool, Kind: scope.School, Roles: []string{scope.Counselor}}
	foreign := own
	foreign.SchoolID = other
	return en, []benchCase{
		{"allow_own_school", own, "case_files", "read", true},
		{"deny_other_school", foreign, "case_files", "read", false},
		{"deny_other_object", own, "research", "write", false},
	}
}

// BenchmarkCasbinAllowed200Schools times one decision of the enforcer loaded with the
// policy of a 200-school district: the guard every API request passes. Target (issue
// 10): < 50 µs per decision, the first one after a policy load included.
func BenchmarkCasbinAllowed200Schools(b *testing.B) {
	en, cases := policy200Schools(b)
	for _, c := range cases {
		// A repeated decision comes from the cache (cleared on every policy load).
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if en.Allowed(c.a, c.obj, c.act) != c.want {
					b.Fatalf("decision is not %v", c.want)
				}
			}
		})
		// The first decision after a load: the policy index (no cache).
		b.Run("uncached_"+c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if access.Uncached(en, c.a, c.obj, c.act) != c.want {
					b.Fatalf("decision is not %v", c.want)
				}
			}
		})
	}
}

// BenchmarkCasbinMatcher200Schools times the same decisions with Casbin's own Enforce
// (govaluate runs the matcher over every rule): what the first decision after a load
// cost before the policy index, measured in the same run for comparison.
func BenchmarkCasbinMatcher200Schools(b *testing.B) {
	en, cases := policy200Schools(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if access.CasbinEnforce(en, "user:"+c.a.UserID.String(), c.a.Domain(), c.obj, c.act) != c.want {
					b.Fatalf("decision is not %v", c.want)
				}
			}
		})
	}
}
