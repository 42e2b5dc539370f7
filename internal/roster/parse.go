package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Row is one validated student row of a roster file.
type Row struct {
	Line          int // 1-based row number as the user sees it (the header is row 1)
	StudentNumber string
	Name          string
	Gender        string // male | female
	BirthDate     time.Time
	Grade         string // grade or department name
	Homeroom      string
	Status        string // enrolled | graduated | transferred
	Guardians     []Guardian
}

// Guardian is a guardian's contact.
type Guardian struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
}

// RowError reports one problem at a row and column of the file.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrUnsupportedFormat is returned for files that are neither XLSX nor CSV.
var ErrUnsupportedFormat = errors.New("roster: unsupported file format")

// MaxRows is the largest roster accepted in one file.
const MaxRows = 20000

// column identifiers
const (
	colNumber = iota
	colName
	colGender
	colBirth
	colGrade
	colHomeroom
	colStatus
	colG1Name
	colG1Relation
	colG1Phone
	colG2Name
	colG2Relation
	colG2Phone
	numColumns
)

// Headers are the template's headers, in order.
var Headers = []string{"学号", "姓名", "性别", "出生日期", "年级", "班级", "状态",
	"监护人姓名", "监护人关系", "监护人电话", "监护人2姓名", "监护人2关系", "监护人2电话"}

var headerAliases = map[string]int{
	"学号": colNumber, "student_number": colNumber,
	"姓名": colName, "name": colName,
	"性别": colGender, "gender": colGender,
	"出生日期": colBirth, "birth_date": colBirth,
	"年级": colGrade, "专业科": colGrade, "grade": colGrade, "department": colGrade,
	"班级": colHomeroom, "homeroom": colHomeroom,
	"状态": colStatus, "status": colStatus,
	"监护人姓名": colG1Name, "guardian_name": colG1Name,
	"监护人关系": colG1Relation, "guardian_relation": colG1Relation,
	"监护人电话": colG1Phone, "guardian_phone": colG1Phone,
	"监护人2姓名": colG2Name, "guardian2_name": colG2Name,
	"监护人2关系": colG2Relation, "guardian2_relation": colG2Relation,
	"监护人2电话": colG2Phone, "guardian2_phone": colG2Phone,
}

var required = []int{colNumber, colName, colGender, colBirth, colGrade, colHomeroom}

// Parse reads a whole roster file: XLSX, or CSV in UTF-8 (with or without BOM) or
// GB18030. It returns the valid rows and every row error; when errs is not empty the
// caller imports nothing. err reports only an unsupported or unreadable file.
func Parse(r io.Reader, name string) (rows []Row, errs []RowError, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("roster: read: %w", err)
	}
	var records [][]string
	ext := strings.ToLower(filepath.Ext(name))
	isZip := bytes.HasPrefix(data, []byte("PK\x03\x04"))
	switch {
	case ext == ".xlsx" || (ext != ".csv" && isZip):
		if !isZip {
			return nil, nil, fmt.Errorf("roster: the .xlsx file is not a workbook")
		}
		records, err = readXLSX(data)
	case ext == ".csv":
		records, err = readCSV(data)
	default:
		return nil, nil, ErrUnsupportedFormat
	}
	if err != nil {
		return nil, nil, err
	}
	rows, errs = validate(records)
	return rows, errs, nil
}

func readCSV(data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("roster: the CSV is neither UTF-8 nor GB18030")
		}
		data = dec
	}
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(data)))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var out [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("roster: the CSV cannot be read: %w", err)
		}
		out = append(out, rec)
		if len(out) > MaxRows+2 {
			return out, nil
		}
	}
}

func readXLSX(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("roster: the workbook cannot be read: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil
	}
	// Raw values, so that date cells come back as Excel serial numbers we can decode.
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("roster: the workbook cannot be read: %w", err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		rec, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("roster: the workbook cannot be read: %w", err)
		}
		out = append(out, rec)
		if len(out) > MaxRows+2 {
			break
		}
	}
	return out, nil
}

