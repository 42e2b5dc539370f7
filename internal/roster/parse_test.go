package roster

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

const header = "学号,姓名,性别,出生日期,年级,班级,状态,监护人姓名,监护人关系,监护人电话\n"

func TestParseRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		csv      string
		rows     int
		errRow   int
		errCol   string
		errCode  string
		checkRow func(t *testing.T, r Row)
	}{
		{name: "a good row", csv: header + "2024001,张三,男,2012-03-05,七年级,七(1)班,在读,张父,父亲,13800000000\n", rows: 1,
			checkRow: func(t *testing.T, r Row) {
				if r.Gender != "male" || r.Status != "enrolled" || r.BirthDate != time.Date(2012, 3, 5, 0, 0, 0, 0, time.UTC) ||
					len(r.Guardians) != 1 || r.Guardians[0].Phone != "13800000000" || r.Line != 2 {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "date formats and aliases", csv: "student_number,name,gender,birth_date,department,homeroom\nA-1,李四,F,2012/3/5,机电专业科,机电2401班\nA-2,王五,女,2012.3.5,机电专业科,机电2401班\nA-3,赵六,女,20120305,机电专业科,机电2401班\nA-4,钱七,女,2012年3月5日,机电专业科,机电2401班\n", rows: 4},
		{name: "column order is free, cells are trimmed", csv: "班级,学号,出生日期,年级,姓名,性别\n 七(1)班 , 001 ,2012-01-01,七年级, 孙八 ,男\n", rows: 1,
			checkRow: func(t *testing.T, r Row) {
				if r.StudentNumber != "001" || r.Name != "孙八" || r.Homeroom != "七(1)班" {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "phone with +86 and spaces", csv: header + "1,张三,男,2012-03-05,七年级,七(1)班,,张父,父亲,+86 138 0000 0000\n", rows: 1},
		{name: "empty rows are skipped", csv: header + "\n,,,,\n1,张三,男,2012-03-05,七年级,七(1)班\n\n", rows: 1},
		{name: "missing required column", csv: "学号,姓名,性别,年级,班级\n1,张三,男,七年级,七(1)班\n", errRow: 1, errCol: "出生日期", errCode: "missing_column"},
		{name: "unknown column", csv: "学号,姓名,性别,出生日期,年级,班级,身份证号\n1,张三,男,2012-03-05,七年级,七(1)班,x\n", errRow: 1, errCol: "身份证号", errCode: "unknown_column"},
		{name: "required cell", csv: header + "1,,男,2012-03-05,七年级,七(1)班\n", errRow: 2, errCol: "姓名", errCode: "required"},
		{name: "bad gender", csv: header + "1,张三,未知,2012-03-05,七年级,七(1)班\n", errRow: 2, errCol: "性别", errCode: "invalid_value"},
		{name: "bad date", csv: header + "1,张三,男,2012-13-45,七年级,七(1)班\n", errRow: 2, errCol: "出生日期", errCode: "invalid_format"},
		{name: "future date", csv: header + "1,张三,男,2099-01-01,七年级,七(1)班\n", errRow: 2, errCol: "出生日期", errCode: "out_of_range"},
		{name: "bad student number", csv: header + "1 2,张三,男,2012-03-05,七年级,七(1)班\n", errRow: 2, errCol: "学号", errCode: "invalid_format"},
		{name: "bad status", csv: header + "1,张三,男,2012-03-05,七年级,七(1)班,休学\n", errRow: 2, errCol: "状态", errCode: "invalid_value"},
		{name: "guardian without phone", csv: header + "1,张三,男,2012-03-05,七年级,七(1)班,,张父,父亲,\n", errRow: 2, errCol: "监护人电话", errCode: "required"},
		{name: "bad phone", csv: header + "1,张三,男,2012-03-05,七年级,七(1)班,,张父,父亲,12345\n", errRow: 2, errCol: "监护人电话", errCode: "invalid_format"},
		{name: "duplicate student number", csv: header + "1,张三,男,2012-03-05,七年级,七(1)班\n1,李四,女,2012-03-05,七年级,七(1)班\n", errRow: 3, errCol: "学号", errCode: "duplicate"},
		{name: "header only", csv: header, errRow: 1, errCode: "empty_file"},
		{name: "empty file", csv: "", errRow: 1, errCode: "empty_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, errs, err := Parse(strings.NewReader(tt.csv), "roster.csv")
			if err != nil {
				t.Fatal(err)
			}
			if tt.errCode != "" {
				if len(errs) == 0 || errs[0].Row != tt.errRow || errs[0].Column != tt.errCol || errs[0].Code != tt.errCode {
					t.Fatalf("want error row %d column %q code %s, got %+v", tt.errRow, tt.errCol, tt.errCode, errs)
				}
				if len(rows) != 0 {
					t.Fatal("rows returned with errors")
				}
				return
			}
			if len(errs) != 0 || len(rows) != tt.rows {
				t.Fatalf("want %d rows, got %d rows and errors %+v", tt.rows, len(rows), errs)
			}
			if tt.checkRow != nil {
				tt.checkRow(t, rows[0])
			}
		})
	}
}

func TestParseEncodingsAndFormats(t *testing.T) {
	t.Parallel()
	text := header + "1,张三,男,2012-03-05,七年级,七(1)班,在读,张父,父亲,13800000000\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	for c, h := range strings.Split(strings.TrimSpace(header), ",") {
		cell, _ := excelize.CoordinatesToCellName(c+1, 1)
		f.SetCellValue("Sheet1", cell, h)
	}
	f.SetSheetRow("Sheet1", "A2", &[]any{1, "张三", "男", time.Date(2012, 3, 5, 0, 0, 0, 0, time.UTC), "七年级", "七(1)班", "在读", "张父", "父亲", "13800000000"})
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetCellStyle("Sheet1", "D2", "D2", dateStyle)
	var xlsx bytes.Buffer
	f.Write(&xlsx)
	for _, tc := range []struct {
		name, file string
		data       []byte
	}{
		{"utf-8", "a.csv", []byte(text)},
		{"utf-8 bom", "a.csv", append([]byte("\xEF\xBB\xBF"), text...)},
		{"gb18030", "a.csv", gb},
		{"xlsx with a real date cell", "a.xlsx", xlsx.Bytes()},
	} {
		rows, errs, err := Parse(bytes.NewReader(tc.data), tc.file)
		if err != nil || len(errs) != 0 || len(rows) != 1 {
			t.Fatalf("%s: %v %+v %d", tc.name, err, errs, len(rows))
		}
		r := rows[0]
		if r.Name != "张三" || r.Homeroom != "七(1)班" || r.BirthDate != time.Date(2012, 3, 5, 0, 0, 0, 0, time.UTC) {
			t.Fatalf("%s: %+v", tc.name, r)
		}
	}
	if _, _, err := Parse(strings.NewReader("x"), "a.txt"); err != ErrUnsupportedFormat {
		t.Fatalf("txt: %v", err)
	}
	if _, _, err := Parse(strings.NewReader("not a zip"), "a.xlsx"); err == nil {
		t.Fatal("a broken xlsx must fail")
	}
}

func TestTemplateParsesToItsExampleRow(t *testing.T) {
	t.Parallel()
	b, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	rows, errs, err := Parse(bytes.NewReader(b), "模板.xlsx")
	if err != nil || len(errs) != 0 || len(rows) != 1 || rows[0].Name != "张小明" {
		t.Fatalf("%v %+v %+v", err, errs, rows)
	}
}

func TestTooManyRows(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i <= MaxRows; i++ {
		fmt.Fprintf(&b, "S%07d,张三,男,2012-03-05,七年级,七(1)班\n", i)
	}
	_, errs, err := Parse(strings.NewReader(b.String()), "a.csv")
	if err != nil || len(errs) != 1 || errs[0].Code != "too_many_rows" {
		t.Fatalf("%v %+v", err, errs[:min(len(errs), 3)])
	}
}
