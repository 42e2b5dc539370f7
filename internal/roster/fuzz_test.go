package roster

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// FuzzParse: no input makes Parse panic, and every error points inside the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "1,张三,男,2012-03-05,七年级,七(1)班,在读,张父,父亲,13800000000\n"))
	f.Add([]byte("学号,姓名\n\"unterminated"))
	f.Add([]byte("\xEF\xBB\xBF学号,姓名,性别,出生日期,年级,班级\n1,a,男,41000,g,h\n"))
	f.Add([]byte{0xff, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs, err := Parse(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		for _, e := range errs {
			if e.Row < 1 || e.Row > lines+1 {
				t.Fatalf("error row %d outside the file (%d lines)", e.Row, lines)
			}
		}
		if len(errs) > 0 && len(rows) > 0 {
			t.Fatal("rows returned with errors")
		}
	})
}

// smallWorkbook is an .xlsx roster with a header and the given rows.
func smallWorkbook(rows ...[]any) []byte {
	f := excelize.NewFile()
	hdr := strings.Split(strings.TrimSpace(header), ",")
	for i, h := range hdr {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		f.SetCellValue("Sheet1", cell, h)
	}
	for r, row := range rows {
		for i, v := range row {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			f.SetCellValue("Sheet1", cell, v)
		}
	}
	var buf bytes.Buffer
	f.Write(&buf)
	return buf.Bytes()
}

// FuzzParseXLSX: no workbook, however broken, makes Parse panic; a readable one gives
// rows or row errors, never both, each error on a row of the sheet.
func FuzzParseXLSX(f *testing.F) {
	if tpl, err := Template(); err == nil {
		f.Add(tpl)
	}
	f.Add(smallWorkbook([]any{"1", "张三", "男", "2012-03-05", "七年级", "七(1)班", "在读", "张父", "父亲", "13800000000"}))
	f.Add(smallWorkbook([]any{1, "李四", "女", 41000, "七年级", "七(2)班", "", "", "", ""}, []any{"", "", "x", "no-date"}))
	f.Add([]byte("PK\x03\x04not really a zip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			rows []Row
			errs []RowError
			err  error
		}
		done := make(chan result, 1)
		go func() {
			rows, errs, err := Parse(bytes.NewReader(data), "fuzz.xlsx")
			done <- result{rows, errs, err}
		}()
		var res result
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse of a %d-byte workbook takes more than 5 s", len(data))
		}
		rows, errs, err := res.rows, res.errs, res.err
		if err != nil {
			return
		}
		if len(errs) > 0 && len(rows) > 0 {
			t.Fatal("rows returned with errors")
		}
		for _, e := range errs {
			if e.Row < 1 {
				t.Fatalf("error row %d", e.Row)
			}
		}
	})
}
