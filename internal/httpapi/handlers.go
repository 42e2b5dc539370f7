package httpapi

import (
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/tenant"
)

// query collects query-parameter errors so a request reports all of them at once.
type query struct {
	cl     *call
	fields []fault.FieldError
}

func (q *query) page() page.Request {
	cur, err := q.cl.openCursor(q.cl.Query("cursor"))
	if err != nil {
		q.fields = append(q.fields, fault.Field("cursor", "invalid_format", "the cursor is not valid (ask for the first page again)"))
	}
	pr := page.Request{Cursor: cur}
	if v := q.cl.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			q.fields = append(q.fields, fault.Field("limit", "invalid_type", "limit must be an integer"))
		}
		pr.Limit = n
		if err == nil && n == 0 {
			pr.Limit = -1
		}
	}
	return pr
}

func (q *query) uuid(name string) *uuid.UUID {
	v := q.cl.Query(name)
	if v == "" {
		return nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		q.fields = append(q.fields, fault.Field(name, "invalid_format", name+" must be a UUID"))
		return nil
	}
	return &id
}

func (q *query) time(name string) *time.Time {
	v := q.cl.Query(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		q.fields = append(q.fields, fault.Field(name, "invalid_format", name+" must be an RFC 3339 time"))
		return nil
	}
	return &t
}

func (q *query) text(name string, max int) string {
	v := q.cl.Query(name)
	if len(v) > max {
		q.fields = append(q.fields, fault.Field(name, "too_long", name+" is too long"))
		return ""
	}
	return v
}

func (q *query) err() error {
	if len(q.fields) > 0 {
		return fault.Validation(q.fields...)
	}
	return nil
}

// itemsResponse is the body of every list without pagination: {"items": [...]}.
type itemsResponse[T any] struct {
	Items []T `json:"items"`
}

func respond[T any](cl *call, status int, v T, err error) error {
	if err != nil {
		return err
	}
	cl.sealCursor(any(&v))
	cl.JSON(status, v)
	return nil
}

// District administration.

