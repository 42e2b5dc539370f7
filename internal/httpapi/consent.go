package httpapi

import (
	"net/http"

	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/disclosure"
)

func (s *Server) listConsents(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.Consents.List(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[consent.Consent]{Items: res}, err)
}

func (s *Server) recordConsent(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in consent.Input
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Consents.Record(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

type revokeConsentRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) revokeConsent(cl *call) error {
	file, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	id, err := cl.pathID("consentId")
	if err != nil {
		return err
	}
	var in revokeConsentRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Consents.Revoke(cl, cl.Actor, cl.School, file, id, in.Reason)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) disclosureLog(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.Disclosures.Log(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[disclosure.Entry]{Items: res}, err)
}

func (s *Server) recordDisclosure(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in disclosure.Input
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Disclosures.Record(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) recordInquiry(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in disclosure.InquiryInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Disclosures.RecordInquiry(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}
