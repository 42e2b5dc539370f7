package screening

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/instrument"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// FormInstrument is an instrument as the student sees it: questions and options, never
// bands, scores or labels.
type FormInstrument struct {
	ID    uuid.UUID       `json:"id"`
	Code  string          `json:"code"`
	Name  instrument.Text `json:"name"`
	Stem  instrument.Text `json:"stem"`
	Items []FormItem      `json:"items"`
}

// FormItem is one question with its options.
type FormItem struct {
	Code    string              `json:"code"`
	Text    instrument.Text     `json:"text"`
	Options []instrument.Option `json:"options"`
}

// Form is the student page of a code.
type Form struct {
	Title        string           `json:"title"`
	Message      string           `json:"message"`
	HelpContacts string           `json:"help_contacts,omitempty"`
	Instruments  []FormInstrument `json:"instruments"`
}

// Thanks is all a student is told after submitting.
type Thanks struct {
	Thanks       bool   `json:"thanks"`
	HelpContacts string `json:"help_contacts,omitempty"`
}

var (
	errUnknownCode = fault.New(fault.NotFound, "this code is not known: check it and try again")
	errUsedCode    = fault.New(fault.Conflict, "this code has already been used")
	errExpiredCode = fault.New(fault.Gone, "this code is no longer valid")
)

type claim struct {
	code, district, school, campaign, student uuid.UUID
	state                                     string
}

// respondent is the actor of a student without an account: the school's scope, no user.
func respondent(c claim) scope.Actor {
	return scope.Actor{DistrictID: c.district, SchoolID: c.school, Kind: scope.School, Username: "student:code"}
}

func (s *Service) form(ctx context.Context, tx pgx.Tx, c claim) (Form, []Instrument, Settings, error) {
	list, err := s.loadCampaigns(ctx, tx, `c.id = $1 AND c.district_id = $2`, c.campaign, c.district)
	if err != nil || len(list) == 0 {
		return Form{}, nil, Settings{}, errors.Join(err, errUnknownCode)
	}
	defs, err := definitions(ctx, tx, c.campaign)
	if err != nil {
		return Form{}, nil, Settings{}, err
	}
	set, err := settings(ctx, tx, c.district)
	if err != nil {
		return Form{}, nil, Settings{}, err
	}
	f := Form{Title: list[0].Title, Message: list[0].StudentMessage, Instruments: []FormInstrument{}}
	if list[0].ShowHelpContacts {
		f.HelpContacts = set.HelpContacts
	}
	for _, ins := range defs {
		d := ins.Definition
		fi := FormInstrument{ID: ins.ID, Code: d.Code, Name: d.Name, Stem: d.Stem, Items: []FormItem{}}
		for _, it := range d.Items {
			opts := it.Options
			if len(opts) == 0 {
				opts = d.Options
			}
			fi.Items = append(fi.Items, FormItem{Code: it.Code, Text: it.Text, Options: opts})
		}
		f.Instruments = append(f.Instruments, fi)
	}
	return f, defs, set, nil
}

// Open returns the questionnaire of a code without using it up.
func (s *Service) Open(ctx context.Context, raw string) (Form, error) {
	code, ok := NormalizeCode(raw)
	if !ok {
		return Form{}, errUnknownCode
	}
	var out Form
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		var c claim
		var used, revoked *time.Time
		var opens, closes time.Time
		err := tx.QueryRow(ctx, `SELECT code_id, district_id, school_id, campaign_id, student_id, used_at, revoked_at, opens_at, closes_at
			FROM screening_code_lookup($1)`, codeHash(code)).Scan(&c.code, &c.district, &c.school, &c.campaign, &c.student, &used, &revoked, &opens, &closes)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnknownCode
		}
		if err != nil {
			return database.MapError(err)
		}
		now := s.now()
		switch {
		case used != nil:
			return errUsedCode
		case revoked != nil || !now.Before(closes) || now.Before(opens):
			return errExpiredCode
		}
		if err := database.SetScope(ctx, tx, respondent(c)); err != nil {
			return fault.Wrap(err, "scope")
		}
		out, _, _, err = s.form(ctx, tx, c)
		return err
	})
	return out, err
}

// SubmitInput is a student's answers: instrument id → item code → option value.
type SubmitInput struct {
	Answers map[uuid.UUID]map[string]int `json:"answers"`
}

// Submit scores and stores a student's answers in one transaction and uses the code up.
// Of concurrent submissions with one code exactly one wins; the others are told the
// code was used. Missing or wrong answers are refused by name and use nothing up.
func (s *Service) Submit(ctx context.Context, raw string, in SubmitInput) (Thanks, error) {
	code, ok := NormalizeCode(raw)
	if !ok {
		return Thanks{}, errUnknownCode
	}
	var out Thanks
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		var c claim
		err := tx.QueryRow(ctx, `SELECT code_id, district_id, school_id, campaign_id, student_id, state FROM screening_code_claim($1, $2)`,
			codeHash(code), s.now()).Scan(&c.code, &c.district, &c.school, &c.campaign, &c.student, &c.state)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnknownCode
		}
		if err != nil {
			return database.MapError(err)
		}
		switch c.state {
		case "used":
			return errUsedCode
		case "expired":
			return errExpiredCode
		}
		a := respondent(c)
		if err := database.SetScope(ctx, tx, a); err != nil {
			return fault.Wrap(err, "scope")
		}
		form, defs, _, err := s.form(ctx, tx, c)
		if err != nil {
			return err
		}
		var f []fault.FieldError
		sheets := make([]sheet, 0, len(defs))
		for _, ins := range defs {
			sh, err := score(ins, in.Answers[ins.ID], "answers."+ins.ID.String()+".")
			if fe, ok := fault.As(err); ok && fe.Kind == fault.Invalid {
				f = append(f, fe.Fields...)
				continue
			}
			if err != nil {
				return err
			}
			sheets = append(sheets, sh)
		}
		for id := range in.Answers {
			if !containsInstrument(defs, id) {
				f = append(f, fault.Field("answers."+id.String(), "invalid_value", "not an instrument of this questionnaire"))
			}
		}
		if len(f) > 0 {
			return fault.Validation(f...)
		}
		codeID := c.code
		if _, err := s.store(ctx, tx, a, c.school, c.student, &c.campaign, &codeID, s.now(), sheets); err != nil {
			return err
		}
		out = Thanks{Thanks: true, HelpContacts: form.HelpContacts}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "assessments.submit", ObjectType: "campaign", ObjectID: c.campaign.String()})
	})
	return out, err
}

func containsInstrument(defs []Instrument, id uuid.UUID) bool {
	for _, d := range defs {
		if d.ID == id {
			return true
		}
	}
	return false
}
