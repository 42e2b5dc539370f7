package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/xinqiao/xinqiao/internal/roster"
)

func rosterCSV(prefix string, n int, grade, homeroom string) string {
	var b strings.Builder
	b.WriteString("学号,姓名,性别,出生日期,年级,班级,状态,监护人姓名,监护人关系,监护人电话\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%05d,学生%d,%s,2012-03-%02d,%s,%s,在读,家长%d,母亲,1380000%04d\n",
			prefix, i, i, []string{"男", "女"}[i%2], 1+i%28, grade, homeroom, i, i)
	}
	return b.String()
}

func rosterXLSX(t testing.TB, csvText string) []byte {
	t.Helper()
	f := excelize.NewFile()
	for r, line := range strings.Split(strings.TrimSpace(csvText), "\n") {
		for c, v := range strings.Split(line, ",") {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			f.SetCellValue("Sheet1", cell, v)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gb18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRosterImportFormats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	leader := w.token("leader.s1")
	path := "/api/v1/schools/" + w.schools["s1"].String() + "/students/import"
	tests := []struct {
		name, file string
		content    []byte
	}{
		{"UTF-8 CSV", "roster.csv", []byte(rosterCSV("U", 30, "七年级", "七(1)班"))},
		{"UTF-8 CSV with BOM", "roster.csv", append([]byte("\xEF\xBB\xBF"), rosterCSV("B", 30, "七年级", "七(2)班")...)},
		{"GB18030 CSV", "名册.csv", gb18030(t, rosterCSV("G", 30, "八年级", "八(1)班"))},
		{"XLSX", "roster.xlsx", rosterXLSX(t, rosterCSV("X", 30, "九年级", "九(1)班"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.scalar(`SELECT count(*) FROM students WHERE school_id = $1`, w.schools["s1"])
			r := w.upload(leader, path, tt.file, tt.content)
			if r.status != 200 {
				t.Fatalf("import: %d %s", r.status, r.body)
			}
			var res roster.ImportResult
			r.decode(t, &res)
			if res.Total != 30 || res.Created != 30 || res.Updated != 0 {
				t.Fatalf("first import: %+v", res)
			}
			// Importing the same file again updates instead of duplicating.
			r = w.upload(leader, path, tt.file, tt.content)
			r.decode(t, &res)
			if r.status != 200 || res.Created != 0 || res.Updated != 30 {
				t.Fatalf("re-import: %d %+v", r.status, res)
			}
			if after := w.scalar(`SELECT count(*) FROM students WHERE school_id = $1`, w.schools["s1"]); after != before+30 {
				t.Fatalf("want %d students, have %d", before+30, after)
			}
		})
	}
	// Names survive the encodings.
	if n := w.scalar(`SELECT count(*) FROM students WHERE student_number = 'G00007' AND name = '学生7' AND guardians->0->>'relation' = '母亲'`); n != 1 {
		t.Fatal("GB18030 text was not decoded")
	}
}

func TestRosterImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	leader := w.token("leader.s1")
	path := "/api/v1/schools/" + w.schools["s1"].String() + "/students/import"
	count := func() int { return w.scalar(`SELECT count(*) FROM students`) }
	before := count()

	bad := strings.Replace(rosterCSV("E", 20, "七年级", "七(1)班"), "2012-03-08", "2012-13-45", 1) // row 9
	r := w.upload(leader, path, "roster.csv", []byte(bad))
	if r.status != 422 {
		t.Fatalf("want 422, got %d %s", r.status, r.body)
	}
	p := w.problem(t, r)
	if len(p.Errors) != 1 || p.Errors[0].Row != 9 || p.Errors[0].Column != "出生日期" {
		t.Fatalf("want one error at row 9, column 出生日期: %s", r.body)
	}
	unknown := rosterCSV("H", 5, "七年级", "七(9)班")
	r = w.upload(leader, path, "roster.csv", []byte(unknown))
	p = w.problem(t, r)
	if r.status != 422 || len(p.Errors) != 5 || p.Errors[0].Code != "unknown_homeroom" || p.Errors[0].Row != 2 {
		t.Fatalf("unknown homeroom: %d %s", r.status, r.body)
	}
	if count() != before {
		t.Fatal("a refused import wrote students")
	}
	// With create_missing_units the org tree grows to fit the file.
	r = w.upload(leader, path, "roster.csv", []byte(unknown), "create_missing_units", "true")
	if r.status != 200 || count() != before+5 {
		t.Fatalf("create missing units: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name, file string
		content    []byte
		status     int
	}{
		{"text file", "roster.txt", []byte("hello"), 415},
		{"pdf", "roster.pdf", []byte("%PDF-1.4"), 415},
		{"xlsx that is not a zip", "roster.xlsx", []byte("not a zip"), 422},
		{"empty csv", "roster.csv", []byte(""), 422},
		{"header only", "roster.csv", []byte("学号,姓名,性别,出生日期,年级,班级\n"), 422},
	} {
		r := w.upload(leader, path, tc.file, tc.content)
		if r.status != tc.status {
			t.Errorf("%s: want %d, got %d %s", tc.name, tc.status, r.status, r.body)
		}
		w.problem(t, r)
	}
	if count() != before+5 {
		t.Fatal("a refused import wrote students")
	}
	// A body that is not multipart is refused.
	if r := w.do(leader, "POST", path, map[string]any{"file": "x"}); r.status != 415 {
		t.Fatalf("json body: %d", r.status)
	}
}

func TestRosterTemplateRoundTrips(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+w.schools["s1"].String()+"/students/import-template", nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("template: %d %s", r.status, r.header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("学生名册")
	if err != nil || len(rows) < 1 || rows[0][0] != "学号" || rows[0][1] != "姓名" {
		t.Fatalf("template headers: %v %v", rows, err)
	}
}

// BenchmarkRosterImport10000 imports a 10,000-row CSV through the service: parsing,
// validation against the org tree, COPY and upsert in one transaction.
func BenchmarkRosterImport10000(b *testing.B) {
	w := newWorld(b)
	content := []byte(rosterCSV("P", 10000, "七年级", "七(1)班"))
	svc := &roster.Service{DB: w.db.App}
	leader := w.leaderActor(b, "s1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, errs, err := roster.Parse(bytes.NewReader(content), "roster.csv")
		if err != nil || len(errs) > 0 {
			b.Fatal(err, errs)
		}
		if _, err := svc.Import(context.Background(), leader, w.schools["s1"], rows, roster.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