func (s *Server) listSchools(cl *call) error {
	q := &query{cl: cl}
	pr := q.page()
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Tenants.ListSchools(cl, cl.Actor, cl.District, pr)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) createSchool(cl *call) error {
	var in tenant.SchoolInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Tenants.CreateSchool(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) getSchool(cl *call) error {
	id, err := cl.pathID("schoolId")
	if err != nil {
		return err
	}
	res, err := s.Tenants.GetSchool(cl, cl.Actor, cl.District, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) updateSchool(cl *call) error {
	id, err := cl.pathID("schoolId")
	if err != nil {
		return err
	}
	var in tenant.SchoolInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Tenants.UpdateSchool(cl, cl.Actor, cl.District, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) listUsers(cl *call) error {
	if err := noSearchInAddress(cl, "/api/v1/districts/{districtId}/users/search"); err != nil {
		return err
	}
	q := &query{cl: cl}
	pr := q.page()
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Identity.ListUsers(cl, cl.Actor, cl.District, "", pr)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) createUser(cl *call) error {
	var in identity.NewUser
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.CreateUser(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listMemberships(cl *call) error {
	q := &query{cl: cl}
	f := identity.MembershipFilter{Page: q.page(), UserID: q.uuid("user_id"), SchoolID: q.uuid("school_id")}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Identity.ListMemberships(cl, cl.Actor, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) grantMembership(cl *call) error {
	var in identity.Grant
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.GrantMembership(cl, cl.Actor, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) revokeMembership(cl *call) error {
	id, err := cl.pathID("membershipId")
	if err != nil {
		return err
	}
	if err := s.Identity.RevokeMembership(cl, cl.Actor, id); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(cl *call) error {
	q := &query{cl: cl}
	f := audit.Filter{
		Page: q.page(), ActorID: q.uuid("actor_id"), ObjectType: q.text("object_type", 64), ObjectID: q.text("object_id", 64),
		Action: q.text("action", 64), Outcome: q.text("outcome", 16), From: q.time("from"), To: q.time("to"),
	}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Audit.List(cl, cl.Actor, f)
	return respond(cl, http.StatusOK, res, err)
}

// School administration.

func (s *Server) listOrgUnits(cl *call) error {
	res, err := s.Tenants.ListOrgUnits(cl, cl.Actor, cl.School)
	return respond(cl, http.StatusOK, page.Page[tenant.OrgUnit]{Items: res}, err)
}

func (s *Server) createOrgUnit(cl *call) error {
	var in tenant.OrgUnitInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Tenants.CreateOrgUnit(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

type orgUnitPatch struct {
	Name     *string `json:"name"`
	Position *int    `json:"position"`
}

func (s *Server) updateOrgUnit(cl *call) error {
	id, err := cl.pathID("unitId")
	if err != nil {
		return err
	}
	var in orgUnitPatch
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Tenants.UpdateOrgUnit(cl, cl.Actor, cl.School, id, in.Name, in.Position)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) deleteOrgUnit(cl *call) error {
	id, err := cl.pathID("unitId")
	if err != nil {
		return err
	}
	if err := s.Tenants.DeleteOrgUnit(cl, cl.Actor, cl.School, id); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) listStaff(cl *call) error {
	q := &query{cl: cl}
	f := identity.MembershipFilter{Page: q.page(), UserID: q.uuid("user_id")}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Identity.ListMemberships(cl, cl.Actor, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) createStaff(cl *call) error {
	if cl.Actor.Kind != scope.School {
		return fault.New(fault.Forbidden, "staff are created by the school's leader")
	}
	var in identity.NewStaff
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.CreateStaff(cl, cl.Actor, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) revokeStaff(cl *call) error {
	return s.revokeMembership(cl)
}

func (s *Server) listStudents(cl *call) error {
	if err := noSearchInAddress(cl, "/api/v1/schools/{schoolId}/students/search"); err != nil {
		return err
	}
	q := &query{cl: cl}
	f := roster.Filter{Page: q.page(), HomeroomID: q.uuid("homeroom_id"), GradeID: q.uuid("grade_id"),
		Status: q.text("status", 16)}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Roster.List(cl, cl.Actor, cl.School, f)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) getStudent(cl *call) error {
	id, err := cl.pathID("studentId")
	if err != nil {
		return err
	}
	res, err := s.Roster.Get(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) createStudent(cl *call) error {
	var in roster.StudentInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Roster.Create(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) updateStudent(cl *call) error {
	id, err := cl.pathID("studentId")
	if err != nil {
		return err
	}
	var in roster.StudentInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Roster.Update(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) importTemplate(cl *call) error {
	b, err := roster.Template()
	if err != nil {
		return fault.Wrap(err, "roster template")
	}
	cl.Header("Content-Disposition", `attachment; filename="roster-template.xlsx"; filename*=UTF-8''%E5%AD%A6%E7%94%9F%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.xlsx`)
	cl.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
	return nil
}

func (s *Server) importStudents(cl *call) error {
	if cl.ContentType() != "multipart/form-data" {
		return fault.New(fault.Unsupported, "upload the roster as multipart/form-data with a field named file")
	}
	cl.Request.Body = http.MaxBytesReader(cl.Writer, cl.Request.Body, maxUploadBody)
	fh, err := cl.FormFile("file")
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return fault.New(fault.TooLarge, "the file is larger than 20 MiB")
		}
		return fault.Validation(fault.Field("file", "required", "a file field named file is required"))
	}
	ext := strings.ToLower(filepath.Ext(fh.Filename))
	if ext != ".csv" && ext != ".xlsx" {
		return fault.New(fault.Unsupported, "the roster must be an .xlsx or .csv file")
	}
	f, err := fh.Open()
	if err != nil {
		return fault.Wrap(err, "open upload")
	}
	defer f.Close()
	rows, rowErrs, err := roster.Parse(io.LimitReader(f, maxUploadBody), fh.Filename)
	if errors.Is(err, roster.ErrUnsupportedFormat) {
		return fault.New(fault.Unsupported, "the roster must be an .xlsx or .csv file")
	}
	if err != nil {
		return fault.Validation(fault.Field("file", "invalid_format", "the file cannot be read"))
	}
	if len(rowErrs) > 0 {
		fields := make([]fault.FieldError, len(rowErrs))
		for i, e := range rowErrs {
			fields[i] = fault.FieldError{Row: e.Row, Column: e.Column, Code: e.Code, Message: e.Message}
		}
		return &fault.Error{Kind: fault.Invalid, Message: "the file has errors; nothing was imported", Fields: fields}
	}
	opt := roster.ImportOptions{CreateMissingUnits: cl.PostForm("create_missing_units") == "true"}
	res, err := s.Roster.Import(cl, cl.Actor, cl.School, rows, opt)
	return respond(cl, http.StatusOK, res, err)
}
