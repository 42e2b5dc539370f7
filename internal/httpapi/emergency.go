package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/emergency"
)

func (s *Server) openEmergencyAccess(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in emergency.Request
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Emergency.Open(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) readUnderEmergencyAccess(cl *call) error {
	id, err := cl.pathID("grantId")
	if err != nil {
		return err
	}
	res, err := s.Emergency.Read(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) myEmergencyGrants(cl *call) error {
	res, err := s.Emergency.Mine(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[emergency.Grant]{Items: res}, err)
}

func (s *Server) caseFileEmergencyGrants(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.Emergency.OnCaseFile(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[emergency.Grant]{Items: res}, err)
}

func (s *Server) listEmergencyReviews(cl *call) error {
	res, err := s.Emergency.Reviews(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[emergency.Review]{Items: res}, err)
}

func (s *Server) closeEmergencyReview(cl *call) error {
	id, err := cl.pathID("grantId")
	if err != nil {
		return err
	}
	var in emergency.Verdict
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Emergency.Close(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) endEmergencyAccess(cl *call) error {
	id, err := cl.pathID("grantId")
	if err != nil {
		return err
	}
	res, err := s.Emergency.End(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) openClientFileEmergencyAccess(cl *call) error {
	id, err := cl.pathID("clientFileId")
	if err != nil {
		return err
	}
	var in emergency.Request
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Emergency.OpenClientFile(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) clientFileEmergencyGrants(cl *call) error {
	id, err := cl.pathID("clientFileId")
	if err != nil {
		return err
	}
	res, err := s.Emergency.OnClientFile(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[emergency.Grant]{Items: res}, err)
}

func (s *Server) readClientFileUnderEmergencyAccess(cl *call) error {
	id, err := cl.pathID("grantId")
	if err != nil {
		return err
	}
	res, err := s.Emergency.ReadClientFile(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}
