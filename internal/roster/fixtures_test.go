package roster

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var update = flag.Bool("update", false, "rewrite the committed roster fixtures in testdata/")

const fixtureText = header +
	"2024001,张三,男,2012-03-05,七年级,七(1)班,在读,张建国,父亲,13800000001\n" +
	"2024002,李四,女,2012/4/6,七年级,七(1)班,,李红,母亲,13800000002\n" +
	"2024003,王五,男,2011.12.30,七年级,七(2)班,转出,王强,父亲,010-12345678\n"

// fixtures are the files a school might really upload, committed under testdata/.
func fixtures(t *testing.T) map[string][]byte {
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(fixtureText))
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	for r, line := range strings.Split(strings.TrimSpace(fixtureText), "\n") {
		for c, v := range strings.Split(line, ",") {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			f.SetCellStr("Sheet1", cell, v)
		}
	}
	var xlsx bytes.Buffer
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"roster_utf8.csv":     []byte(fixtureText),
		"roster_utf8_bom.csv": append([]byte("\xEF\xBB\xBF"), fixtureText...),
		"roster_gb18030.csv":  gb,
		"roster.xlsx":         xlsx.Bytes(),
		"roster_bad_row.csv":  []byte(strings.Replace(fixtureText, "2012/4/6", "2012/4/31", 1)),
	}
}

func TestCommittedFixtures(t *testing.T) {
	if *update {
		for name, data := range fixtures(t) {
			if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"roster_utf8.csv", "roster_utf8_bom.csv", "roster_gb18030.csv", "roster.xlsx"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("%s: %v (run go test -run TestCommittedFixtures -update)", name, err)
		}
		rows, errs, err := Parse(bytes.NewReader(data), name)
		if err != nil || len(errs) != 0 || len(rows) != 3 {
			t.Fatalf("%s: %v %+v %d", name, err, errs, len(rows))
		}
		if rows[2].Name != "王五" || rows[2].Status != "transferred" || rows[2].Guardians[0].Phone != "010-12345678" ||
			rows[1].BirthDate != time.Date(2012, 4, 6, 0, 0, 0, 0, time.UTC) {
			t.Fatalf("%s: %+v", name, rows)
		}
	}
	data, err := os.ReadFile("testdata/roster_bad_row.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, errs, err := Parse(bytes.NewReader(data), "roster_bad_row.csv")
	if err != nil || len(rows) != 0 || len(errs) != 1 || errs[0].Row != 3 || errs[0].Column != "出生日期" {
		t.Fatalf("bad row: %v %+v", err, errs)
	}
}
