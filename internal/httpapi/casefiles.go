package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/tenant"
)

type openCaseFileRequest struct {
	StudentID uuid.UUID `json:"student_id"`
}

func (s *Server) openCaseFile(cl *call) error {
	var in openCaseFileRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.Open(cl, cl.Actor, cl.School, in.StudentID)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getCaseFile(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.CaseFiles.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

type caseFileStatusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (s *Server) setCaseFileStatus(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in caseFileStatusRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.SetStatus(cl, cl.Actor, cl.School, id, in.Status, in.Reason)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) caseFileTimeline(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.CaseFiles.Timeline(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[casefile.Session]{Items: res}, err)
}

func (s *Server) recordSession(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in casefile.SessionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.RecordSession(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

type noteRequest struct {
	Note string `json:"note"`
}

func (s *Server) setSessionNote(cl *call) error {
	id, err := cl.pathID("sessionId")
	if err != nil {
		return err
	}
	var in noteRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.SetNote(cl, cl.Actor, cl.School, id, in.Note)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) signSession(cl *call) error {
	id, err := cl.pathID("sessionId")
	if err != nil {
		return err
	}
	res, err := s.CaseFiles.Sign(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

type addendumRequest struct {
	Body string `json:"body"`
}

func (s *Server) addAddendum(cl *call) error {
	id, err := cl.pathID("sessionId")
	if err != nil {
		return err
	}
	var in addendumRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.AddAddendum(cl, cl.Actor, cl.School, id, in.Body)
	return respond(cl, http.StatusCreated, res, err)
}

type riskTierRequest struct {
	Tier   string `json:"tier"`
	Reason string `json:"reason"`
}

func (s *Server) setRiskTier(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in riskTierRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.SetTier(cl, cl.Actor, cl.School, id, in.Tier, in.Reason)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) riskTierHistory(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.CaseFiles.TierHistory(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[casefile.TierChange]{Items: res}, err)
}

func (s *Server) warningList(cl *call) error {
	res, err := s.CaseFiles.WarningList(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, itemsResponse[casefile.Warning]{Items: res}, err)
}

func (s *Server) caseFileCatalogue(cl *call) error {
	if err := noSearchInAddress(cl, "/api/v1/schools/{schoolId}/case-files/search"); err != nil {
		return err
	}
	q := &query{cl: cl}
	f := casefile.CatalogueFilter{Page: q.page(), HomeroomID: q.uuid("homeroom_id"), GradeID: q.uuid("grade_id"),
		RiskTier: q.text("risk_tier", 16), Status: q.text("status", 16), CounselorID: q.uuid("counselor_id"),
		ContactBefore: q.time("contact_before"), ContactAfter: q.time("contact_after")}
	if cl.Query("mine") == "true" {
		f.CounselorID = &cl.Actor.UserID
	}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.CaseFiles.Catalogue(cl, cl.Actor, cl.School, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) handoffCaseFile(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	var in casefile.HandoffInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.CaseFiles.Handoff(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) getSchoolSettings(cl *call) error {
	res, err := s.Tenants.SchoolSettings(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) updateSchoolSettings(cl *call) error {
	var in tenant.SettingsInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Tenants.UpdateSchoolSettings(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) caseFileEvents(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.CaseFiles.Events(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[casefile.Event]{Items: res}, err)
}
