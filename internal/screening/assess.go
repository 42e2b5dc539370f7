package screening

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/instrument"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Assessment is one scored answer sheet.
type Assessment struct {
	ID                uuid.UUID       `json:"id"`
	StudentID         uuid.UUID       `json:"student_id"`
	InstrumentID      uuid.UUID       `json:"instrument_id"`
	InstrumentCode    string          `json:"instrument_code"`
	InstrumentVersion int             `json:"instrument_version"`
	CampaignID        *uuid.UUID      `json:"campaign_id"`
	Source            string          `json:"source"`
	TakenAt           time.Time       `json:"taken_at"`
	Total             int             `json:"total"`
	Band              string          `json:"band"`
	BandLabel         instrument.Text `json:"band_label"`
	Subscales         map[string]int  `json:"subscales"`
	Valid             bool            `json:"valid"`
	Critical          []string        `json:"critical"`
	Answers           map[string]int  `json:"answers,omitempty"`
}

// sheet is a scored sheet ready to store.
type sheet struct {
	ins     Instrument
	answers map[string]int
	result  instrument.Result
}

// score scores answers against an instrument version; validation fields are prefixed.
func score(ins Instrument, answers map[string]int, prefix string) (sheet, error) {
	r, err := ins.Definition.Score(answers)
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind == fault.Invalid {
			out := make([]fault.FieldError, 0, len(fe.Fields))
			for _, f := range fe.Fields {
				f.Field = prefix + f.Field[len("answers."):]
				out = append(out, f)
			}
			return sheet{}, fault.Validation(out...)
		}
		return sheet{}, err
	}
	return sheet{ins: ins, answers: answers, result: r}, nil
}

// alertFor decides whether a sheet raises an alert. A critical item always does (no
// setting can turn it off); a band does at or above the district's threshold for the
// instrument, on valid sheets.
func alertFor(d instrument.Definition, r instrument.Result, threshold string) (reason, tier string, ok bool) {
	if len(r.Critical) > 0 {
		return "critical_item", "high", true
	}
	if !r.Valid || threshold == "" {
		return "", "", false
	}
	bands := slices.Clone(d.Bands)
	sort.SliceStable(bands, func(i, j int) bool { return bands[i].Min < bands[j].Min })
	at := slices.IndexFunc(bands, func(b instrument.Band) bool { return b.Code == r.Band })
	min := slices.IndexFunc(bands, func(b instrument.Band) bool { return b.Code == threshold })
	if at < 0 || min < 0 || at < min {
		return "", "", false
	}
	if at == len(bands)-1 {
		return "band", "high", true
	}
	return "band", "elevated", true
}

// store writes the assessments of one submission and their alerts, and notifies the
// school's counselors. It runs in the caller's transaction and scope.
func (s *Service) store(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID, campaign, code *uuid.UUID, takenAt time.Time, sheets []sheet) ([]uuid.UUID, error) {
	set, err := settings(ctx, tx, a.DistrictID)
	if err != nil {
		return nil, err
	}
	source := "paper"
	var recordedBy *uuid.UUID
	if code != nil {
		source = "code"
	} else {
		recordedBy = &a.UserID
	}
	ids := make([]uuid.UUID, 0, len(sheets))
	var counselors []uuid.UUID
	for _, sh := range sheets {
		raw, err := json.Marshal(sh.answers)
		if err != nil {
			return nil, fault.Wrap(err, "encode answers")
		}
		sealed, err := s.Cipher.Encrypt(ctx, tx, school, purposeAnswers, raw)
		if err != nil {
			return nil, err
		}
		subs, err := json.Marshal(sh.result.Subscales)
		if err != nil {
			return nil, fault.Wrap(err, "encode subscales")
		}
		id := uuid.Must(uuid.NewV7())
		_, err = tx.Exec(ctx, `INSERT INTO assessments (school_id, id, student_id, instrument_id, instrument_code, instrument_version, definition_md5,
			campaign_id, code_id, source, taken_at, answers, total, band, subscales, valid, critical, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			school, id, student, sh.ins.ID, sh.ins.Code, sh.ins.Version, sh.ins.md5, campaign, code, source, takenAt, sealed,
			sh.result.Total, sh.result.Band, subs, sh.result.Valid, sh.result.Critical, recordedBy)
		if err != nil {
			if database.MapError(err) != nil && fault.KindOf(database.MapError(err)) == fault.Conflict {
				return nil, fault.New(fault.Conflict, "this student already has answers for %s in this campaign", sh.ins.Code)
			}
			return nil, database.MapError(err)
		}
		ids = append(ids, id)
		reason, tier, ok := alertFor(sh.ins.Definition, sh.result, set.Thresholds[sh.ins.Code])
		if !ok {
			continue
		}
		alert := uuid.Must(uuid.NewV7())
		now := s.now()
		due := now.Add(time.Duration(set.AlertDeadlineMinutes) * time.Minute)
		if _, err := tx.Exec(ctx, `INSERT INTO screening_alerts (school_id, id, assessment_id, student_id, campaign_id, instrument_code, reason, band, suggested_tier, created_at, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, school, alert, id, student, campaign, sh.ins.Code, reason, sh.result.Band, tier, now, due); err != nil {
			return nil, database.MapError(err)
		}
		if counselors == nil { // once per submission, not once per alert
			rows, err := tx.Query(ctx, `SELECT school_counselors($1)`, school)
			if err != nil {
				return nil, database.MapError(err)
			}
			if counselors, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
				return nil, database.MapError(err)
			}
		}
		for _, c := range counselors {
			if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c, Kind: "screening_alert", Task: true,
				Subject: "screening_alert", SubjectID: &alert, Params: map[string]string{"reason": reason, "instrument": sh.ins.Code},
				DueAt: &due, DedupeKey: "screening_alert:" + alert.String()}); err != nil {
				return nil, err
			}
		}
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "screening_alerts.raise", ObjectType: "screening_alert", ObjectID: alert.String(), Reason: reason}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// PaperInput is a sheet entered by a counselor (paper answers, or an instrument given in
// a session).
type PaperInput struct {
	InstrumentID uuid.UUID      `json:"instrument_id"`
	Answers      map[string]int `json:"answers"`
	CampaignID   *uuid.UUID     `json:"campaign_id"`
	TakenOn      string         `json:"taken_on"`
}

