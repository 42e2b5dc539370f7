package identity

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// NewUser is the input to create an account.
type NewUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

func (n *NewUser) validate() error {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	var fields []fault.FieldError
	if !usernamePattern.MatchString(n.Username) {
		fields = append(fields, fault.Field("username", "invalid_format", "3-64 characters: lower-case letters, digits, '.', '_' or '-'"))
	}
	if l := utf8.RuneCountInString(n.DisplayName); l < 1 || l > 64 {
		fields = append(fields, fault.Field("display_name", "required", "a display name of 1-64 characters is required"))
	}
	if err := CheckPasswordPolicy(n.Password); err != nil {
		fields = append(fields, fault.Field("password", "too_short", err.Error()))
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	return nil
}

func insertUser(ctx context.Context, tx pgx.Tx, district uuid.UUID, n NewUser) (uuid.UUID, error) {
	hash, err := HashPassword(n.Password)
	if err != nil {
		return uuid.Nil, fault.Wrap(err, "hash password")
	}
	id := uuid.Must(uuid.NewV7())
	// No RETURNING: a school-scoped creator may not see the user until its membership exists.
	_, err = tx.Exec(ctx, `INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ($1, $2, $3, $4, $5)`,
		id, district, n.Username, n.DisplayName, hash)
	if err != nil {
		if fault.KindOf(database.MapError(err)) == fault.Conflict {
			return uuid.Nil, &fault.Error{Kind: fault.Conflict, Message: "the username is taken",
				Fields: []fault.FieldError{fault.Field("username", "duplicate", "the username is taken")}}
		}
		return uuid.Nil, database.MapError(err)
	}
	return id, nil
}

// CreateUser creates an account in the actor's district (district scope).
func (s *Service) CreateUser(ctx context.Context, a scope.Actor, district uuid.UUID, n NewUser) (User, error) {
	if err := n.validate(); err != nil {
		return User{}, err
	}
	var u User
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id, err := insertUser(ctx, tx, district, n)
		if err != nil {
			return err
		}
		if u, err = getUser(ctx, tx, district, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.create", ObjectType: "user", ObjectID: id.String()})
	})
	return u, err
}

func getUser(ctx context.Context, tx pgx.Tx, district, id uuid.UUID) (User, error) {
	var u User
	err := tx.QueryRow(ctx, `SELECT id, username, display_name, district_id, disabled, created_at FROM users
		WHERE district_id = $1 AND id = $2`, district, id).
		Scan(&u.ID, &u.Username, &u.DisplayName, &u.DistrictID, &u.Disabled, &u.CreatedAt)
	return u, database.MapError(err)
}

// ListUsers lists the district's accounts by username, optionally matching q.
func (s *Service) ListUsers(ctx context.Context, a scope.Actor, district uuid.UUID, q string, pr page.Request) (page.Page[User], error) {
	size, err := pr.Size()
	if err != nil {
		return page.Page[User]{}, err
	}
	after, err := pr.After()
	if err != nil {
		return page.Page[User]{}, err
	}
	var items []User
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, username, display_name, district_id, disabled, created_at, sso_id,
			EXISTS (SELECT 1 FROM user_mfa f WHERE f.district_id = users.district_id AND f.user_id = users.id AND f.confirmed_at IS NOT NULL)
			FROM users
			WHERE district_id = $1 AND username > $2
			  AND ($3 = '' OR username LIKE '%' || $3 || '%' OR display_name LIKE '%' || $3 || '%')
			ORDER BY username LIMIT $4`, district, after, strings.ToLower(strings.TrimSpace(q)), size+1)
		if err != nil {
			return database.MapError(err)
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
			var u User
			return u, r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.DistrictID, &u.Disabled, &u.CreatedAt, &u.SSOID, &u.MFAEnrolled)
		})
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.list", ObjectType: "user"})
	})
	return page.Build(items, size, func(u User) string { return u.Username }), err
}

// MembershipView is a membership with its user and school names.
type MembershipView struct {
	ID          uuid.UUID  `json:"id"`
	UserID      uuid.UUID  `json:"user_id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	ScopeType   scope.Kind `json:"scope_type"`
	DistrictID  uuid.UUID  `json:"district_id"`
	SchoolID    *uuid.UUID `json:"school_id"`
	SchoolName  *string    `json:"school_name"`
	Role        string     `json:"role"`
	HomeroomID  *uuid.UUID `json:"homeroom_id"`
	CreatedAt   time.Time  `json:"created_at"`
}

const membershipSelect = `SELECT m.id, m.user_id, u.username, u.display_name, m.scope_type, m.district_id, m.school_id, s.name,
	m.role, m.homeroom_id, m.created_at
	FROM memberships m JOIN users u ON u.id = m.user_id AND u.district_id = m.district_id
	LEFT JOIN schools s ON s.id = m.school_id AND s.district_id = m.district_id `

