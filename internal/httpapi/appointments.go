package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/fault"
)

// The counseling room: opening hours, slots, closures, appointments, public requests.

func (s *Server) roomSchedule(cl *call) error {
	res, err := s.Appointments.GetSchedule(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, res, err)
}

type windowsBody struct {
	OpeningHours []appointment.Window `json:"opening_hours"`
	Slots        []appointment.Window `json:"slots"`
}

func (s *Server) setOpeningHours(cl *call) error {
	var in windowsBody
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Appointments.SetOpeningHours(cl, cl.Actor, cl.School, in.OpeningHours)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) setMySlots(cl *call) error {
	var in windowsBody
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Appointments.SetMySlots(cl, cl.Actor, cl.School, in.Slots)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) addClosure(cl *call) error {
	var in appointment.ClosureInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Appointments.AddClosure(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) deleteClosure(cl *call) error {
	id, err := cl.pathID("closureId")
	if err != nil {
		return err
	}
	if err := s.Appointments.DeleteClosure(cl, cl.Actor, cl.School, id); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) listAppointments(cl *call) error {
	q := &query{cl: cl}
	f := appointment.Filter{CounselorID: q.uuid("counselor_id"), Status: q.text("status", 20)}
	if t := q.time("from"); t != nil {
		f.From = *t
	}
	if t := q.time("to"); t != nil {
		f.To = *t
	}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Appointments.List(cl, cl.Actor, cl.School, f)
	return respond(cl, http.StatusOK, itemsResponse[appointment.Appointment]{Items: res}, err)
}

func (s *Server) appointmentStats(cl *call) error {
	q := &query{cl: cl}
	var from, to time.Time
	if t := q.time("from"); t != nil {
		from = *t
	}
	if t := q.time("to"); t != nil {
		to = *t
	}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Appointments.Stats(cl, cl.Actor, cl.School, from, to)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) bookAppointment(cl *call) error {
	var in appointment.BookInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Appointments.Book(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

// appointmentAction runs one state change of an appointment with its JSON body.
func appointmentAction[T any](fn func(cl *call, id uuid.UUID, in T) (appointment.Appointment, error)) func(*call) error {
	return func(cl *call) error {
		id, err := cl.pathID("appointmentId")
		if err != nil {
			return err
		}
		var in T
		if cl.Request.ContentLength != 0 {
			if err := decodeJSON(cl.Context, &in); err != nil {
				return err
			}
		}
		res, err := fn(cl, id, in)
		return respond(cl, http.StatusOK, res, err)
	}
}

type cancelBody struct {
	Reason string `json:"reason"`
}

type noBody struct{}

func (s *Server) appointmentRoutes() map[string]func(*call) error {
	return map[string]func(*call) error{
		"accept": appointmentAction(func(cl *call, id uuid.UUID, in appointment.AcceptInput) (appointment.Appointment, error) {
			return s.Appointments.Accept(cl, cl.Actor, cl.School, id, in)
		}),
		"decline": appointmentAction(func(cl *call, id uuid.UUID, _ noBody) (appointment.Appointment, error) {
			return s.Appointments.Decline(cl, cl.Actor, cl.School, id)
		}),
		"move": appointmentAction(func(cl *call, id uuid.UUID, in appointment.MoveInput) (appointment.Appointment, error) {
			return s.Appointments.Move(cl, cl.Actor, cl.School, id, in)
		}),
		"cancel": appointmentAction(func(cl *call, id uuid.UUID, in cancelBody) (appointment.Appointment, error) {
			return s.Appointments.Cancel(cl, cl.Actor, cl.School, id, in.Reason)
		}),
		"no-show": appointmentAction(func(cl *call, id uuid.UUID, _ noBody) (appointment.Appointment, error) {
			return s.Appointments.NoShow(cl, cl.Actor, cl.School, id)
		}),
		"check-in": appointmentAction(func(cl *call, id uuid.UUID, in appointment.CheckInInput) (appointment.Appointment, error) {
			return s.Appointments.CheckIn(cl, cl.Actor, cl.School, id, in)
		}),
	}
}

// Public request page: no account. A malformed or unknown school is simply not found.

func publicSchool(cl *call) (uuid.UUID, error) {
	id, err := uuid.Parse(cl.Param("schoolId"))
	if err != nil {
		return uuid.Nil, fault.New(fault.NotFound, "not found")
	}
	return id, nil
}

func (s *Server) publicRoom(cl *call) error {
	school, err := publicSchool(cl)
	if err != nil {
		return err
	}
	res, err := s.Appointments.Room(cl, cl.Actor, school)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) requestAppointment(cl *call) error {
	school, err := publicSchool(cl)
	if err != nil {
		return err
	}
	var in appointment.RequestInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Appointments.Request(cl, cl.Actor, school, in)
	return respond(cl, http.StatusAccepted, res, err)
}