// RecordPaper scores and stores a sheet a counselor enters for a student.
func (s *Service) RecordPaper(ctx context.Context, a scope.Actor, school, student uuid.UUID, in PaperInput) (Assessment, error) {
	if in.InstrumentID == uuid.Nil {
		return Assessment{}, fault.Validation(fault.Field("instrument_id", "required", "choose an instrument"))
	}
	takenAt := s.now()
	if in.TakenOn != "" {
		d, err := time.ParseInLocation(time.DateOnly, in.TakenOn, china)
		if err != nil || d.After(s.now()) || d.Before(s.now().AddDate(-1, 0, 0)) {
			return Assessment{}, fault.Validation(fault.Field("taken_on", "out_of_range", "a date within the last year, not in the future"))
		}
		takenAt = d.Add(12 * time.Hour)
	}
	var out Assessment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.New(fault.NotFound, "not found")
		}
		ins, err := instrumentByID(ctx, tx, a.DistrictID, in.InstrumentID, false)
		if fault.KindOf(err) == fault.NotFound {
			return fault.Validation(fault.Field("instrument_id", "invalid_value", "no such instrument"))
		}
		if err != nil {
			return err
		}
		if in.CampaignID != nil {
			c, err := s.schoolCampaign(ctx, tx, a, school, *in.CampaignID)
			if fault.KindOf(err) == fault.NotFound {
				return fault.Validation(fault.Field("campaign_id", "invalid_value", "no such campaign for this school"))
			}
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(c.Instruments, func(x CampaignInstrument) bool { return x.ID == ins.ID }) {
				return fault.Validation(fault.Field("instrument_id", "invalid_value", "this instrument version is not part of the campaign"))
			}
			list, err := roster(ctx, tx, school, c, nil, &student)
			if err != nil {
				return err
			}
			if len(list) == 0 || !list[0].Eligible {
				return fault.New(fault.Conflict, "the student is not eligible for this campaign (grade or guardian consent)")
			}
		} else if err := s.usable(ctx, tx, a, school, ins); err != nil {
			return err
		}
		sh, err := score(ins, in.Answers, "answers.")
		if err != nil {
			return err
		}
		ids, err := s.store(ctx, tx, a, school, student, in.CampaignID, nil, takenAt, []sheet{sh})
		if err != nil {
			return err
		}
		if in.CampaignID != nil {
			// A completed student's code stops working.
			if _, err := tx.Exec(ctx, `UPDATE screening_codes k SET revoked_at = now() WHERE k.school_id = $1 AND k.campaign_id = $2 AND k.student_id = $3
				AND k.used_at IS NULL AND k.revoked_at IS NULL
				AND (SELECT count(DISTINCT a.instrument_id) FROM assessments a WHERE a.school_id = $1 AND a.campaign_id = $2 AND a.student_id = $3)
				  >= (SELECT count(*) FROM campaign_instruments WHERE campaign_id = $2)`, school, *in.CampaignID, student); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = s.assessment(ctx, tx, school, ids[0], true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "assessments.record", ObjectType: "assessment", ObjectID: ids[0].String()})
	})
	return out, err
}

