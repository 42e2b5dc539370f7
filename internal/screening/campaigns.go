package screening

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/instrument"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// ConsentRules of a campaign: guardian opt-in, opt-out, or none.
var ConsentRules = []string{"opt_in", "opt_out", "none"}

// CampaignInstrument names one instrument version of a campaign.
type CampaignInstrument struct {
	ID      uuid.UUID       `json:"id"`
	Code    string          `json:"code"`
	Version int             `json:"version"`
	Name    instrument.Text `json:"name"`
}

// Campaign is a district screening campaign.
type Campaign struct {
	ID               uuid.UUID               `json:"id"`
	Title            string                  `json:"title"`
	Instruments      []CampaignInstrument    `json:"instruments"`
	SchoolIDs        []uuid.UUID             `json:"school_ids"`
	Grades           []string                `json:"grades"`
	OpensAt          time.Time               `json:"opens_at"`
	ClosesAt         time.Time               `json:"closes_at"`
	ConsentRule      string                  `json:"consent_rule"`
	StudentMessage   string                  `json:"student_message"`
	ShowHelpContacts bool                    `json:"show_help_contacts"`
	Status           string                  `json:"status"`
	CreatedAt        time.Time               `json:"created_at"`
	Definitions      []instrument.Definition `json:"instrument_definitions,omitempty"`
	districtID       uuid.UUID
}

// CampaignInput creates a campaign.
type CampaignInput struct {
	Title            string      `json:"title"`
	InstrumentIDs    []uuid.UUID `json:"instrument_ids"`
	SchoolIDs        []uuid.UUID `json:"school_ids"`
	Grades           []string    `json:"grades"`
	OpensAt          time.Time   `json:"opens_at"`
	ClosesAt         time.Time   `json:"closes_at"`
	ConsentRule      string      `json:"consent_rule"`
	StudentMessage   string      `json:"student_message"`
	ShowHelpContacts *bool       `json:"show_help_contacts"`
}

// CampaignPatch edits a campaign: its title, message, help contacts or closing time.
type CampaignPatch struct {
	Title            *string    `json:"title"`
	ClosesAt         *time.Time `json:"closes_at"`
	StudentMessage   *string    `json:"student_message"`
	ShowHelpContacts *bool      `json:"show_help_contacts"`
}

func (s *Service) status(c *Campaign) {
	now := s.now()
	switch {
	case now.Before(c.OpensAt):
		c.Status = "scheduled"
	case now.Before(c.ClosesAt):
		c.Status = "open"
	default:
		c.Status = "closed"
	}
}

const campaignColumns = `c.id, c.district_id, c.title, c.school_ids, c.grades, c.opens_at, c.closes_at, c.consent_rule, c.student_message, c.show_help_contacts, c.created_at`

