package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/program"
)

// School term plans (学校学期计划), the district's overdue tasks and the peer-liaison
// network (trainings, meetings, roster).

func (s *Server) getTermPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.TermPlan(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveTermPlan(cl *call) error { return s.writeTermPlan(cl, false) }

func (s *Server) submitTermPlan(cl *call) error { return s.writeTermPlan(cl, true) }

func (s *Server) writeTermPlan(cl *call, submit bool) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	var in program.TermPlanInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.SaveTermPlan(cl, cl.Actor, cl.School, id, in, submit)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) termPlanSubmissions(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.Programs.TermPlanSubmissions(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) districtTermPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	school, err := cl.pathID("schoolId")
	if err != nil {
		return err
	}
	res, err := s.Programs.TermPlan(cl, cl.Actor, school, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) reviewTermPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	school, err := cl.pathID("schoolId")
	if err != nil {
		return err
	}
	var in struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.ReviewTermPlan(cl, cl.Actor, cl.District, id, school, in.Verdict, in.Reason)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) overdueTasks(cl *call) error {
	res, err := s.Programs.OverdueTasks(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) liaisonRoster(cl *call) error {
	res, err := s.Programs.LiaisonRoster(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listLiaisonEvents(cl *call) error {
	res, err := s.Programs.LiaisonEvents(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[program.LiaisonEvent]{Items: res}, err)
}

func (s *Server) recordLiaisonEvent(cl *call) error {
	var in program.LiaisonEventInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Programs.RecordLiaisonEvent(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}
