package screening

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// SchoolCampaigns lists the campaigns that target the school.
func (s *Service) SchoolCampaigns(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Campaign, error) {
	var out []Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = s.loadCampaigns(ctx, tx, `$1 = ANY (c.school_ids) AND c.district_id = $2`, school, a.DistrictID)
		return err
	})
	return out, err
}

func (s *Service) schoolCampaign(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (Campaign, error) {
	list, err := s.loadCampaigns(ctx, tx, `$1 = ANY (c.school_ids) AND c.district_id = $2 AND c.id = $3`, school, a.DistrictID, id)
	if err != nil {
		return Campaign{}, err
	}
	if len(list) == 0 {
		return Campaign{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// SchoolCampaign returns a campaign that targets the school, with its instrument
// definitions (for paper entry).
func (s *Service) SchoolCampaign(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Campaign, error) {
	var out Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		c, err := s.schoolCampaign(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		defs, err := definitions(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, d := range defs {
			c.Definitions = append(c.Definitions, d.Definition)
		}
		out = c
		return nil
	})
	return out, err
}

// RosterEntry is one student of a campaign's roster.
type RosterEntry struct {
	StudentID     uuid.UUID `json:"student_id"`
	Name          string    `json:"name"`
	StudentNumber string    `json:"student_number"`
	Grade         string    `json:"grade"`
	HomeroomID    uuid.UUID `json:"homeroom_id"`
	HomeroomName  string    `json:"homeroom_name"`
	Consent       string    `json:"consent"`
	Eligible      bool      `json:"eligible"`
	Code          string    `json:"code"`
	Completed     bool      `json:"completed"`
}

func roster(ctx context.Context, tx pgx.Tx, school uuid.UUID, c Campaign, homeroom, student *uuid.UUID) ([]RosterEntry, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.name, s.student_number, g.name, h.id, h.name, coalesce(x.status, 'none'),
		CASE $3 WHEN 'opt_in' THEN coalesce(x.status = 'granted', false) WHEN 'opt_out' THEN x.status IS DISTINCT FROM 'refused' ELSE true END,
		CASE WHEN EXISTS (SELECT 1 FROM screening_codes k WHERE k.school_id = s.school_id AND k.campaign_id = $2 AND k.student_id = s.id AND k.used_at IS NOT NULL) THEN 'used'
		     WHEN EXISTS (SELECT 1 FROM screening_codes k WHERE k.school_id = s.school_id AND k.campaign_id = $2 AND k.student_id = s.id AND k.used_at IS NULL AND k.revoked_at IS NULL) THEN 'issued'
		     ELSE 'none' END,
		(SELECT count(DISTINCT a.instrument_id) FROM assessments a WHERE a.school_id = s.school_id AND a.campaign_id = $2 AND a.student_id = s.id) >= $5
		FROM students s
		JOIN org_units g ON g.school_id = s.school_id AND g.id = s.grade_id
		JOIN org_units h ON h.school_id = s.school_id AND h.id = s.homeroom_id
		LEFT JOIN screening_consents x ON x.school_id = s.school_id AND x.campaign_id = $2 AND x.student_id = s.id
		WHERE s.school_id = $1 AND s.status = 'enrolled' AND (cardinality($4::text[]) = 0 OR g.name = ANY ($4))
		  AND ($6::uuid IS NULL OR s.homeroom_id = $6) AND ($7::uuid IS NULL OR s.id = $7)
		ORDER BY g.position, g.name, h.position, h.name, s.student_number`,
		school, c.ID, c.ConsentRule, c.Grades, len(c.Instruments), homeroom, student)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RosterEntry, error) {
		var e RosterEntry
		return e, r.Scan(&e.StudentID, &e.Name, &e.StudentNumber, &e.Grade, &e.HomeroomID, &e.HomeroomName, &e.Consent, &e.Eligible, &e.Code, &e.Completed)
	})
	return out, database.MapError(err)
}

// Roster lists the campaign's students of the school (optionally one homeroom) with
// their consent, code and completion status.
func (s *Service) Roster(ctx context.Context, a scope.Actor, school, id uuid.UUID, homeroom *uuid.UUID) ([]RosterEntry, error) {
	var out []RosterEntry
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		c, err := s.schoolCampaign(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		if out, err = roster(ctx, tx, school, c, homeroom, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "campaigns.roster", ObjectType: "campaign", ObjectID: id.String()})
	})
	return out, err
}

// ConsentInput records a guardian's answer for a campaign.
type ConsentInput struct {
	Status   string `json:"status"`
	Guardian string `json:"guardian"`
}

// SetConsent records a guardian's consent or refusal for one student. A refusal ends
// the student's live code at once.
func (s *Service) SetConsent(ctx context.Context, a scope.Actor, school, id, student uuid.UUID, in ConsentInput) (RosterEntry, error) {
	var f []fault.FieldError
	if in.Status != "granted" && in.Status != "refused" {
		f = append(f, fault.Field("status", "invalid_value", "granted or refused"))
	}
	in.Guardian = strings.TrimSpace(in.Guardian)
	if utf8.RuneCountInString(in.Guardian) > 100 {
		f = append(f, fault.Field("guardian", "too_long", "at most 100 characters"))
	}
	if len(f) > 0 {
		return RosterEntry{}, fault.Validation(f...)
	}
	var out RosterEntry
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		c, err := s.schoolCampaign(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		if c.ConsentRule == "none" {
			return fault.New(fault.Conflict, "this campaign asks for no guardian consent")
		}
		list, err := roster(ctx, tx, school, c, nil, &student)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		tag, err := tx.Exec(ctx, `UPDATE screening_consents SET status = $4, guardian = $5, recorded_by = $6, recorded_at = now()
			WHERE school_id = $1 AND campaign_id = $2 AND student_id = $3`, school, id, student, in.Status, in.Guardian, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO screening_consents (school_id, campaign_id, student_id, status, guardian, recorded_by)
				VALUES ($1, $2, $3, $4, $5, $6)`, school, id, student, in.Status, in.Guardian, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if in.Status == "refused" {
			if _, err := tx.Exec(ctx, `UPDATE screening_codes SET revoked_at = now() WHERE school_id = $1 AND campaign_id = $2 AND student_id = $3
				AND used_at IS NULL AND revoked_at IS NULL`, school, id, student); err != nil {
				return database.MapError(err)
			}
		}
		if list, err = roster(ctx, tx, school, c, nil, &student); err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_consents.record", ObjectType: "student", ObjectID: student.String(), Reason: in.Status})
	})
	return out, err
}

// HomeroomProgress is a homeroom's completion.
type HomeroomProgress struct {
	HomeroomID   uuid.UUID `json:"homeroom_id"`
	HomeroomName string    `json:"homeroom_name"`
	Grade        string    `json:"grade"`
	Eligible     int64     `json:"eligible"`
	Completed    int64     `json:"completed"`
}

// SchoolProgressByHomeroom returns completion per homeroom (counselors and leaders).
func (s *Service) SchoolProgressByHomeroom(ctx context.Context, a scope.Actor, school, id uuid.UUID) ([]HomeroomProgress, error) {
	var out []HomeroomProgress
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.schoolCampaign(ctx, tx, a, school, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT homeroom_id, homeroom_name, grade, eligible, completed FROM screening_school_progress($1)`, id)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (HomeroomProgress, error) {
			var h HomeroomProgress
			return h, r.Scan(&h.HomeroomID, &h.HomeroomName, &h.Grade, &h.Eligible, &h.Completed)
		})
		return database.MapError(err)
	})
	return out, err
}

// Code alphabet: no 0/O, 1/I/L. Ten characters carry 50 bits.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
const codeLength = 10

func newCode() string {
	b := make([]byte, codeLength)
	buf := make([]byte, 1)
	for i := range b {
		for {
			_, _ = rand.Read(buf)
			if int(buf[0]) < 256-256%len(codeAlphabet) {
				b[i] = codeAlphabet[int(buf[0])%len(codeAlphabet)]
				break
			}
		}
	}
	return string(b)
}

// NormalizeCode uppercases a typed code and drops separators; ok is false when it
// cannot be a code.
func NormalizeCode(raw string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(raw) {
		if r == '-' || r == ' ' {
			continue
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == codeLength
}

func codeHash(code string) []byte {
	sum := sha256.Sum256([]byte(code))
	return sum[:]
}

// DisplayCode groups a code as ABCD-EFGH-JK for printing.
func DisplayCode(c string) string { return c[:4] + "-" + c[4:8] + "-" + c[8:] }

// CodeSlip is one printed code.
type CodeSlip struct {
	StudentID     uuid.UUID `json:"student_id"`
	Name          string    `json:"name"`
	StudentNumber string    `json:"student_number"`
	HomeroomName  string    `json:"homeroom_name"`
	Code          string    `json:"code"`
	URL           string    `json:"url"`
}

// CodeSheet is a homeroom's code sheet.
type CodeSheet struct {
	Items     []CodeSlip `json:"items"`
	ExpiresAt time.Time  `json:"expires_at"`
	Title     string     `json:"-"`
}

// CodesInput asks for the codes of a homeroom.
type CodesInput struct {
	HomeroomID uuid.UUID `json:"homeroom_id"`
}

// IssueCodes issues fresh one-time codes to the homeroom's eligible students who have not
// completed the campaign; their earlier unused codes stop working. Only hashes are
// stored: the codes are in the answer and nowhere else.
func (s *Service) IssueCodes(ctx context.Context, a scope.Actor, school, id uuid.UUID, in CodesInput) (CodeSheet, error) {
	if in.HomeroomID == uuid.Nil {
		return CodeSheet{}, fault.Validation(fault.Field("homeroom_id", "required", "choose a homeroom"))
	}
	var out CodeSheet
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		c, err := s.schoolCampaign(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		if c.Status == "closed" {
			return fault.New(fault.Conflict, "the campaign is closed")
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM org_units WHERE school_id = $1 AND id = $2 AND kind = 'homeroom')`, school, in.HomeroomID).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.Validation(fault.Field("homeroom_id", "invalid_value", "no such homeroom"))
		}
		list, err := roster(ctx, tx, school, c, &in.HomeroomID, nil)
		if err != nil {
			return err
		}
		list = slices.DeleteFunc(list, func(e RosterEntry) bool { return !e.Eligible || e.Completed })
		ids := make([]uuid.UUID, len(list))
		for i, e := range list {
			ids[i] = e.StudentID
		}
		if _, err := tx.Exec(ctx, `UPDATE screening_codes SET revoked_at = now() WHERE school_id = $1 AND campaign_id = $2 AND student_id = ANY ($3)
			AND used_at IS NULL AND revoked_at IS NULL`, school, id, ids); err != nil {
			return database.MapError(err)
		}
		out = CodeSheet{Items: []CodeSlip{}, ExpiresAt: c.ClosesAt, Title: c.Title}
		for _, e := range list {
			code := newCode()
			if _, err := tx.Exec(ctx, `INSERT INTO screening_codes (school_id, id, campaign_id, student_id, code_hash, issued_by) VALUES ($1, $2, $3, $4, $5, $6)`,
				school, uuid.Must(uuid.NewV7()), id, e.StudentID, codeHash(code), a.UserID); err != nil {
				return database.MapError(err)
			}
			out.Items = append(out.Items, CodeSlip{StudentID: e.StudentID, Name: e.Name, StudentNumber: e.StudentNumber,
				HomeroomName: e.HomeroomName, Code: DisplayCode(code), URL: "/s/" + code})
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_codes.issue", ObjectType: "campaign", ObjectID: id.String(),
			Reason: strconv.Itoa(len(out.Items)) + " codes for homeroom " + in.HomeroomID.String()})
	})
	return out, err
}

