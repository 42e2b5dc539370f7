package httpapi

import (
	"net/http"
)

func (s *Server) listInbox(cl *call) error {
	res, err := s.Inbox.List(cl, cl.Actor, cl.School, cl.Query("all") == "true")
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) markInboxRead(cl *call) error {
	id, err := cl.pathID("itemId")
	if err != nil {
		return err
	}
	res, err := s.Inbox.MarkRead(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) completeInboxItem(cl *call) error {
	id, err := cl.pathID("itemId")
	if err != nil {
		return err
	}
	res, err := s.Inbox.Done(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}
