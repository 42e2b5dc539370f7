package roster

import (
	"bytes"
	"strconv"

	"github.com/xuri/excelize/v2"
)

var columnHelp = [][2]string{
	{"学号", "必填。本校内唯一，1-32 位字母、数字、- 或 _。再次导入同一学号的学生会更新其信息，不会重复。"},
	{"姓名", "必填。最多 64 个字。"},
	{"性别", "必填。填写 男 或 女。"},
	{"出生日期", "必填。如 2012-03-05、2012/3/5 或 Excel 日期格式。"},
	{"年级", "必填。须与系统中的年级名称一致（职业学校填写专业科，列名也可写作“专业科”）。"},
	{"班级", "必填。须与该年级下的班级名称一致，如 七(1)班。"},
	{"状态", "选填。在读（默认）、毕业 或 转出。"},
	{"监护人姓名", "选填。填写监护人时，姓名和电话都要填。"},
	{"监护人关系", "选填。如 父亲、母亲、祖父母。"},
	{"监护人电话", "选填。11 位手机号或 010-12345678 这样的固定电话。"},
	{"监护人2姓名", "选填。第二位监护人，规则同上。"},
	{"监护人2关系", "选填。"},
	{"监护人2电话", "选填。"},
}

// Template returns the XLSX roster template: the headers, one example row, and a
// sheet explaining each column.
func Template() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "学生名册"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	example := []any{"20240001", "张小明", "男", "2012-03-05", "七年级", "七(1)班", "在读", "张建国", "父亲", "13800000000", "", "", ""}
	for i, h := range Headers {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellValue(sheet, cell, h); err != nil {
			return nil, err
		}
		cell, _ = excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellStr(sheet, cell, example[i].(string)); err != nil {
			return nil, err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"#E6F4FF"}, Pattern: 1}})
	if err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(sheet, "A1", "M1", bold); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(sheet, "A", "M", 14); err != nil {
		return nil, err
	}
	// Student numbers and dates as text, so Excel keeps leading zeros.
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	if err := f.SetColStyle(sheet, "A", text); err != nil {
		return nil, err
	}
	const help = "填写说明"
	if _, err := f.NewSheet(help); err != nil {
		return nil, err
	}
	_ = f.SetCellValue(help, "A1", "列名")
	_ = f.SetCellValue(help, "B1", "说明")
	for i, h := range columnHelp {
		_ = f.SetCellValue(help, "A"+strconv.Itoa(i+2), h[0])
		_ = f.SetCellValue(help, "B"+strconv.Itoa(i+2), h[1])
	}
	_ = f.SetCellValue(help, "A"+strconv.Itoa(len(columnHelp)+3), "注意")
	_ = f.SetCellValue(help, "B"+strconv.Itoa(len(columnHelp)+3), "导入是“全部成功或全部不导入”：任何一行有错误，系统会列出所有错误的行号和列名，且不会导入任何学生。CSV 文件可用 UTF-8 或 GB18030（Excel 默认）编码保存。")
	_ = f.SetCellStyle(help, "A1", "B1", bold)
	_ = f.SetColWidth(help, "A", "A", 14)
	_ = f.SetColWidth(help, "B", "B", 90)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
