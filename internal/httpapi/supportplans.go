package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/supportplan"
)

func (s *Server) listSupportPlans(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.SupportPlans.List(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[supportplan.Plan]{Items: res}, err)
}

func (s *Server) createSupportPlan(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in supportplan.Input
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.SupportPlans.Create(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getSupportPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	res, err := s.SupportPlans.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) updateSupportPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	var in supportplan.Input
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.SupportPlans.Update(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) reviewSupportPlan(cl *call) error {
	id, err := cl.pathID("planId")
	if err != nil {
		return err
	}
	var in supportplan.ReviewInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.SupportPlans.RecordReview(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listDistrictCategories(cl *call) error {
	res, err := s.CaseFiles.DistrictCategories(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[casefile.Category]{Items: res}, err)
}

func (s *Server) createCategory(cl *call) error {
	var in casefile.CategoryInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.CreateCategory(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) updateCategory(cl *call) error {
	var in casefile.CategoryInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.UpdateCategory(cl, cl.Actor, cl.District, cl.Param("code"), in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listSchoolCategories(cl *call) error {
	res, err := s.CaseFiles.SchoolCategories(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[casefile.Category]{Items: res}, err)
}
