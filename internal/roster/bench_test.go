package roster

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func benchCSV(n int) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "S%06d,学生%d,男,2012-03-05,七年级,七(1)班,在读,家长,母亲,138%08d\n", i, i, i)
	}
	return []byte(b.String())
}

func BenchmarkParse10000CSV(b *testing.B) {
	data := benchCSV(10000)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		rows, errs, err := Parse(bytes.NewReader(data), "a.csv")
		if err != nil || len(errs) > 0 || len(rows) != 10000 {
			b.Fatal(err, errs)
		}
	}
}

func BenchmarkParse10000XLSX(b *testing.B) {
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	hdr := strings.Split(strings.TrimSpace(header), ",")
	row := make([]any, len(hdr))
	for i, h := range hdr {
		row[i] = h
	}
	sw.SetRow("A1", row)
	for i := 0; i < 10000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("S%06d", i), fmt.Sprintf("学生%d", i), "男", "2012-03-05", "七年级", "七(1)班", "在读", "家长", "母亲", fmt.Sprintf("138%08d", i)})
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, errs, err := Parse(bytes.NewReader(data), "a.xlsx")
		if err != nil || len(errs) > 0 || len(rows) != 10000 {
			b.Fatal(err, errs)
		}
	}
}
