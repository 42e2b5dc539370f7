package httpapi

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/screening"
)

// CodeLimiter throttles the public student page per client address: every request
// spends from a generous budget (a whole class may share one school address), and
// every unknown code spends from a small one, so guessing codes gets nowhere.
type CodeLimiter struct {
	Requests  rate.Limit // requests per second per address
	Burst     int
	Misses    rate.Limit // unknown codes per second per address
	MissBurst int

	mu      sync.Mutex
	clients map[string]*codeClient
	swept   time.Time
}

type codeClient struct {
	requests, misses *rate.Limiter
	seen             time.Time
}

// DefaultCodeLimiter allows 120 requests a minute (burst 60) and 20 unknown codes per
// 10 minutes per address.
func DefaultCodeLimiter() *CodeLimiter {
	return &CodeLimiter{Requests: rate.Every(500 * time.Millisecond), Burst: 60, Misses: rate.Every(30 * time.Second), MissBurst: 20}
}

func (l *CodeLimiter) client(ip string) *codeClient {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.clients == nil {
		l.clients = map[string]*codeClient{}
	}
	if now.Sub(l.swept) > 10*time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > 30*time.Minute {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[ip]
	if !ok {
		c = &codeClient{requests: rate.NewLimiter(l.Requests, l.Burst), misses: rate.NewLimiter(l.Misses, l.MissBurst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c
}

var errTooManyCodes = fault.New(fault.RateLimited, "too many attempts from this network: wait a few minutes and try again")

// guard runs fn unless the address is over its budget, and counts unknown codes.
func (s *Server) codeGuard(cl *call, fn func() error) error {
	c := s.codeLimiter.client(cl.ClientIP())
	if !c.requests.Allow() || c.misses.Tokens() < 1 {
		return errTooManyCodes
	}
	cl.Header("Cache-Control", "no-store")
	cl.Header("Referrer-Policy", "no-referrer")
	err := fn()
	if fault.KindOf(err) == fault.NotFound {
		c.misses.Allow()
	}
	return err
}

func (s *Server) openScreeningCode(cl *call) error {
	return s.codeGuard(cl, func() error {
		res, err := s.Screening.Open(cl, cl.Param("code"))
		return respond(cl, http.StatusOK, res, err)
	})
}

func (s *Server) submitScreeningCode(cl *call) error {
	return s.codeGuard(cl, func() error {
		var in screening.SubmitInput
		if err := decodeJSON(cl.Context, &in); err != nil {
			return err
		}
		res, err := s.Screening.Submit(cl, cl.Param("code"), in)
		return respond(cl, http.StatusCreated, res, err)
	})
}

// District: instruments, licences, settings, campaigns, escalations.

func (s *Server) listInstruments(cl *call) error {
	res, err := s.Screening.ListInstruments(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[screening.Instrument]{Items: res}, err)
}

func (s *Server) getInstrument(cl *call) error {
	id, err := cl.pathID("instrumentId")
	if err != nil {
		return err
	}
	res, err := s.Screening.GetInstrument(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) createInstrument(cl *call) error {
	var in screening.DefinitionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.CreateInstrument(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) updateInstrument(cl *call) error {
	id, err := cl.pathID("instrumentId")
	if err != nil {
		return err
	}
	var in screening.DefinitionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.UpdateInstrument(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) checkInstrument(cl *call) error {
	var in screening.DefinitionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.Check(in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listLicences(cl *call) error {
	res, err := s.Screening.Licences(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[screening.Licence]{Items: res}, err)
}

func (s *Server) recordLicence(cl *call) error {
	var in screening.LicenceInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.RecordLicence(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listEnablements(cl *call) error {
	res, err := s.Screening.Enablements(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[screening.Enablement]{Items: res}, err)
}

func (s *Server) enableInstrument(cl *call) error {
	var in screening.EnablementInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.Enable(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getScreeningSettings(cl *call) error {
	res, err := s.Screening.GetSettings(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveScreeningSettings(cl *call) error {
	var in screening.Settings
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.SaveSettings(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listCampaigns(cl *call) error {
	res, err := s.Screening.Campaigns(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[screening.Campaign]{Items: res}, err)
}

func (s *Server) createCampaign(cl *call) error {
	var in screening.CampaignInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.CreateCampaign(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getCampaign(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	res, err := s.Screening.Campaign(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) updateCampaign(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	var in screening.CampaignPatch
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.UpdateCampaign(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) campaignProgress(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	res, err := s.Screening.Progress(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listEscalations(cl *call) error {
	res, err := s.Screening.DistrictEscalations(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[screening.Escalation]{Items: res}, err)
}

// School: campaigns, roster, consent, codes, assessments, alerts.

func (s *Server) schoolCampaigns(cl *call) error {
	res, err := s.Screening.SchoolCampaigns(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[screening.Campaign]{Items: res}, err)
}

func (s *Server) schoolCampaign(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	res, err := s.Screening.SchoolCampaign(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) campaignRoster(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	q := &query{cl: cl}
	homeroom := q.uuid("homeroom_id")
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Screening.Roster(cl, cl.Actor, cl.School, id, homeroom)
	return respond(cl, http.StatusOK, itemsResponse[screening.RosterEntry]{Items: res}, err)
}

func (s *Server) setScreeningConsent(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	student, err := cl.pathID("studentId")
	if err != nil {
		return err
	}
	var in screening.ConsentInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.SetConsent(cl, cl.Actor, cl.School, id, student, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) homeroomProgress(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	res, err := s.Screening.SchoolProgressByHomeroom(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[screening.HomeroomProgress]{Items: res}, err)
}

func (s *Server) issueCodes(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	var in screening.CodesInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.IssueCodes(cl, cl.Actor, cl.School, id, in)
	cl.Header("Cache-Control", "no-store")
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) issueCodesXLSX(cl *call) error {
	id, err := cl.pathID("campaignId")
	if err != nil {
		return err
	}
	var in screening.CodesInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	sheet, err := s.Screening.IssueCodes(cl, cl.Actor, cl.School, id, in)
	if err != nil {
		return err
	}
	scheme := "http"
	if cl.Request.TLS != nil || s.SecureCookies {
		scheme = "https"
	}
	b, err := sheet.XLSX(scheme + "://" + cl.Request.Host)
	if err != nil {
		return fault.Wrap(err, "code sheet")
	}
	cl.Header("Cache-Control", "no-store")
	cl.Header("Content-Disposition", attachment("测查码-"+sheet.Title+".xlsx"))
	cl.Data(http.StatusCreated, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
	return nil
}

func (s *Server) recordAssessment(cl *call) error {
	student, err := cl.pathID("studentId")
	if err != nil {
		return err
	}
	var in screening.PaperInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.RecordPaper(cl, cl.Actor, cl.School, student, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) studentAssessments(cl *call) error {
	student, err := cl.pathID("studentId")
	if err != nil {
		return err
	}
	res, err := s.Screening.StudentHistory(cl, cl.Actor, cl.School, student)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) getAssessment(cl *call) error {
	id, err := cl.pathID("assessmentId")
	if err != nil {
		return err
	}
	res, err := s.Screening.GetAssessment(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listScreeningAlerts(cl *call) error {
	res, err := s.Screening.Alerts(cl, cl.Actor, cl.School, cl.Query("status"))
	return respond(cl, http.StatusOK, itemsResponse[screening.Alert]{Items: res}, err)
}

func (s *Server) acknowledgeAlert(cl *call) error {
	id, err := cl.pathID("alertId")
	if err != nil {
		return err
	}
	var in screening.AckInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Screening.Acknowledge(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}
