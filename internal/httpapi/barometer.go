package httpapi

import (
	"net/http"
	"strconv"

	"github.com/xinqiao/xinqiao/internal/barometer"
)

func (s *Server) barometerForm(cl *call) error {
	res, err := s.Barometer.Form(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) submitBarometer(cl *call) error {
	var in barometer.SubmitInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Barometer.Submit(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listBarometer(cl *call) error {
	weeks, _ := strconv.Atoi(cl.Query("weeks"))
	res, err := s.Barometer.List(cl, cl.Actor, cl.School, weeks)
	return respond(cl, http.StatusOK, itemsResponse[barometer.Report]{Items: res}, err)
}
