package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/teachingcase"
)

// Teaching cases (典型案例): draft from a closed case file, review, publish, the bank.

func (s *Server) draftTeachingCase(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.TeachingCases.Draft(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) teachingCaseDrafts(cl *call) error {
	res, err := s.TeachingCases.Drafts(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[teachingcase.Draft]{Items: res}, err)
}

func (s *Server) reviewTeachingCase(cl *call) error {
	id, err := cl.pathID("draftId")
	if err != nil {
		return err
	}
	var in teachingcase.ReviewInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.TeachingCases.Review(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) publishTeachingCase(cl *call) error {
	id, err := cl.pathID("draftId")
	if err != nil {
		return err
	}
	res, err := s.TeachingCases.Publish(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) discardTeachingCase(cl *call) error {
	id, err := cl.pathID("draftId")
	if err != nil {
		return err
	}
	if err := s.TeachingCases.Discard(cl, cl.Actor, cl.School, id); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) teachingCaseBank(cl *call) error {
	res, err := s.TeachingCases.Bank(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[teachingcase.Published]{Items: res}, err)
}
