package casefile_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// BenchmarkCatalogue300k searches the archive catalogue of one school in a district of
// 200 schools and 300,000 students (60,000 case files), through the service with RLS
// and the audit row, as a counselor does.
func BenchmarkCatalogue300k(b *testing.B) {
	db := testdb.New(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	district, counselor := uuid.New(), uuid.New()
	for _, sql := range []string{
		`INSERT INTO districts (id, name, code) VALUES ('` + district.String() + `', '基准区', 'bench')`,
		`INSERT INTO schools (id, district_id, name, code, kind)
		 SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, '` + district.String() + `', '学校' || i, 'b' || i, 'k12' FROM generate_series(1, 200) i`,
		`INSERT INTO org_units (school_id, id, district_id, kind, name)
		 SELECT id, gen_random_uuid(), district_id, 'grade', '七年级' FROM schools`,
		`INSERT INTO org_units (school_id, id, district_id, parent_id, kind, name)
		 SELECT g.school_id, gen_random_uuid(), g.district_id, g.id, 'homeroom', '七(' || n || ')班' FROM org_units g, generate_series(1, 30) n WHERE g.kind = 'grade'`,
		`INSERT INTO students (school_id, id, student_number, name, gender, birth_date, grade_id, homeroom_id)
		 SELECT h.school_id, gen_random_uuid(), 'S' || lpad((row_number() OVER ())::text, 7, '0'), '学生' || n, CASE WHEN n % 2 = 0 THEN 'male' ELSE 'female' END,
		        date '2012-01-01' + (n % 365), h.parent_id, h.id
		 FROM org_units h, generate_series(1, 50) n WHERE h.kind = 'homeroom'`,
		`INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ('` + counselor.String() + `', '` + district.String() + `', 'bench.counselor', '咨询师', 'x')`,
		`INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role)
		 VALUES (gen_random_uuid(), '` + counselor.String() + `', '` + district.String() + `', 'school', '00000000-0000-4000-8000-000000000001', 'counselor')`,
		`INSERT INTO case_files (school_id, id, student_id, opened_by, risk_tier, last_contact_at)
		 SELECT school_id, gen_random_uuid(), id, '` + counselor.String() + `',
		        (ARRAY['none','none','watch','elevated','high','crisis'])[1 + abs(hashtext(id::text)) % 6], now() - (abs(hashtext(name)) % 300) * interval '1 day'
		 FROM students WHERE abs(hashtext(id::text)) % 5 = 0`,
		`INSERT INTO case_file_counselors (school_id, case_file_id, user_id) SELECT school_id, id, opened_by FROM case_files`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql[:40], err)
		}
	}
	var students, files int
	conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM students), (SELECT count(*) FROM case_files)`).Scan(&students, &files)
	b.Logf("%d students, %d case files in 200 schools", students, files)
	school := uuid.MustParse("00000000-0000-4000-8000-000000000001")
	svc := &casefile.Service{DB: db.App}
	a := scope.Actor{UserID: counselor, DistrictID: district, SchoolID: school, Kind: scope.School, Roles: []string{scope.Counselor}}
	month := time.Now().AddDate(0, -1, 0)
	filters := map[string]casefile.CatalogueFilter{
		"all":            {},
		"name":           {Query: "学生1"},
		"number_prefix":  {Query: "S00000"},
		"tier_high":      {RiskTier: "high"},
		"caseload":       {CounselorID: &counselor},
		"no_contact_30d": {ContactBefore: &month},
	}
	run := func(prefix string) {
		for name, f := range filters {
			b.Run(prefix+name, func(b *testing.B) {
				f.Page = page.Request{Limit: 50}
				for i := 0; i < b.N; i++ {
					if _, err := svc.Catalogue(ctx, a, school, f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	run("")
	// The same searches when the school restricts counselors to their own caseload: the
	// restrictive policy checks the assignment of every candidate row.
	if _, err := conn.Exec(ctx, `INSERT INTO school_settings (school_id, caseload_only) VALUES ($1, true)`, school); err != nil {
		b.Fatal(err)
	}
	run("caseload_only/")
}
