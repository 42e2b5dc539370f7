// Package scope describes who acts and within which tenant: the actor of a request.
// Every domain call takes an Actor explicitly; the database layer turns it into the
// transaction-local settings that row-level security reads.
package scope

import (
	"slices"

	"github.com/google/uuid"
)

// Kind is the level an actor acts at.
type Kind string

// Scope kinds.
const (
	None     Kind = ""         // no tenant: login, unauthenticated requests
	User     Kind = "user"     // the user's own data only (me, logout)
	District Kind = "district" // a district and its district-level tables
	School   Kind = "school"   // one school (tenant)
)

// Roles, as in the built-in Casbin policy.
const (
	DistrictAdmin      = "district_admin"
	DistrictSupervisor = "district_supervisor"
	Researcher         = "researcher"
	SchoolLeader       = "school_leader"
	Counselor          = "counselor"
	HomeroomTeacher    = "homeroom_teacher"
	PeerLiaison        = "peer_liaison"
)

// DistrictRoles are held in a district scope; SchoolRoles in a school scope.
var (
	DistrictRoles = []string{DistrictAdmin, DistrictSupervisor, Researcher}
	SchoolRoles   = []string{SchoolLeader, Counselor, HomeroomTeacher, PeerLiaison}
	AllRoles      = append(slices.Clone(DistrictRoles), SchoolRoles...)
)

// Actor is the authenticated user acting within one scope.
type Actor struct {
	UserID     uuid.UUID
	Username   string
	DistrictID uuid.UUID // always set for an authenticated actor
	SchoolID   uuid.UUID // set when Kind == School
	Kind       Kind
	Roles      []string // roles held in this scope
	RequestID  string
	ClientIP   string
}

// Domain is the Casbin domain of the actor's scope.
func (a Actor) Domain() string {
	switch a.Kind {
	case School:
		return "school:" + a.SchoolID.String()
	case District:
		return "district:" + a.DistrictID.String()
	}
	return ""
}

// Has reports whether the actor holds role in its scope.
func (a Actor) Has(role string) bool { return slices.Contains(a.Roles, role) }

// RoleLabel joins the actor's roles for the audit log.
func (a Actor) RoleLabel() string {
	s := ""
	for i, r := range a.Roles {
		if i > 0 {
			s += ","
		}
		s += r
	}
	return s
}

// Membership is a user's role in a district or a school.
type Membership struct {
	ID           uuid.UUID  `json:"id"`
	ScopeType    Kind       `json:"scope_type"`
	DistrictID   uuid.UUID  `json:"district_id"`
	DistrictName string     `json:"district_name"`
	SchoolID     *uuid.UUID `json:"school_id"`
	SchoolName   *string    `json:"school_name"`
	Role         string     `json:"role"`
	HomeroomID   *uuid.UUID `json:"homeroom_id"`
}
