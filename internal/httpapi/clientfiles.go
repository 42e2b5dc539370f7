package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/clientfile"
)

// Staff and guardian clients' confidential files: the school's counselors only.

func (s *Server) listClientFiles(cl *call) error {
	res, err := s.ClientFiles.List(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[clientfile.File]{Items: res}, err)
}

func (s *Server) openClientFile(cl *call) error {
	var in clientfile.OpenInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.ClientFiles.Open(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getClientFile(cl *call) error {
	id, err := cl.pathID("clientFileId")
	if err != nil {
		return err
	}
	res, err := s.ClientFiles.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) recordClientSession(cl *call) error {
	id, err := cl.pathID("clientFileId")
	if err != nil {
		return err
	}
	var in clientfile.SessionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.ClientFiles.RecordSession(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}
