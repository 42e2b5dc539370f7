package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/referral"
)

// Crises (危机干预).

func (s *Server) listCrises(cl *call) error {
	res, err := s.Crises.List(cl, cl.Actor, cl.School, cl.Query("status"))
	return respond(cl, http.StatusOK, itemsResponse[crisis.Crisis]{Items: res}, err)
}

func (s *Server) openCrisis(cl *call) error {
	var in crisis.OpenInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Crises.Open(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getCrisis(cl *call) error {
	id, err := cl.pathID("crisisId")
	if err != nil {
		return err
	}
	res, err := s.Crises.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) recordCrisisStep(cl *call) error {
	id, err := cl.pathID("crisisId")
	if err != nil {
		return err
	}
	var in crisis.StepInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Crises.RecordStep(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getCrisisSettings(cl *call) error {
	res, err := s.Crises.GetSettings(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveCrisisSettings(cl *call) error {
	var in crisis.Settings
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Crises.SaveSettings(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) crisisBoard(cl *call) error {
	res, err := s.Crises.Board(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[crisis.BoardEntry]{Items: res}, err)
}

func (s *Server) crisisBoardEntry(cl *call) error {
	id, err := cl.pathID("crisisId")
	if err != nil {
		return err
	}
	res, err := s.Crises.BoardCrisis(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) addCrisisBoardNote(cl *call) error {
	id, err := cl.pathID("crisisId")
	if err != nil {
		return err
	}
	var in crisis.NoteInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Crises.AddNote(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

// Partner institutions and referrals (转介).

func (s *Server) listInstitutions(cl *call) error {
	res, err := s.Referrals.Institutions(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[referral.Institution]{Items: res}, err)
}

func (s *Server) createInstitution(cl *call) error {
	var in referral.InstitutionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Referrals.CreateInstitution(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) updateInstitution(cl *call) error {
	id, err := cl.pathID("institutionId")
	if err != nil {
		return err
	}
	var in referral.InstitutionInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Referrals.UpdateInstitution(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listReferrals(cl *call) error {
	q := &query{cl: cl}
	caseFile := q.uuid("case_file_id")
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Referrals.List(cl, cl.Actor, cl.School, caseFile)
	return respond(cl, http.StatusOK, itemsResponse[referral.Referral]{Items: res}, err)
}

func (s *Server) sendReferral(cl *call) error {
	var in referral.SendInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Referrals.Send(cl, cl.Actor, cl.School, in)
	cl.Header("Cache-Control", "no-store")
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) referralID(cl *call) (uuid.UUID, error) { return cl.pathID("referralId") }

func (s *Server) getReferral(cl *call) error {
	id, err := s.referralID(cl)
	if err != nil {
		return err
	}
	res, err := s.Referrals.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) referralLetter(cl *call) error {
	id, err := s.referralID(cl)
	if err != nil {
		return err
	}
	b, err := s.Referrals.LetterPDF(cl, cl.Actor, cl.School, id)
	if err != nil {
		return err
	}
	cl.Header("Cache-Control", "no-store")
	cl.Header("Content-Disposition", attachment("转介函.pdf"))
	cl.Data(http.StatusOK, "application/pdf", b)
	return nil
}

func (s *Server) setReferralStatus(cl *call) error {
	id, err := s.referralID(cl)
	if err != nil {
		return err
	}
	var in referral.StatusInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Referrals.SetStatus(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) setReturnPlan(cl *call) error {
	id, err := s.referralID(cl)
	if err != nil {
		return err
	}
	var in referral.ReturnPlanInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Referrals.SetReturnPlan(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) reissueReferralLink(cl *call) error {
	id, err := s.referralID(cl)
	if err != nil {
		return err
	}
	res, err := s.Referrals.ReissueLink(cl, cl.Actor, cl.School, id)
	cl.Header("Cache-Control", "no-store")
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) openReferralLink(cl *call) error {
	return s.codeGuard(cl, func() error {
		res, err := s.Referrals.OpenLink(cl, cl.Param("token"))
		return respond(cl, http.StatusOK, res, err)
	})
}

func (s *Server) answerReferralLink(cl *call) error {
	return s.codeGuard(cl, func() error {
		var in referral.LinkInput
		if err := decodeJSON(cl.Context, &in); err != nil {
			return err
		}
		res, err := s.Referrals.AnswerLink(cl, cl.Param("token"), in)
		return respond(cl, http.StatusOK, res, err)
	})
}

// Background job runs (admins).

func (s *Server) listJobRuns(cl *call) error {
	res, err := s.Jobs.List(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, itemsResponse[jobrun.Run]{Items: res}, err)
}
