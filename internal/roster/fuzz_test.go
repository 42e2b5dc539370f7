package roster

import (
	"bytes"
	"testing"
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
