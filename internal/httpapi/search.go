package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/roster"
)

// Searches that may name a student or a user (a name, a student number) are POSTed as a
// JSON body: nothing confidential travels in an address, where proxies, browser history
// and server logs would keep it. The GET lists keep their non-confidential filters and
// refuse a search term.

// maxSearchTerm caps a search term (bytes).
const maxSearchTerm = 64

// noSearchInAddress refuses a search term in the query string of a GET list.
func noSearchInAddress(cl *call, search string) error {
	if _, ok := cl.GetQuery("q"); ok {
		return fault.New(fault.Malformed, "search terms are not sent in the address: POST them to %s", search)
	}
	return nil
}

// searchPage is the paging part of every search body.
type searchPage struct {
	Cursor string `json:"cursor"`
	Limit  int    `json:"limit"`
}

func (p searchPage) request(cl *call, fields *[]fault.FieldError) page.Request {
	cur, err := cl.openCursor(p.Cursor)
	if err != nil {
		*fields = append(*fields, fault.Field("cursor", "invalid_format", "the cursor is not valid (ask for the first page again)"))
	}
	if p.Limit < 0 {
		p.Limit = -1
	}
	return page.Request{Cursor: cur, Limit: p.Limit}
}

func checkTerm(q string, fields *[]fault.FieldError) string {
	if len(q) > maxSearchTerm {
		*fields = append(*fields, fault.Field("q", "too_long", "the search term is too long"))
		return ""
	}
	return q
}

// StudentSearch is the body of POST …/students/search.
type StudentSearch struct {
	Q          string     `json:"q"`
	HomeroomID *uuid.UUID `json:"homeroom_id"`
	GradeID    *uuid.UUID `json:"grade_id"`
	Status     string     `json:"status"`
	searchPage
}

// CaseFileSearch is the body of POST …/case-files/search (the catalogue).
type CaseFileSearch struct {
	Q             string     `json:"q"`
	HomeroomID    *uuid.UUID `json:"homeroom_id"`
	GradeID       *uuid.UUID `json:"grade_id"`
	RiskTier      string     `json:"risk_tier"`
	Status        string     `json:"status"`
	CounselorID   *uuid.UUID `json:"counselor_id"`
	Mine          bool       `json:"mine"`
	ContactBefore *time.Time `json:"contact_before"`
	ContactAfter  *time.Time `json:"contact_after"`
	searchPage
}

// UserSearch is the body of POST …/users/search.
type UserSearch struct {
	Q string `json:"q"`
	searchPage
}

func fieldsErr(fields []fault.FieldError) error {
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	return nil
}

func (s *Server) searchStudents(cl *call) error {
	var in StudentSearch
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	var fields []fault.FieldError
	f := roster.Filter{Query: checkTerm(in.Q, &fields), HomeroomID: in.HomeroomID, GradeID: in.GradeID, Status: in.Status,
		Page: in.request(cl, &fields)}
	if err := fieldsErr(fields); err != nil {
		return err
	}
	res, err := s.Roster.List(cl, cl.Actor, cl.School, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) searchCaseFiles(cl *call) error {
	var in CaseFileSearch
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	var fields []fault.FieldError
	f := casefile.CatalogueFilter{Query: checkTerm(in.Q, &fields), HomeroomID: in.HomeroomID, GradeID: in.GradeID,
		RiskTier: in.RiskTier, Status: in.Status, CounselorID: in.CounselorID, ContactBefore: in.ContactBefore,
		ContactAfter: in.ContactAfter, Page: in.request(cl, &fields)}
	if in.Mine {
		f.CounselorID = &cl.Actor.UserID
	}
	if err := fieldsErr(fields); err != nil {
		return err
	}
	res, err := s.CaseFiles.Catalogue(cl, cl.Actor, cl.School, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) searchUsers(cl *call) error {
	var in UserSearch
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	var fields []fault.FieldError
	text, pr := checkTerm(in.Q, &fields), in.request(cl, &fields)
	if err := fieldsErr(fields); err != nil {
		return err
	}
	res, err := s.Identity.ListUsers(cl, cl.Actor, cl.District, text, pr)
	return respond(cl, http.StatusOK, res, err)
}