// XLSX renders a code sheet as a workbook.
func (c CodeSheet) XLSX(baseURL string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "测查码"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	rows := [][]any{{"学号 Student no.", "姓名 Name", "班级 Homeroom", "测查码 Code", "网址 URL", "有效期至 Expires"}}
	for _, it := range c.Items {
		rows = append(rows, []any{it.StudentNumber, it.Name, it.HomeroomName, it.Code, baseURL + it.URL, c.ExpiresAt.In(china).Format("2006-01-02 15:04")})
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			return nil, err
		}
	}
	_ = f.SetColWidth(sheet, "A", "F", 18)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var china = time.FixedZone("CST", 8*3600)

// usable reports whether the school may use the instrument version: built-in or the
// district's own, and for licensed ones a valid licence and an enablement.
func (s *Service) usable(ctx context.Context, tx pgx.Tx, a scope.Actor, school uuid.UUID, ins Instrument) error {
	if !ins.Licensed {
		return nil
	}
	ok, err := validLicence(ctx, tx, a.DistrictID, ins.Code, s.now())
	if err != nil {
		return err
	}
	var enabled bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instrument_enablements WHERE district_id = $1 AND school_id = $2 AND instrument_code = $3)`,
		a.DistrictID, school, ins.Code).Scan(&enabled); err != nil {
		return database.MapError(err)
	}
	if !ok || !enabled {
		return fault.New(fault.Conflict, "this licensed instrument is not enabled for the school")
	}
	return nil
}
