package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/retention"
)

func (s *Server) getRetention(cl *call) error {
	res, err := s.Retention.Policy(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) setRetention(cl *call) error {
	var in retention.Policy
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Retention.SetPolicy(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listDestructions(cl *call) error {
	res, err := s.Retention.Destructions(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[retention.Destruction]{Items: res}, err)
}
