package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/notify"
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

func (s *Server) inboxSummary(cl *call) error {
	res, err := s.Inbox.Count(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listDistrictInbox(cl *call) error {
	res, err := s.Inbox.ListDistrict(cl, cl.Actor, cl.District, cl.Query("all") == "true")
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) districtInboxSummary(cl *call) error {
	res, err := s.Inbox.CountDistrict(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) markDistrictInboxRead(cl *call) error {
	id, err := cl.pathID("itemId")
	if err != nil {
		return err
	}
	res, err := s.Inbox.MarkReadDistrict(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) completeDistrictInboxItem(cl *call) error {
	id, err := cl.pathID("itemId")
	if err != nil {
		return err
	}
	res, err := s.Inbox.DoneDistrict(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) getNotificationSettings(cl *call) error {
	res, err := s.Notifications.Get(cl, cl.Actor)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveNotificationSettings(cl *call) error {
	var in notify.SettingsInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Notifications.Save(cl, cl.Actor, in)
	return respond(cl, http.StatusOK, res, err)
}