func (s *Service) assessment(ctx context.Context, tx pgx.Tx, school, id uuid.UUID, answers bool) (Assessment, error) {
	var x Assessment
	var subs, sealed, def []byte
	err := tx.QueryRow(ctx, `SELECT a.id, a.student_id, a.instrument_id, a.instrument_code, a.instrument_version, a.campaign_id, a.source, a.taken_at,
		a.total, a.band, a.subscales, a.valid, a.critical, a.answers, i.definition
		FROM assessments a JOIN instruments i ON i.id = a.instrument_id WHERE a.school_id = $1 AND a.id = $2`, school, id).Scan(
		&x.ID, &x.StudentID, &x.InstrumentID, &x.InstrumentCode, &x.InstrumentVersion, &x.CampaignID, &x.Source, &x.TakenAt,
		&x.Total, &x.Band, &subs, &x.Valid, &x.Critical, &sealed, &def)
	if err != nil {
		return x, database.MapError(err)
	}
	if err := json.Unmarshal(subs, &x.Subscales); err != nil {
		return x, fault.Wrap(err, "decode subscales")
	}
	var d instrument.Definition
	if err := json.Unmarshal(def, &d); err != nil {
		return x, fault.Wrap(err, "decode definition")
	}
	x.BandLabel = bandLabel(d, x.Band)
	if answers {
		plain, err := s.Cipher.Decrypt(ctx, tx, school, purposeAnswers, sealed)
		if err != nil {
			return x, err
		}
		if err := json.Unmarshal(plain, &x.Answers); err != nil {
			return x, fault.Wrap(err, "decode answers")
		}
	}
	return x, nil
}

func bandLabel(d instrument.Definition, band string) instrument.Text {
	for _, b := range d.Bands {
		if b.Code == band {
			return b.Label
		}
	}
	return instrument.Text{}
}

// GetAssessment returns one sheet with its item answers.
func (s *Service) GetAssessment(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Assessment, error) {
	var out Assessment
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		if out, err = s.assessment(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "assessments.read", ObjectType: "assessment", ObjectID: id.String()})
	})
	return out, err
}

// TrendPoint is one total on a student's trend line.
type TrendPoint struct {
	At             time.Time `json:"at"`
	Total          int       `json:"total"`
	Band           string    `json:"band"`
	RCI            *float64  `json:"rci,omitempty"`
	ReliableChange string    `json:"reliable_change,omitempty"`
}

// Trend is a student's trend on one instrument.
type Trend struct {
	InstrumentCode string       `json:"instrument_code"`
	Points         []TrendPoint `json:"points"`
}

// History is a student's assessments and trends.
type History struct {
	Items []Assessment `json:"items"`
	Trend []Trend      `json:"trend"`
}

// StudentHistory returns a student's assessments across campaigns and sessions, and a
// trend per instrument with the reliable-change index where the instrument defines one.
func (s *Service) StudentHistory(ctx context.Context, a scope.Actor, school, student uuid.UUID) (History, error) {
	out := History{Items: []Assessment{}, Trend: []Trend{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.New(fault.NotFound, "not found")
		}
		rows, err := tx.Query(ctx, `SELECT id FROM assessments WHERE school_id = $1 AND student_id = $2 ORDER BY taken_at, id`, school, student)
		if err != nil {
			return database.MapError(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		defs := map[uuid.UUID]instrument.Definition{}
		byCode := map[string]int{}
		for _, id := range ids {
			x, err := s.assessment(ctx, tx, school, id, false)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, x)
			d, seen := defs[x.InstrumentID]
			if !seen {
				ins, err := instrumentByID(ctx, tx, a.DistrictID, x.InstrumentID, false)
				if err != nil {
					return err
				}
				d = ins.Definition
				defs[x.InstrumentID] = d
			}
			i, seen := byCode[x.InstrumentCode]
			if !seen {
				i = len(out.Trend)
				byCode[x.InstrumentCode] = i
				out.Trend = append(out.Trend, Trend{InstrumentCode: x.InstrumentCode, Points: []TrendPoint{}})
			}
			p := TrendPoint{At: x.TakenAt, Total: x.Total, Band: x.Band}
			if pts := out.Trend[i].Points; len(pts) > 0 {
				if rci, ok := d.RCI(pts[len(pts)-1].Total, x.Total); ok {
					p.RCI = &rci
					switch {
					case rci >= 1.96:
						p.ReliableChange = "worsened"
					case rci <= -1.96:
						p.ReliableChange = "improved"
					default:
						p.ReliableChange = "none"
					}
				}
			}
			out.Trend[i].Points = append(out.Trend[i].Points, p)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "assessments.history", ObjectType: "student", ObjectID: student.String(),
			Reason: strconv.Itoa(len(ids)) + " assessments"})
	})
	return out, err
}
