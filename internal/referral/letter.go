package referral

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

var china = time.FixedZone("CST", 8*3600)

var tierLabels = map[string]string{"none": "无", "watch": "关注", "elevated": "较高", "high": "高", "crisis": "危机"}
var levelLabels = map[string]string{"low": "低", "moderate": "中", "high": "高", "imminent": "紧急"}
var relationLabels = map[string]string{"mother": "母亲", "father": "父亲"}

// compose gathers the selected items, and only those, for the letter.
func (s *Service) compose(ctx context.Context, tx pgx.Tx, a scope.Actor, school uuid.UUID, in SendInput, inst Institution, id uuid.UUID) (Letter, error) {
	l := Letter{Institution: inst.Name, Date: s.now().In(china).Format("2006年1月2日"), Reference: strings.ToUpper(id.String()[:8]), Reason: in.Reason}
	var counselor string
	if err := tx.QueryRow(ctx, `SELECT sc.name, coalesce((SELECT display_name FROM users WHERE id = $2), '') FROM schools sc WHERE sc.id = $1`,
		school, a.UserID).Scan(&l.School, &counselor); err != nil {
		return l, database.MapError(err)
	}
	l.Counselor = counselor
	var name, gender, grade, homeroom, tier string
	var birth time.Time
	var guardians []byte
	if err := tx.QueryRow(ctx, `SELECT st.name, st.gender, st.birth_date, g.name, h.name, st.guardians, c.risk_tier
		FROM case_files c JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
		JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
		JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
		WHERE c.school_id = $1 AND c.id = $2`, school, in.CaseFileID).Scan(&name, &gender, &birth, &grade, &homeroom, &guardians, &tier); err != nil {
		return l, database.MapError(err)
	}
	add := func(item, label, value string) {
		l.Lines = append(l.Lines, LetterLine{Item: item, Label: label, Value: value})
	}
	for _, it := range in.Items {
		switch it {
		case "basics":
			g := "男"
			if gender == "female" {
				g = "女"
			}
			age := s.now().Year() - birth.Year()
			if s.now().YearDay() < birth.YearDay() {
				age--
			}
			add(it, "学生", fmt.Sprintf("%s，%s，%d 岁，%s %s", name, g, age, grade, homeroom))
		case "guardian_contact":
			var list []struct{ Name, Relation, Phone string }
			_ = json.Unmarshal(guardians, &list)
			var parts []string
			for _, g := range list {
				rel := relationLabels[g.Relation]
				if rel == "" {
					rel = g.Relation
				}
				parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %s %s", rel, g.Name, g.Phone)))
			}
			if len(parts) == 0 {
				parts = []string{"（未登记）"}
			}
			add(it, "监护人联系方式", strings.Join(parts, "；"))
		case "risk_tier":
			add(it, "风险等级", tierLabels[tier])
		case "crisis":
			if in.CrisisID == nil {
				return l, fault.Validation(fault.Field("items", "invalid_value", "the crisis item needs a crisis"))
			}
			var level string
			var method *string
			var assessed *time.Time
			if err := tx.QueryRow(ctx, `SELECT c.level, (SELECT s.method FROM crisis_steps s WHERE s.school_id = c.school_id AND s.crisis_id = c.id
				AND s.kind = 'risk_assessed' ORDER BY s.occurred_at DESC LIMIT 1), c.assessed_at FROM crises c WHERE c.school_id = $1 AND c.id = $2`,
				school, *in.CrisisID).Scan(&level, &method, &assessed); err != nil {
				return l, database.MapError(err)
			}
			v := "危机风险等级：" + levelLabels[level]
			if assessed != nil {
				v += "（评估于 " + assessed.In(china).Format("2006-01-02 15:04") + "）"
			}
			add(it, "危机评估", v)
		case "screening":
			rows, err := tx.Query(ctx, `SELECT DISTINCT ON (instrument_code) instrument_code, total, band, taken_at FROM assessments
				WHERE school_id = $1 AND student_id = (SELECT student_id FROM case_files WHERE school_id = $1 AND id = $2)
				ORDER BY instrument_code, taken_at DESC`, school, in.CaseFileID)
			if err != nil {
				return l, database.MapError(err)
			}
			var parts []string
			for rows.Next() {
				var code, band string
				var total int
				var at time.Time
				if err := rows.Scan(&code, &total, &band, &at); err != nil {
					rows.Close()
					return l, database.MapError(err)
				}
				parts = append(parts, fmt.Sprintf("%s %d 分（%s，%s）", strings.ToUpper(code), total, band, at.In(china).Format("2006-01-02")))
			}
			rows.Close()
			if len(parts) == 0 {
				parts = []string{"（无测评记录）"}
			}
			add(it, "心理测评", strings.Join(parts, "；"))
		}
	}
	return l, nil
}

