package httpapi

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/termsummary"
)

func (s *Server) getTermSummary(cl *call) error {
	term, err := cl.pathID("termId")
	if err != nil {
		return err
	}
	res, err := s.TermSummaries.Get(cl, cl.Actor, cl.School, term)
	return respond(cl, http.StatusOK, res, err)
}

type narrativeInput struct {
	Narrative string `json:"narrative"`
}

func (s *Server) saveTermSummary(cl *call) error {
	return s.writeTermSummary(cl, false)
}

func (s *Server) submitTermSummary(cl *call) error {
	return s.writeTermSummary(cl, true)
}

func (s *Server) writeTermSummary(cl *call, submit bool) error {
	term, err := cl.pathID("termId")
	if err != nil {
		return err
	}
	var in narrativeInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.TermSummaries.Save(cl, cl.Actor, cl.School, term, in.Narrative, submit)
	return respond(cl, http.StatusOK, res, err)
}

// exportTermSummary answers the summary as a PDF (format=pdf) or XLSX (format=xlsx) attachment.
func (s *Server) exportTermSummary(cl *call) error {
	term, err := cl.pathID("termId")
	if err != nil {
		return err
	}
	format := cl.Query("format")
	if format != "pdf" && format != "xlsx" {
		return fault.Validation(fault.Field("format", "invalid_value", "format must be pdf or xlsx"))
	}
	sum, err := s.TermSummaries.Get(cl, cl.Actor, cl.School, term)
	if err != nil {
		return err
	}
	var body []byte
	ct := "application/pdf"
	if format == "pdf" {
		body, err = s.TermSummaries.PDF(sum)
	} else {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		body, err = s.TermSummaries.XLSX(sum)
	}
	if err != nil {
		return err
	}
	h := cl.Writer.Header()
	h.Set("Content-Disposition", attachment(sum.Figures.SchoolName+"-"+sum.Figures.TermName+"-期末小结."+format))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	cl.Data(http.StatusOK, ct, body)
	return nil
}

func (s *Server) termSummaryQueue(cl *call) error {
	res, err := s.TermSummaries.Queue(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[termsummary.QueueItem]{Items: res}, err)
}

func (s *Server) reviewTermSummary(cl *call) error {
	school, err := cl.pathID("schoolId")
	if err != nil {
		return err
	}
	term, err := cl.pathID("termId")
	if err != nil {
		return err
	}
	var in struct {
		Verdict string `json:"verdict"`
		Comment string `json:"comment"`
	}
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	if school == uuid.Nil {
		return fault.New(fault.NotFound, "not found")
	}
	res, err := s.TermSummaries.Review(cl, cl.Actor, cl.District, school, term, in.Verdict, in.Comment)
	return respond(cl, http.StatusOK, res, err)
}