func scanMembership(r pgx.CollectableRow) (MembershipView, error) {
	var m MembershipView
	var kind string
	err := r.Scan(&m.ID, &m.UserID, &m.Username, &m.DisplayName, &kind, &m.DistrictID, &m.SchoolID, &m.SchoolName,
		&m.Role, &m.HomeroomID, &m.CreatedAt)
	m.ScopeType = scope.Kind(kind)
	return m, err
}

// MembershipFilter narrows ListMemberships.
type MembershipFilter struct {
	UserID   *uuid.UUID
	SchoolID *uuid.UUID
	Page     page.Request
}

// ListMemberships lists memberships of the district (district scope) or of the school
// (school scope).
func (s *Service) ListMemberships(ctx context.Context, a scope.Actor, f MembershipFilter) (page.Page[MembershipView], error) {
	size, err := f.Page.Size()
	if err != nil {
		return page.Page[MembershipView]{}, err
	}
	after, err := f.Page.After()
	if err != nil {
		return page.Page[MembershipView]{}, err
	}
	if a.Kind == scope.School {
		f.SchoolID = &a.SchoolID
	}
	var items []MembershipView
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, membershipSelect+`
			WHERE m.district_id = $1 AND m.id::text > $2
			  AND ($3::uuid IS NULL OR m.user_id = $3) AND ($4::uuid IS NULL OR m.school_id = $4)
			ORDER BY m.id::text LIMIT $5`, a.DistrictID, after, f.UserID, f.SchoolID, size+1)
		if err != nil {
			return database.MapError(err)
		}
		if items, err = pgx.CollectRows(rows, scanMembership); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "memberships.list", ObjectType: "membership"})
	})
	return page.Build(items, size, func(m MembershipView) string { return m.ID.String() }), err
}

// Grant is the input to grant a membership.
type Grant struct {
	UserID     uuid.UUID  `json:"user_id"`
	ScopeType  scope.Kind `json:"scope_type"`
	SchoolID   *uuid.UUID `json:"school_id"`
	Role       string     `json:"role"`
	HomeroomID *uuid.UUID `json:"homeroom_id"`
}

func (g *Grant) validate(a scope.Actor) error {
	var fields []fault.FieldError
	isDistrictRole := false
	for _, r := range scope.DistrictRoles {
		isDistrictRole = isDistrictRole || r == g.Role
	}
	known := isDistrictRole
	for _, r := range scope.SchoolRoles {
		known = known || r == g.Role
	}
	if g.UserID == uuid.Nil {
		fields = append(fields, fault.Field("user_id", "required", "user_id is required"))
	}
	switch {
	case !known:
		fields = append(fields, fault.Field("role", "invalid_value", "unknown role"))
	case g.ScopeType == scope.District && !isDistrictRole, g.ScopeType == scope.School && isDistrictRole:
		fields = append(fields, fault.Field("role", "invalid_value", "the role does not exist at this scope"))
	case g.ScopeType != scope.District && g.ScopeType != scope.School:
		fields = append(fields, fault.Field("scope_type", "invalid_value", "scope_type must be district or school"))
	}
	if a.Kind == scope.School {
		if g.SchoolID != nil && *g.SchoolID != a.SchoolID {
			fields = append(fields, fault.Field("school_id", "invalid_value", "memberships can be granted in your own school only"))
		}
		g.SchoolID = &a.SchoolID
	}
	if g.ScopeType == scope.School && g.SchoolID == nil {
		fields = append(fields, fault.Field("school_id", "required", "school_id is required for a school membership"))
	}
	if g.ScopeType == scope.District {
		g.SchoolID = nil
	}
	needsHomeroom := g.Role == scope.HomeroomTeacher || g.Role == scope.PeerLiaison
	if needsHomeroom && g.HomeroomID == nil {
		fields = append(fields, fault.Field("homeroom_id", "required", "a homeroom is required for this role"))
	}
	if !needsHomeroom && g.HomeroomID != nil {
		fields = append(fields, fault.Field("homeroom_id", "invalid_value", "this role has no homeroom"))
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	return nil
}

// GrantMembership grants a role. The actor may grant only the roles its own policy
// lets it grant ("role:<name> grant"), so never a role more powerful than its own.
func (s *Service) GrantMembership(ctx context.Context, a scope.Actor, g Grant) (MembershipView, error) {
	if err := g.validate(a); err != nil {
		return MembershipView{}, err
	}
	if !s.Authorizer.Allowed(a, "role:"+g.Role, "grant") {
		return MembershipView{}, fault.New(fault.Forbidden, "you may not grant this role")
	}
	var m MembershipView
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		m, err = insertMembership(ctx, tx, a, g)
		return err
	})
	return m, err
}

