package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/program"
)

func (s *Server) listTerms(cl *call) error {
	res, err := s.Programs.Terms(cl, cl.Actor)
	return respond(cl, http.StatusOK, itemsResponse[program.Term]{Items: res}, err)
}

func (s *Server) createTerm(cl *call) error {
	var in program.TermInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.CreateTerm(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listDistrictPlans(cl *call) error {
	res, err := s.Programs.Plans(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[program.Plan]{Items: res}, err)
}

func (s *Server) createDistrictPlan(cl *call) error {
	var in program.PlanInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.CreatePlan(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getDistrictPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.Plan(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) updateDistrictPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	var in program.PlanInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.UpdatePlan(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) publishDistrictPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if cl.Request.ContentLength != 0 {
		if err := decodeJSON(cl.Context, &in); err != nil {
			return err
		}
	}
	res, err := s.Programs.Publish(cl, cl.Actor, cl.District, id, in.Note)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) districtPlanVersions(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.Versions(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, itemsResponse[program.Version]{Items: res}, err)
}

func (s *Server) districtPlanCompliance(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.Compliance(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) schoolPlans(cl *call) error {
	res, err := s.Programs.SchoolPlans(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[program.SchoolPlan]{Items: res}, err)
}

func (s *Server) schoolPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.SchoolPlanDetail(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listActivities(cl *call) error {
	var term uuid.UUID
	if v := cl.Query("term_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return fault.Validation(fault.Field("term_id", "invalid_value", "term_id must be a term's id"))
		}
		term = id
	}
	res, err := s.Programs.Activities(cl, cl.Actor, cl.School, term)
	return respond(cl, http.StatusOK, itemsResponse[program.Activity]{Items: res}, err)
}

func (s *Server) recordActivity(cl *call) error {
	var in program.ActivityInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.RecordActivity(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) uploadActivityEvidence(cl *call) error {
	id, err := cl.pathID("activityId")
	if err != nil {
		return err
	}
	return s.uploadEvidence(cl, program.EvidenceInput{ActivityID: &id})
}

func (s *Server) uploadIndicatorEvidence(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	return s.uploadEvidence(cl, program.EvidenceInput{PlanID: &id, IndicatorCode: cl.Param("code")})
}

// uploadEvidence reads a multipart/form-data body with the fields title and file.
func (s *Server) uploadEvidence(cl *call, in program.EvidenceInput) error {
	if cl.ContentType() != "multipart/form-data" {
		return fault.New(fault.Unsupported, "upload the evidence as multipart/form-data with the fields title and file")
	}
	limit := s.Programs.Limit()
	cl.Request.Body = http.MaxBytesReader(cl.Writer, cl.Request.Body, limit+1<<20)
	mr, err := cl.Request.MultipartReader()
	if err != nil {
		return fault.New(fault.Malformed, "the body is not valid multipart/form-data")
	}
	readErr := func(err error) error {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge(limit)
		}
		return fault.New(fault.Malformed, "the body is not valid multipart/form-data")
	}
	var content []byte
	var fields []fault.FieldError
	haveFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return readErr(err)
		}
		switch p.FormName() {
		case "file":
			if haveFile {
				return fault.Validation(fault.Field("file", "duplicate", "one file per upload"))
			}
			haveFile = true
			in.Filename = p.FileName()
			if content, err = io.ReadAll(io.LimitReader(p, limit+1)); err != nil {
				return readErr(err)
			}
			if int64(len(content)) > limit {
				return tooLarge(limit)
			}
		case "title":
			v, err := io.ReadAll(io.LimitReader(p, 4<<10))
			if err != nil {
				return readErr(err)
			}
			in.Title = string(v)
		default:
			fields = append(fields, fault.Field(p.FormName(), "unknown_field", "unknown field"))
		}
	}
	if !haveFile {
		fields = append(fields, fault.Field("file", "required", "a file field named file is required"))
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	res, err := s.Programs.UploadEvidence(cl, cl.Actor, cl.School, in, strings.NewReader(string(content)))
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) downloadEvidence(cl *call) error {
	id, err := cl.pathID("evidenceId")
	if err != nil {
		return err
	}
	e, r, err := s.Programs.OpenEvidence(cl, cl.Actor, cl.School, id)
	if err != nil {
		return err
	}
	defer r.Close()
	s.streamObject(cl, "evidence", storedFile{e.ContentType, e.SizeBytes, e.Filename, e.SHA256}, r)
	return nil
}
