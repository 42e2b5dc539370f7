package termsummary

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// Chinese labels of the exports (the district's working language).
var (
	activityNames = map[string]string{"lecture": "心理健康讲座", "group_session": "团体辅导", "themed_month": "主题月活动",
		"parent_event": "家校活动", "staff_training": "教师培训", "room_hours": "辅导室开放时间（小时/周）"}
	statusNames = map[string]string{"draft": "草稿", "submitted": "已提交", "approved": "已审核通过", "returned": "已退回"}
)

func activityName(t string) string {
	if n, ok := activityNames[t]; ok {
		return n
	}
	return t
}

func hours(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }

// PDF renders the summary as an A4 PDF; the subset of the Chinese font it uses is embedded.
func (s *Service) PDF(sum Summary) ([]byte, error) {
	path := s.FontPath
	if path == "" {
		path = DefaultFontPath
	}
	font, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(err, "read the PDF font")
	}
	f := sum.Figures
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle(f.SchoolName+" "+f.TermName+" 期末小结", true)
	p.AddUTF8FontFromBytes("cjk", "", font)
	p.SetMargins(18, 18, 18)
	p.AddPage()
	p.SetFont("cjk", "", 18)
	p.MultiCell(0, 10, f.SchoolName+" 心理健康教育工作期末小结", "", "C", false)
	p.SetFont("cjk", "", 11)
	p.MultiCell(0, 7, fmt.Sprintf("%s（%s 至 %s）  状态：%s", f.TermName, f.StartsOn, f.EndsOn, statusNames[sum.Status]), "", "C", false)
	p.Ln(4)
	section := func(title string) {
		p.SetFont("cjk", "", 13)
		p.MultiCell(0, 9, title, "B", "L", false)
		p.SetFont("cjk", "", 11)
		p.Ln(1)
	}
	row := func(cells []string, widths []float64) {
		for i, c := range cells {
			p.CellFormat(widths[i], 8, c, "1", 0, "L", false, 0, "")
		}
		p.Ln(-1)
	}
	section("一、活动开展情况")
	w := []float64{70, 30, 40, 34}
	row([]string{"活动类型", "次数", "参与人次", "时长（小时）"}, w)
	for _, a := range f.Activities {
		row([]string{activityName(a.Type), strconv.Itoa(a.Count), strconv.Itoa(a.Attendance), hours(a.Hours)}, w)
	}
	if len(f.Activities) == 0 {
		p.MultiCell(0, 8, "本学期未登记活动。", "", "L", false)
	}
	p.Ln(3)
	section("二、班级心理晴雨表")
	p.MultiCell(0, 8, fmt.Sprintf("共提交 %d 份；其中 %d 份提到需要关注的同学（已转心理辅导教师受理）。", f.BarometerReports, f.BarometerNamed), "", "L", false)
	p.Ln(3)
	section("三、个别辅导（按类别统计会谈次数，不含学生信息）")
	w2 := []float64{100, 74}
	row([]string{"类别", "会谈次数"}, w2)
	for _, c := range f.Sessions {
		row([]string{c.Category, strconv.Itoa(c.Sessions)}, w2)
	}
	p.Ln(3)
	section("四、工作总结")
	p.MultiCell(0, 7, sum.Narrative, "", "L", false)
	if sum.ReviewComment != "" {
		p.Ln(3)
		section("区审核意见")
		p.MultiCell(0, 7, sum.ReviewComment, "", "L", false)
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		return nil, fault.Wrap(err, "render PDF")
	}
	return b.Bytes(), nil
}

// XLSX renders the summary's figures and text as a workbook with three sheets.
func (s *Service) XLSX(sum Summary) ([]byte, error) {
	f := sum.Figures
	x := excelize.NewFile()
	defer x.Close()
	const overview, acts, sessions = "概况", "活动", "个别辅导"
	if err := x.SetSheetName("Sheet1", overview); err != nil {
		return nil, fault.Wrap(err, "name the sheet")
	}
	set := func(sheet, cell string, v any) {
		_ = x.SetCellValue(sheet, cell, v)
	}
	set(overview, "A1", "学校")
	set(overview, "B1", f.SchoolName)
	set(overview, "A2", "学期")
	set(overview, "B2", fmt.Sprintf("%s（%s 至 %s）", f.TermName, f.StartsOn, f.EndsOn))
	set(overview, "A3", "状态")
	set(overview, "B3", statusNames[sum.Status])
	set(overview, "A4", "晴雨表份数")
	set(overview, "B4", f.BarometerReports)
	set(overview, "A5", "晴雨表提到需关注同学")
	set(overview, "B5", f.BarometerNamed)
	set(overview, "A6", "工作总结")
	set(overview, "B6", sum.Narrative)
	set(overview, "A7", "区审核意见")
	set(overview, "B7", sum.ReviewComment)
	if _, err := x.NewSheet(acts); err != nil {
		return nil, fault.Wrap(err, "xlsx")
	}
	for i, h := range []string{"活动类型", "次数", "参与人次", "时长（小时）"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		set(acts, cell, h)
	}
	for r, a := range f.Activities {
		for i, v := range []any{activityName(a.Type), a.Count, a.Attendance, a.Hours} {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			set(acts, cell, v)
		}
	}
	if _, err := x.NewSheet(sessions); err != nil {
		return nil, fault.Wrap(err, "xlsx")
	}
	set(sessions, "A1", "类别")
	set(sessions, "B1", "会谈次数")
	for r, c := range f.Sessions {
		set(sessions, "A"+strconv.Itoa(r+2), c.Category)
		set(sessions, "B"+strconv.Itoa(r+2), c.Sessions)
	}
	var b bytes.Buffer
	if err := x.Write(&b); err != nil {
		return nil, fault.Wrap(err, "render XLSX")
	}
	return b.Bytes(), nil
}
