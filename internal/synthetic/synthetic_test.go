package synthetic_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/synthetic"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

const master = "test:eGlucWlhby1sb2NhbC1kZXZlbG9wbWVudC1rZXkhISE="

// fingerprint hashes every generated column that the seed decides (not ciphertexts,
// password hashes or load times).
const fingerprint = `SELECT md5(concat_ws('|',
  (SELECT string_agg(concat_ws(',', id, name, code, kind), ';' ORDER BY id) FROM schools),
  (SELECT string_agg(concat_ws(',', id, parent_id, kind, name), ';' ORDER BY id) FROM org_units),
  (SELECT string_agg(concat_ws(',', id, student_number, name, gender, birth_date, grade_id, homeroom_id, guardians::text), ';' ORDER BY id) FROM students),
  (SELECT string_agg(concat_ws(',', id, username, display_name), ';' ORDER BY id) FROM users),
  (SELECT string_agg(concat_ws(',', id, student_id, status, risk_tier, opened_at, last_contact_at), ';' ORDER BY id) FROM case_files),
  (SELECT string_agg(concat_ws(',', id, case_file_id, occurred_at, channel, participants::text, initiated_by, categories::text, duration_minutes,
     note IS NULL, next_steps IS NULL, private_note IS NULL, note_signed_at), ';' ORDER BY id) FROM counseling_sessions),
  (SELECT string_agg(concat_ws(',', id, student_id, instrument_code, taken_at, total, band, valid, critical::text), ';' ORDER BY id) FROM assessments)))`

func seed(t *testing.T, o synthetic.Options) (*testdb.DB, synthetic.Summary, string) {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ring, err := keyring.Parse(master, "")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := synthetic.Generate(ctx, conn, ring, o)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var fp string
	if err := admin.QueryRow(ctx, fingerprint).Scan(&fp); err != nil {
		t.Fatal(err)
	}
	return db, sum, fp
}

func TestSyntheticDistrictIsComplete_Deterministic_AndReadableThroughTheServices(t *testing.T) {
	t.Parallel()
	o := synthetic.Options{Schools: 2, Students: 300, Sessions: 1500, Assessments: 400, Seed: 7}
	db, sum, fp := seed(t, o)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	t.Run("counts match the flags", func(t *testing.T) {
		for q, want := range map[string]int{
			`SELECT count(*) FROM schools`: 2, `SELECT count(*) FROM students`: 300,
			`SELECT count(*) FROM counseling_sessions`: 1500, `SELECT count(*) FROM assessments`: 400,
			`SELECT count(*) FROM case_files`:                           sum.CaseFiles,
			`SELECT count(*) FROM case_file_keys`:                       sum.CaseFiles,
			`SELECT count(*) FROM school_data_keys`:                     2,
			`SELECT count(*) FROM risk_tier_changes`:                    sum.TierChanges,
			`SELECT count(*) FROM case_files WHERE risk_tier <> 'none'`: sum.TierChanges,
			`SELECT count(*) FROM memberships WHERE role = 'counselor'`: sum.Counselors,
			`SELECT count(*) FROM case_files c WHERE opened_at > (SELECT min(occurred_at) FROM counseling_sessions s WHERE s.case_file_id = c.id)`: 0,
		} {
			var n int
			if err := admin.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n != want {
				t.Errorf("%s = %d, want %d", q, n, want)
			}
		}
		if sum.CaseFiles == 0 || sum.Counselors == 0 {
			t.Fatalf("summary %+v has no case files or counselors", sum)
		}
	})

	t.Run("the same seed gives the same district, another seed another", func(t *testing.T) {
		_, _, again := seed(t, o)
		if again != fp {
			t.Fatalf("fingerprint %s, then %s", fp, again)
		}
		o2 := o
		o2.Seed = 8
		if _, _, other := seed(t, o2); other == fp {
			t.Fatal("seed 8 gave the district of seed 7")
		}
	})

	t.Run("a counselor reads sealed sessions through the service", func(t *testing.T) {
		ring, _ := keyring.Parse(master, "")
		var counselor, file uuid.UUID
		if err := admin.QueryRow(ctx, `SELECT k.user_id, k.case_file_id FROM case_file_counselors k
			JOIN counseling_sessions s ON s.school_id = k.school_id AND s.case_file_id = k.case_file_id
			WHERE k.school_id = $1 LIMIT 1`, sum.FirstSchool).Scan(&counselor, &file); err != nil {
			t.Fatal(err)
		}
		a := scope.Actor{UserID: counselor, DistrictID: sum.DistrictID, SchoolID: sum.FirstSchool, Kind: scope.School, Roles: []string{scope.Counselor}}
		svc := &casefile.Service{DB: db.App, Cipher: ring}
		list, err := svc.Timeline(ctx, a, sum.FirstSchool, file)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 || !strings.ContainsAny(list[0].Summary, "学生班") {
			t.Fatalf("timeline %+v: want decrypted Chinese summaries", list)
		}
		if _, err := svc.TierHistory(ctx, a, sum.FirstSchool, file); err != nil {
			t.Fatal(err)
		}
	})
}