func (s *Service) loadCampaigns(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]Campaign, error) {
	rows, err := tx.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns c WHERE `+where+` ORDER BY c.opens_at DESC, c.id`, args...)
	if err != nil {
		return nil, database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) {
		var c Campaign
		err := r.Scan(&c.ID, &c.districtID, &c.Title, &c.SchoolIDs, &c.Grades, &c.OpensAt, &c.ClosesAt, &c.ConsentRule,
			&c.StudentMessage, &c.ShowHelpContacts, &c.CreatedAt)
		return c, err
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	for i := range list {
		s.status(&list[i])
		list[i].Instruments = []CampaignInstrument{}
		rows, err := tx.Query(ctx, `SELECT i.id, i.code, i.version, i.definition->'name' FROM campaign_instruments ci
			JOIN instruments i ON i.id = ci.instrument_id WHERE ci.campaign_id = $1 ORDER BY ci.position`, list[i].ID)
		if err != nil {
			return nil, database.MapError(err)
		}
		ins, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignInstrument, error) {
			var x CampaignInstrument
			var name []byte
			if err := r.Scan(&x.ID, &x.Code, &x.Version, &name); err != nil {
				return x, err
			}
			return x, json.Unmarshal(name, &x.Name)
		})
		if err != nil {
			return nil, database.MapError(err)
		}
		list[i].Instruments = ins
	}
	return list, nil
}

// definitions loads the campaign's instrument definitions in campaign order.
func definitions(ctx context.Context, tx pgx.Tx, campaign uuid.UUID) ([]Instrument, error) {
	rows, err := tx.Query(ctx, `SELECT `+prefixColumns("i.")+` FROM campaign_instruments ci JOIN instruments i ON i.id = ci.instrument_id
		WHERE ci.campaign_id = $1 ORDER BY ci.position`, campaign)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instrument, error) { return scanInstrument(r) })
	return out, database.MapError(err)
}

func prefixColumns(p string) string {
	return p + "id, " + p + "code, " + p + "version, " + p + "district_id IS NULL, " + p + "licensed, " + p + "used, " + p +
		"created_at, " + p + "definition, md5(" + p + "definition::text)"
}

// Campaigns lists the district's campaigns.
func (s *Service) Campaigns(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Campaign, error) {
	var out []Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = s.loadCampaigns(ctx, tx, `c.district_id = $1`, district)
		return err
	})
	return out, err
}

// Campaign returns one campaign of the district.
func (s *Service) Campaign(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Campaign, error) {
	var out Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := s.loadCampaigns(ctx, tx, `c.district_id = $1 AND c.id = $2`, district, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		out = list[0]
		return nil
	})
	return out, err
}

// CreateCampaign creates a campaign. Licensed instruments need a valid licence and an
// enablement for every target school.
func (s *Service) CreateCampaign(ctx context.Context, a scope.Actor, district uuid.UUID, in CampaignInput) (Campaign, error) {
	var f []fault.FieldError
	text("title", &in.Title, 200, &f)
	if len(in.InstrumentIDs) == 0 || len(in.InstrumentIDs) > 5 {
		f = append(f, fault.Field("instrument_ids", "required", "one to five instruments"))
	} else if hasDup(in.InstrumentIDs) {
		f = append(f, fault.Field("instrument_ids", "duplicate", "an instrument is listed twice"))
	}
	if len(in.SchoolIDs) == 0 || len(in.SchoolIDs) > 1000 || hasDup(in.SchoolIDs) {
		f = append(f, fault.Field("school_ids", "required", "one or more distinct schools"))
	}
	if in.Grades == nil {
		in.Grades = []string{}
	}
	for i, g := range in.Grades {
		in.Grades[i] = strings.TrimSpace(g)
		if in.Grades[i] == "" || utf8.RuneCountInString(in.Grades[i]) > 64 {
			f = append(f, fault.Field("grades", "invalid_value", "grade names of 1 to 64 characters"))
			break
		}
	}
	if in.OpensAt.IsZero() {
		f = append(f, fault.Field("opens_at", "required", "the opening time is required"))
	}
	if in.ClosesAt.IsZero() || !in.ClosesAt.After(in.OpensAt) {
		f = append(f, fault.Field("closes_at", "out_of_range", "the closing time must come after the opening time"))
	} else if !in.ClosesAt.After(s.now()) {
		f = append(f, fault.Field("closes_at", "out_of_range", "the closing time must be in the future"))
	} else if in.ClosesAt.Sub(in.OpensAt) > 120*24*time.Hour {
		f = append(f, fault.Field("closes_at", "out_of_range", "a campaign runs at most 120 days"))
	}
	if !slices.Contains(ConsentRules, in.ConsentRule) {
		f = append(f, fault.Field("consent_rule", "invalid_value", "one of opt_in, opt_out, none"))
	}
	in.StudentMessage = strings.TrimSpace(in.StudentMessage)
	if utf8.RuneCountInString(in.StudentMessage) > 2000 {
		f = append(f, fault.Field("student_message", "too_long", "at most 2,000 characters"))
	}
	if len(f) > 0 {
		return Campaign{}, fault.Validation(f...)
	}
	help := true
	if in.ShowHelpContacts != nil {
		help = *in.ShowHelpContacts
	}
	var out Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM schools WHERE district_id = $1 AND id = ANY ($2)`, district, in.SchoolIDs).Scan(&n); err != nil {
			return database.MapError(err)
		}
		if n != len(in.SchoolIDs) {
			return fault.Validation(fault.Field("school_ids", "invalid_value", "a school is not in this district"))
		}
		for i, id := range in.InstrumentIDs {
			ins, err := instrumentByID(ctx, tx, district, id, false)
			if fault.KindOf(err) == fault.NotFound {
				return fault.Validation(fault.Field("instrument_ids["+strconv.Itoa(i)+"]", "invalid_value", "no such instrument"))
			}
			if err != nil {
				return err
			}
			if ins.Licensed {
				ok, err := validLicence(ctx, tx, district, ins.Code, s.now())
				if err != nil {
					return err
				}
				var enabled int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM instrument_enablements WHERE district_id = $1 AND instrument_code = $2 AND school_id = ANY ($3)`,
					district, ins.Code, in.SchoolIDs).Scan(&enabled); err != nil {
					return database.MapError(err)
				}
				if !ok || enabled != len(in.SchoolIDs) {
					return fault.New(fault.Conflict, "instrument %s is licensed: record a valid licence and enable it for every target school first", ins.Code)
				}
			}
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (id, district_id, title, school_ids, grades, opens_at, closes_at, consent_rule, student_message, show_help_contacts, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, id, district, in.Title, in.SchoolIDs, in.Grades, in.OpensAt, in.ClosesAt,
			in.ConsentRule, in.StudentMessage, help, a.UserID); err != nil {
			return database.MapError(err)
		}
		for i, ins := range in.InstrumentIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO campaign_instruments (campaign_id, position, instrument_id) VALUES ($1, $2, $3)`, id, i, ins); err != nil {
				return database.MapError(err)
			}
		}
		list, err := s.loadCampaigns(ctx, tx, `c.district_id = $1 AND c.id = $2`, district, id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "campaigns.create", ObjectType: "campaign", ObjectID: id.String()})
	})
	return out, err
}