func insertMembership(ctx context.Context, tx pgx.Tx, a scope.Actor, g Grant) (MembershipView, error) {
	if g.HomeroomID != nil {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM org_units WHERE school_id = $1 AND id = $2 AND kind = 'homeroom')`,
			g.SchoolID, g.HomeroomID).Scan(&ok); err != nil {
			return MembershipView{}, database.MapError(err)
		}
		if !ok {
			return MembershipView{}, fault.Validation(fault.Field("homeroom_id", "invalid_value", "no such homeroom in this school"))
		}
	}
	id := uuid.Must(uuid.NewV7())
	_, err := tx.Exec(ctx, `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role, homeroom_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, g.UserID, a.DistrictID, string(g.ScopeType), g.SchoolID, g.Role, g.HomeroomID, a.UserID)
	if err != nil {
		err = database.MapError(err)
		if fault.KindOf(err) == fault.Invalid {
			return MembershipView{}, fault.Validation(fault.Field("user_id", "invalid_value", "no such user or school in this district"))
		}
		return MembershipView{}, err
	}
	row, err := tx.Query(ctx, membershipSelect+`WHERE m.district_id = $1 AND m.id = $2`, a.DistrictID, id)
	if err != nil {
		return MembershipView{}, database.MapError(err)
	}
	m, err := pgx.CollectExactlyOneRow(row, scanMembership)
	if err != nil {
		return MembershipView{}, database.MapError(err)
	}
	return m, audit.Record(ctx, tx, a, audit.Entry{Action: "memberships.grant", ObjectType: "membership", ObjectID: id.String(),
		Reason: "role " + g.Role})
}

// RevokeMembership removes a membership the actor could have granted.
func (s *Service) RevokeMembership(ctx context.Context, a scope.Actor, id uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var role string
		var user uuid.UUID
		err := tx.QueryRow(ctx, `SELECT role, user_id FROM memberships WHERE district_id = $1 AND id = $2
			AND ($3::uuid IS NULL OR school_id = $3)`, a.DistrictID, id, schoolOf(a)).Scan(&role, &user)
		if err != nil {
			return database.MapError(err)
		}
		if !s.Authorizer.Allowed(a, "role:"+role, "grant") {
			return fault.New(fault.Forbidden, "you may not revoke this role")
		}
		if user == a.UserID {
			return fault.New(fault.Conflict, "you cannot revoke your own membership")
		}
		tag, err := tx.Exec(ctx, `DELETE FROM memberships WHERE district_id = $1 AND id = $2`, a.DistrictID, id)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "memberships.revoke", ObjectType: "membership", ObjectID: id.String(), Reason: "role " + role})
	})
}

func schoolOf(a scope.Actor) *uuid.UUID {
	if a.Kind == scope.School {
		return &a.SchoolID
	}
	return nil
}

// NewStaff creates a school account with a homeroom role in one step (school leader).
type NewStaff struct {
	NewUser
	Role       string     `json:"role"`
	HomeroomID *uuid.UUID `json:"homeroom_id"`
}

// CreateStaff creates a user and grants it a role in the actor's school, atomically.
func (s *Service) CreateStaff(ctx context.Context, a scope.Actor, n NewStaff) (MembershipView, error) {
	g := Grant{UserID: uuid.Max, ScopeType: scope.School, SchoolID: &a.SchoolID, Role: n.Role, HomeroomID: n.HomeroomID}
	var fields []fault.FieldError
	if err := n.validate(); err != nil {
		fe, _ := fault.As(err)
		fields = append(fields, fe.Fields...)
	}
	if err := g.validate(a); err != nil {
		fe, _ := fault.As(err)
		fields = append(fields, fe.Fields...)
	}
	if len(fields) > 0 {
		return MembershipView{}, fault.Validation(fields...)
	}
	if !s.Authorizer.Allowed(a, "role:"+g.Role, "grant") {
		return MembershipView{}, fault.New(fault.Forbidden, "you may not grant this role")
	}
	var m MembershipView
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id, err := insertUser(ctx, tx, a.DistrictID, n.NewUser)
		if err != nil {
			return err
		}
		g.UserID = id
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "users.create", ObjectType: "user", ObjectID: id.String()}); err != nil {
			return err
		}
		m, err = insertMembership(ctx, tx, a, g)
		return err
	})
	return m, err
}

// BootstrapAdminTx creates the first district administrator of a district inside the
// caller's transaction. It is for bootstrapping (tenant.BootstrapDistrict), not the API.
func (s *Service) BootstrapAdminTx(ctx context.Context, tx pgx.Tx, a scope.Actor, n NewUser) (User, error) {
	if err := n.validate(); err != nil {
		return User{}, err
	}
	id, err := insertUser(ctx, tx, a.DistrictID, n)
	if err != nil {
		return User{}, err
	}
	if _, err := insertMembership(ctx, tx, a, Grant{UserID: id, ScopeType: scope.District, Role: scope.DistrictAdmin}); err != nil {
		return User{}, err
	}
	u, err := getUser(ctx, tx, a.DistrictID, id)
	if err != nil {
		return User{}, err
	}
	return u, audit.Record(ctx, tx, a, audit.Entry{Action: "users.bootstrap_admin", ObjectType: "user", ObjectID: id.String()})
}
