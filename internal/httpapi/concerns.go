package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/concern"
)

func (s *Server) raiseConcern(cl *call) error {
	var in concern.RaiseInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Concerns.Raise(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) myConcerns(cl *call) error {
	res, err := s.Concerns.Mine(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[concern.Raised]{Items: res}, err)
}

func (s *Server) intakeQueue(cl *call) error {
	res, err := s.Concerns.Queue(cl, cl.Actor, cl.School, cl.Query("status"))
	return respond(cl, http.StatusOK, itemsResponse[concern.Concern]{Items: res}, err)
}

func (s *Server) acceptConcern(cl *call) error {
	id, err := cl.pathID("concernId")
	if err != nil {
		return err
	}
	res, err := s.Concerns.Accept(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) closeConcern(cl *call) error {
	id, err := cl.pathID("concernId")
	if err != nil {
		return err
	}
	var in concern.CloseInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Concerns.Close(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}