func hasDup(ids []uuid.UUID) bool {
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}

// UpdateCampaign edits a campaign's title, message, help-contact switch or closing time
// (closing early ends every code at once).
func (s *Service) UpdateCampaign(ctx context.Context, a scope.Actor, district, id uuid.UUID, in CampaignPatch) (Campaign, error) {
	var f []fault.FieldError
	if in.Title != nil {
		text("title", in.Title, 200, &f)
	}
	if in.StudentMessage != nil {
		*in.StudentMessage = strings.TrimSpace(*in.StudentMessage)
		if utf8.RuneCountInString(*in.StudentMessage) > 2000 {
			f = append(f, fault.Field("student_message", "too_long", "at most 2,000 characters"))
		}
	}
	if len(f) > 0 {
		return Campaign{}, fault.Validation(f...)
	}
	var out Campaign
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := s.loadCampaigns(ctx, tx, `c.district_id = $1 AND c.id = $2`, district, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		c := list[0]
		if in.ClosesAt != nil && !in.ClosesAt.After(c.OpensAt) {
			return fault.Validation(fault.Field("closes_at", "out_of_range", "the closing time must come after the opening time"))
		}
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET title = coalesce($3, title), closes_at = coalesce($4, closes_at),
			student_message = coalesce($5, student_message), show_help_contacts = coalesce($6, show_help_contacts)
			WHERE district_id = $1 AND id = $2`, district, id, in.Title, in.ClosesAt, in.StudentMessage, in.ShowHelpContacts); err != nil {
			return database.MapError(err)
		}
		if list, err = s.loadCampaigns(ctx, tx, `c.district_id = $1 AND c.id = $2`, district, id); err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "campaigns.update", ObjectType: "campaign", ObjectID: id.String()})
	})
	return out, err
}

// GradeProgress is a suppressed count of one grade of one school.
type GradeProgress struct {
	Grade     string `json:"grade"`
	Eligible  string `json:"eligible"`
	Completed string `json:"completed"`
}

// SchoolProgress is a school's row of a district progress view.
type SchoolProgress struct {
	SchoolID   uuid.UUID       `json:"school_id"`
	SchoolName string          `json:"school_name"`
	Grades     []GradeProgress `json:"grades"`
}

// BandCount is a suppressed count of students in one band of one instrument.
type BandCount struct {
	InstrumentCode string `json:"instrument_code"`
	Band           string `json:"band"`
	Count          string `json:"count"`
}

// DistrictProgress is what district staff see of a campaign: counts only, with every
// count from 1 to 4 shown as "<5". No student is identifiable.
type DistrictProgress struct {
	Schools []SchoolProgress `json:"schools"`
	Bands   []BandCount      `json:"bands"`
}

// Progress returns the district view of a campaign.
func (s *Service) Progress(ctx context.Context, a scope.Actor, district, id uuid.UUID) (DistrictProgress, error) {
	out := DistrictProgress{Schools: []SchoolProgress{}, Bands: []BandCount{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE district_id = $1 AND id = $2)`, district, id).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.New(fault.NotFound, "not found")
		}
		rows, err := tx.Query(ctx, `SELECT school_id, school_name, grade, eligible, completed FROM screening_campaign_progress($1)`, id)
		if err != nil {
			return database.MapError(err)
		}
		type row struct {
			school          uuid.UUID
			name, grade     string
			eligible, compl int64
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.school, &x.name, &x.grade, &x.eligible, &x.compl)
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, x := range list {
			if n := len(out.Schools); n == 0 || out.Schools[n-1].SchoolID != x.school {
				out.Schools = append(out.Schools, SchoolProgress{SchoolID: x.school, SchoolName: x.name, Grades: []GradeProgress{}})
			}
			sp := &out.Schools[len(out.Schools)-1]
			sp.Grades = append(sp.Grades, GradeProgress{Grade: x.grade, Eligible: Count(x.eligible), Completed: Count(x.compl)})
		}
		rows, err = tx.Query(ctx, `SELECT instrument_code, band, n FROM screening_campaign_bands($1)`, id)
		if err != nil {
			return database.MapError(err)
		}
		bands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BandCount, error) {
			var b BandCount
			var n int64
			err := r.Scan(&b.InstrumentCode, &b.Band, &n)
			b.Count = Count(n)
			return b, err
		})
		if err != nil {
			return database.MapError(err)
		}
		out.Bands = bands
		return audit.Record(ctx, tx, a, audit.Entry{Action: "campaigns.progress", ObjectType: "campaign", ObjectID: id.String()})
	})
	return out, err
}