var (
	fontOnce  sync.Once
	fontBytes []byte
	fontErr   error
)

// PDF renders the letter in Chinese with the CJK font embedded.
func (s *Service) PDF(l Letter) ([]byte, error) {
	fontOnce.Do(func() { fontBytes, fontErr = os.ReadFile(s.FontPath) })
	if fontErr != nil {
		return nil, fault.Wrap(fontErr, "letter font")
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes("cjk", "", fontBytes)
	pdf.SetTitle("心理转介函", true)
	pdf.SetCreator("Xinqiao", true)
	pdf.AddPage()
	pdf.SetMargins(20, 20, 20)
	pdf.SetFont("cjk", "", 18)
	pdf.CellFormat(0, 14, "学生心理健康转介函", "", 1, "C", false, 0, "")
	pdf.SetFont("cjk", "", 11)
	pdf.CellFormat(0, 7, "编号："+l.Reference+"    日期："+l.Date, "", 1, "R", false, 0, "")
	pdf.Ln(4)
	pdf.MultiCell(0, 7, l.Institution+"：", "", "L", false)
	pdf.MultiCell(0, 7, "　　经学生监护人知情（或因情况紧急），现将我校一名学生转介至贵单位，请予接诊评估。以下仅为本次转介所需的信息：", "", "L", false)
	pdf.Ln(3)
	line := func(label, value string) {
		pdf.SetFont("cjk", "", 11)
		pdf.MultiCell(0, 7, "【"+label+"】"+value, "", "L", false)
	}
	line("转介原因", l.Reason)
	for _, x := range l.Lines {
		line(x.Label, x.Value)
	}
	pdf.Ln(6)
	pdf.MultiCell(0, 7, "　　请通过随函所附的一次性确认链接告知收到转介、预约时间及简要反馈。本函内容涉及未成年人隐私，请妥善保管，仅用于诊疗。", "", "L", false)
	pdf.Ln(8)
	pdf.CellFormat(0, 7, l.School+"  心理辅导室", "", 1, "R", false, 0, "")
	if l.Counselor != "" {
		pdf.CellFormat(0, 7, "联系人："+l.Counselor, "", 1, "R", false, 0, "")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fault.Wrap(err, "render letter")
	}
	return buf.Bytes(), nil
}

// LetterPDF returns the referral letter of a referral as PDF (audited).
func (s *Service) LetterPDF(ctx context.Context, a scope.Actor, school, id uuid.UUID) ([]byte, error) {
	var l Letter
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var sealed []byte
		if err := tx.QueryRow(ctx, `SELECT letter FROM referrals WHERE school_id = $1 AND id = $2`, school, id).Scan(&sealed); err != nil {
			return database.MapError(err)
		}
		raw, err := s.Cipher.Decrypt(ctx, tx, school, purposeLetter, sealed)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return fault.Wrap(err, "decode letter")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.letter", ObjectType: "referral", ObjectID: id.String()})
	})
	if err != nil {
		return nil, err
	}
	return s.PDF(l)
}