func validate(records [][]string) ([]Row, []RowError) {
	// Skip leading empty lines before the header.
	start := 0
	for start < len(records) && blank(records[start]) {
		start++
	}
	if start == len(records) {
		return nil, []RowError{{Row: 1, Code: "empty_file", Message: "the file is empty"}}
	}
	header := records[start]
	headerLine := start + 1
	cols := make([]int, len(header)) // file column -> field, -1 unknown
	seen := map[int]bool{}
	var errs []RowError
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		f, ok := headerAliases[h]
		if !ok {
			f, ok = headerAliases[strings.ToLower(h)]
		}
		switch {
		case h == "":
			cols[i] = -1
		case !ok:
			cols[i] = -1
			errs = append(errs, RowError{Row: headerLine, Column: h, Code: "unknown_column", Message: fmt.Sprintf("unknown column %q", h)})
		case seen[f]:
			cols[i] = -1
			errs = append(errs, RowError{Row: headerLine, Column: h, Code: "duplicate", Message: fmt.Sprintf("column %q appears twice", h)})
		default:
			cols[i] = f
			seen[f] = true
		}
	}
	for _, f := range required {
		if !seen[f] {
			errs = append(errs, RowError{Row: headerLine, Column: Headers[f], Code: "missing_column", Message: fmt.Sprintf("the column %s is missing", Headers[f])})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	names := make([]string, numColumns)
	for i, f := range cols {
		if f >= 0 {
			names[f] = strings.TrimSpace(header[i])
		}
	}
	var rows []Row
	firstLine := map[string]int{}
	for i := start + 1; i < len(records); i++ {
		rec := records[i]
		if blank(rec) {
			continue
		}
		if len(rows) >= MaxRows {
			return nil, []RowError{{Row: i + 1, Code: "too_many_rows", Message: fmt.Sprintf("at most %d students per file", MaxRows)}}
		}
		var v [numColumns]string
		for j, cell := range rec {
			if j < len(cols) && cols[j] >= 0 {
				v[cols[j]] = strings.TrimSpace(cell)
			}
		}
		row, rowErrs := parseRow(i+1, v, names)
		if len(rowErrs) == 0 {
			if first, dup := firstLine[row.StudentNumber]; dup {
				rowErrs = append(rowErrs, RowError{Row: i + 1, Column: names[colNumber], Code: "duplicate",
					Message: fmt.Sprintf("student number %s already appears in row %d", row.StudentNumber, first)})
			} else {
				firstLine[row.StudentNumber] = i + 1
			}
		}
		errs = append(errs, rowErrs...)
		if len(rowErrs) == 0 {
			rows = append(rows, row)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(rows) == 0 {
		return nil, []RowError{{Row: headerLine, Code: "empty_file", Message: "the file has no student rows"}}
	}
	return rows, nil
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

var (
	studentNumberRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	mobileRE        = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landlineRE      = regexp.MustCompile(`^0\d{2,3}-?\d{7,8}$`)
	dateSeps        = strings.NewReplacer("/", "-", ".", "-", "年", "-", "月", "-", "日", "")
)

func parseRow(line int, v [numColumns]string, names []string) (Row, []RowError) {
	var errs []RowError
	fail := func(col int, code, msg string) {
		errs = append(errs, RowError{Row: line, Column: names[col], Code: code, Message: msg})
	}
	r := Row{Line: line, StudentNumber: v[colNumber], Name: v[colName], Grade: v[colGrade], Homeroom: v[colHomeroom]}
	switch {
	case r.StudentNumber == "":
		fail(colNumber, "required", "the student number is required")
	case !studentNumberRE.MatchString(r.StudentNumber):
		fail(colNumber, "invalid_format", "1-32 letters, digits, '-' or '_'")
	}
	switch n := utf8.RuneCountInString(r.Name); {
	case n == 0:
		fail(colName, "required", "the name is required")
	case n > 64:
		fail(colName, "too_long", "at most 64 characters")
	}
	switch strings.ToLower(v[colGender]) {
	case "男", "m", "male":
		r.Gender = "male"
	case "女", "f", "female":
		r.Gender = "female"
	case "":
		fail(colGender, "required", "the gender is required")
	default:
		fail(colGender, "invalid_value", "write 男 or 女")
	}
	if v[colBirth] == "" {
		fail(colBirth, "required", "the birth date is required")
	} else if d, ok := parseDate(v[colBirth]); !ok {
		fail(colBirth, "invalid_format", "write the date as 2012-03-05")
	} else if d.Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) || d.After(time.Now()) {
		fail(colBirth, "out_of_range", "the date must be between 1990-01-01 and today")
	} else {
		r.BirthDate = d
	}
	for _, c := range []int{colGrade, colHomeroom} {
		switch n := utf8.RuneCountInString(v[c]); {
		case n == 0:
			fail(c, "required", "this column is required")
		case n > 64:
			fail(c, "too_long", "at most 64 characters")
		}
	}
	switch v[colStatus] {
	case "", "在读", "在校", "enrolled":
		r.Status = "enrolled"
	case "毕业", "已毕业", "graduated":
		r.Status = "graduated"
	case "转出", "转学", "transferred":
		r.Status = "transferred"
	default:
		fail(colStatus, "invalid_value", "write 在读, 毕业 or 转出")
	}
	for _, g := range [][3]int{{colG1Name, colG1Relation, colG1Phone}, {colG2Name, colG2Relation, colG2Phone}} {
		name, rel, phone := v[g[0]], v[g[1]], normalizePhone(v[g[2]])
		if name == "" && rel == "" && phone == "" {
			continue
		}
		ok := true
		if name == "" || utf8.RuneCountInString(name) > 64 {
			fail(g[0], "required", "a guardian needs a name")
			ok = false
		}
		if utf8.RuneCountInString(rel) > 16 {
			fail(g[1], "too_long", "at most 16 characters")
			ok = false
		}
		if phone == "" {
			fail(g[2], "required", "a guardian needs a phone number")
			ok = false
		} else if !mobileRE.MatchString(phone) && !landlineRE.MatchString(phone) {
			fail(g[2], "invalid_format", "a mobile number (11 digits) or a landline like 010-12345678")
			ok = false
		}
		if ok {
			r.Guardians = append(r.Guardians, Guardian{Name: name, Relation: rel, Phone: phone})
		}
	}
	return r, errs
}

func normalizePhone(p string) string {
	p = strings.NewReplacer(" ", "", "\u00a0", "", "（", "", "）", "", "(", "", ")", "").Replace(p)
	p = strings.TrimPrefix(p, "+86")
	return strings.TrimPrefix(p, "0086")
}

// parseDate accepts 2012-03-05, 2012/3/5, 2012.3.5, 2012年3月5日, 20120305 and Excel
// date serials (raw XLSX cell values such as 41000 or 41000.5).
func parseDate(s string) (time.Time, bool) {
	if len(s) == 8 && allDigits(s) {
		d, err := time.Parse("20060102", s)
		return d, err == nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && strings.Count(s, ".") <= 1 {
		if n < 1 || n >= 100000 {
			return time.Time{}, false
		}
		d, err := excelize.ExcelDateToTime(n, false)
		if err != nil {
			return time.Time{}, false
		}
		y, m, dd := d.Date()
		return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC), true
	}
	s = dateSeps.Replace(s)
	if i := strings.IndexAny(s, " T"); i > 0 { // "2012-03-05 00:00:00"
		s = s[:i]
	}
	for _, layout := range []string{"2006-1-2", "2006-01-02"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
