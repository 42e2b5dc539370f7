package httpapi

import (
	"io"
	"net/http"
	"strconv"

	"github.com/xinqiao/xinqiao/internal/research"
)

func (s *Server) researchCodebook(cl *call) error {
	return respond(cl, http.StatusOK, itemsResponse[research.Field]{Items: research.Codebook}, nil)
}

func (s *Server) listResearchRequests(cl *call) error {
	res, err := s.Research.List(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[research.Request]{Items: res}, err)
}

func (s *Server) fileResearchRequest(cl *call) error {
	var in research.RequestInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Research.File(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getResearchRequest(cl *call) error {
	id, err := cl.pathID("requestId")
	if err != nil {
		return err
	}
	res, err := s.Research.Get(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) decideResearchRequest(cl *call) error {
	id, err := cl.pathID("requestId")
	if err != nil {
		return err
	}
	var in research.Decision
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Research.Decide(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) downloadResearchFile(cl *call) error {
	id, err := cl.pathID("requestId")
	if err != nil {
		return err
	}
	rc, f, err := s.Research.Download(cl, cl.Actor, cl.District, id, cl.Param("name"))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := cl.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Content-Disposition", attachment(f.Name))
	h.Set("Cache-Control", "no-store")
	cl.Status(http.StatusOK)
	if _, err := io.Copy(cl.Writer, rc); err != nil {
		s.Log.Error("research download interrupted", "request_id", requestID(cl.Context), "err", err)
	}
	return nil
}
