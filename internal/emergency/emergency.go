// Package emergency owns emergency access to a case file (紧急查阅, break-glass) — a
// student's case file or the file of a staff or guardian client (internal/clientfile),
// under the same rules. A school leader, or a district supervisor of the school's
// district, may open one file outside their rights by giving a reason and re-entering their password. The grant
// lasts at most 60 minutes and is read-only; every read is audited with the grant's id;
// the file's counselors are notified in their inbox; and each grant waits in a review
// queue until a district administrator closes it with a verdict.
//
// What a grantee may read is decided by row-level security at every query (the database
// function case_file_emergency checks expires_at > now()), so a grant that expires stops
// working in the middle of a login session. Private process notes are never returned.
package emergency

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/clientfile"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// MaxDuration is the longest an emergency grant lasts.
const MaxDuration = 60 * time.Minute

// KindOpened is the inbox kind posted to the counselors of a case file;
// KindClientOpened to those of a staff or guardian client's file.
const (
	KindOpened       = "emergency_access_opened"
	KindClientOpened = "client_file_emergency_opened"
)

// chinaTime is the time zone of the expiry shown in the counselors' notice.
var chinaTime = time.FixedZone("CST", 8*3600)

// Verdicts of a review.
var Verdicts = []string{"justified", "not_justified"}

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Passwords checks the signed-in actor's password again (identity.Service implements it,
// with the login throttle and auditing of failures).
// A user enrolled in MFA also gives a current code of the authenticator app.
type Passwords interface {
	ReauthenticateWithCode(ctx context.Context, a scope.Actor, password, code string) error
}

// Reader reads a whole case file in the caller's transaction (casefile.Service).
type Reader interface {
	ReadSnapshot(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (casefile.Snapshot, error)
}

// ClientReader reads a client's file without the counselors' notes in the caller's
// transaction (clientfile.Service).
type ClientReader interface {
	ReadSnapshot(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (clientfile.File, error)
}

// Service is the emergency-access domain service.
type Service struct {
	DB          *database.DB
	Cipher      Cipher
	Passwords   Passwords
	CaseFiles   Reader
	ClientFiles ClientReader
	// Duration of a grant; zero means MaxDuration. Only tests set it shorter; it can
	// never be longer (the database refuses it too).
	Duration time.Duration
}

func (s *Service) duration() time.Duration {
	if s.Duration <= 0 || s.Duration > MaxDuration {
		return MaxDuration
	}
	return s.Duration
}

// Grant is an emergency grant as its grantee and the file's counselors see it: who,
// when, until when, how often it was used and whether it was reviewed — never the reason.
type Grant struct {
	ID           uuid.UUID  `json:"id"`
	SchoolID     uuid.UUID  `json:"school_id"`
	CaseFileID   *uuid.UUID `json:"case_file_id"`   // a student's case file, or
	ClientFileID *uuid.UUID `json:"client_file_id"` // a staff or guardian client's file
	GranteeID    uuid.UUID  `json:"grantee_id"`
	GranteeName  string     `json:"grantee_name"`
	GranteeRole  string     `json:"grantee_role"`
	GrantedAt    time.Time  `json:"granted_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	EndedAt      *time.Time `json:"ended_at"`
	Active       bool       `json:"active"`
	ReadCount    int        `json:"read_count"`
	LastReadAt   *time.Time `json:"last_read_at"`
	Verdict      *string    `json:"verdict"`
	ReviewedAt   *time.Time `json:"reviewed_at"`
}

const grantColumns = `g.id, g.school_id, g.case_file_id, g.grantee_id, g.grantee_name, g.grantee_role, g.granted_at, g.expires_at,
	g.ended_at, (g.ended_at IS NULL AND g.expires_at > now()), g.read_count, g.last_read_at, g.verdict, g.reviewed_at, g.client_file_id`

func (g *Grant) targets() []any {
	return []any{&g.ID, &g.SchoolID, &g.CaseFileID, &g.GranteeID, &g.GranteeName, &g.GranteeRole, &g.GrantedAt, &g.ExpiresAt,
		&g.EndedAt, &g.Active, &g.ReadCount, &g.LastReadAt, &g.Verdict, &g.ReviewedAt, &g.ClientFileID}
}

func scanGrant(r pgx.CollectableRow) (Grant, error) {
	var g Grant
	return g, r.Scan(g.targets()...)
}

// Request is the input of an emergency access request.
type Request struct {
	Reason   string `json:"reason"`
	Password string `json:"password"`
	// Code is the current code of the authenticator app, required when the user has MFA.
	Code string `json:"code,omitempty"`
}

func (r *Request) validate() error {
	r.Reason = strings.TrimSpace(r.Reason)
	var f []fault.FieldError
	if r.Reason == "" {
		f = append(f, fault.Field("reason", "required", "a reason is required"))
	} else if utf8.RuneCountInString(r.Reason) > 1000 {
		f = append(f, fault.Field("reason", "too_long", "at most 1,000 characters"))
	}
	if r.Password == "" {
		f = append(f, fault.Field("password", "required", "re-enter your password"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// granteeRole is the role an emergency grant is given to in the actor's scope: a
// school's leader in the school, a supervisor in a school of their district.
func granteeRole(a scope.Actor) (string, bool) {
	switch {
	case a.Kind == scope.School && slices.Contains(a.Roles, "school_leader"):
		return "school_leader", true
	case a.Kind == scope.District && slices.Contains(a.Roles, "district_supervisor"):
		return "district_supervisor", true
	}
	return "", false
}

// target is what a grant opens: a student's case file or a client's file.
type target struct {
	column     string // emergency_grants column naming the file
	id         uuid.UUID
	objectType string // in the audit log; actions are <objectType>s.emergency_*
	// counselors lists who is told: readable through the grant itself.
	counselors string
	// check runs before the grant is written (nil: the foreign key decides).
	check func(ctx context.Context, tx pgx.Tx) error
}

func caseFileTarget(id uuid.UUID) target {
	return target{column: "case_file_id", id: id, objectType: "case_file",
		counselors: `SELECT user_id FROM case_file_counselors WHERE school_id = $1 AND case_file_id = $2`}
}

func clientFileTarget(school, id uuid.UUID) target {
	return target{column: "client_file_id", id: id, objectType: "client_file",
		// The counselor who opened the file and those who recorded its sessions.
		counselors: `SELECT opened_by FROM client_files WHERE school_id = $1 AND id = $2
			UNION SELECT created_by FROM client_sessions WHERE school_id = $1 AND client_file_id = $2`,
		check: func(ctx context.Context, tx pgx.Tx) error {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT client_file_emergency_target($1, $2)`, school, id).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				return fault.New(fault.NotFound, "not found")
			}
			return nil
		}}
}

// Open grants the actor emergency access to a case file of school after checking the
// reason and the password. The file's counselors are told in their inbox (role and
// expiry, never the reason). A wrong password is refused (403), counted by the login
// throttle and audited; nothing is granted.
func (s *Service) Open(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in Request) (Grant, error) {
	return s.open(ctx, a, school, caseFileTarget(caseFile), in)
}

// OpenClientFile grants emergency access to a staff or guardian client's file under the
// same rules as Open. A staff member's own file is not found.
func (s *Service) OpenClientFile(ctx context.Context, a scope.Actor, school, clientFile uuid.UUID, in Request) (Grant, error) {
	return s.open(ctx, a, school, clientFileTarget(school, clientFile), in)
}

func (s *Service) open(ctx context.Context, a scope.Actor, school uuid.UUID, t target, in Request) (Grant, error) {
	if err := in.validate(); err != nil {
		return Grant{}, err
	}
	role, ok := granteeRole(a)
	if !ok {
		return Grant{}, fault.New(fault.Forbidden, "only a school leader or a district supervisor may use emergency access")
	}
	if err := s.Passwords.ReauthenticateWithCode(ctx, a, in.Password, in.Code); err != nil {
		return Grant{}, err
	}
	var g Grant
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if t.check != nil {
			if err := t.check(ctx, tx); err != nil {
				return err
			}
		}
		var name string
		if err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = $1`, a.UserID).Scan(&name); err != nil {
			return database.MapError(err)
		}
		reason, err := s.Cipher.Encrypt(ctx, tx, school, "emergency.reason", []byte(in.Reason))
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		_, err = tx.Exec(ctx, `INSERT INTO emergency_grants (school_id, id, `+t.column+`, grantee_id, grantee_role, grantee_name, reason, granted_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now() + $8 * interval '1 millisecond')`,
			school, id, t.id, a.UserID, role, name, reason, s.duration().Milliseconds())
		if err != nil {
			if fault.KindOf(database.MapError(err)) == fault.Invalid { // no such file in this school
				return fault.New(fault.NotFound, "not found")
			}
			return database.MapError(err)
		}
		if g, err = getGrant(ctx, tx, school, id); err != nil {
			return err
		}
		// The counselors of the file: readable now through the grant itself.
		rows, err := tx.Query(ctx, t.counselors, school, t.id)
		if err != nil {
			return database.MapError(err)
		}
		counselors, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		var caseFile *uuid.UUID
		kind := KindClientOpened
		params := map[string]string{"role": role, "expires_at": g.ExpiresAt.UTC().Format(time.RFC3339),
			"until": g.ExpiresAt.In(chinaTime).Format("2006-01-02 15:04")}
		if t.objectType == "case_file" {
			caseFile, kind = &t.id, KindOpened
		} else {
			params["client_file_id"] = t.id.String()
		}
		for _, c := range counselors {
			if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c, Kind: kind, CaseFileID: caseFile,
				Subject: "emergency_grant", SubjectID: &id, DedupeKey: "emergency_grant:" + id.String(), Params: params}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: t.objectType + "s.emergency_grant", ObjectType: t.objectType, ObjectID: t.id.String(),
			Reason: "emergency grant " + id.String() + " until " + g.ExpiresAt.UTC().Format(time.RFC3339)})
	})
	return g, err
}

func getGrant(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Grant, error) {
	var g Grant
	err := tx.QueryRow(ctx, `SELECT `+grantColumns+` FROM emergency_grants g WHERE g.school_id = $1 AND g.id = $2`, school, id).Scan(g.targets()...)
	return g, database.MapError(err)
}

// Reading is a case file read under an emergency grant.
type Reading struct {
	Grant Grant `json:"grant"`
	casefile.Snapshot
}

// ErrExpired answers a read under a grant that has expired (or ended).
var ErrExpired = fault.New(fault.Forbidden, "the emergency access has expired")

// Read returns the case file of one of the actor's grants: the file, its timeline and its
// tier history, never private notes. Each read is audited with the grant's id. Once the
// grant has expired the read is refused (403, audited) — and the rows policies would
// hide the file anyway. Another user's grant, or none, is not found.
func (s *Service) Read(ctx context.Context, a scope.Actor, school, grant uuid.UUID) (Reading, error) {
	var out Reading
	err := s.read(ctx, a, school, grant, "case_file", func(tx pgx.Tx, g Grant) (uuid.UUID, error) {
		if g.CaseFileID == nil {
			return uuid.Nil, fault.New(fault.NotFound, "not found")
		}
		out.Grant = g
		var err error
		out.Snapshot, err = s.CaseFiles.ReadSnapshot(ctx, tx, a, school, *g.CaseFileID)
		return *g.CaseFileID, err
	})
	return out, err
}

// ClientReading is a staff or guardian client's file read under an emergency grant.
type ClientReading struct {
	Grant      Grant           `json:"grant"`
	ClientFile clientfile.File `json:"client_file"`
}

// ReadClientFile returns the client's file of one of the actor's grants: who the client
// is and the sessions' summaries, never the counselors' notes. The same rules as Read.
func (s *Service) ReadClientFile(ctx context.Context, a scope.Actor, school, grant uuid.UUID) (ClientReading, error) {
	var out ClientReading
	err := s.read(ctx, a, school, grant, "client_file", func(tx pgx.Tx, g Grant) (uuid.UUID, error) {
		if g.ClientFileID == nil {
			return uuid.Nil, fault.New(fault.NotFound, "not found")
		}
		out.Grant = g
		var err error
		out.ClientFile, err = s.ClientFiles.ReadSnapshot(ctx, tx, school, *g.ClientFileID)
		return *g.ClientFileID, err
	})
	return out, err
}

// read counts and audits one read under a grant of the actor; fetch reads the file and
// tells which it read (a grant of the other kind is not found).
func (s *Service) read(ctx context.Context, a scope.Actor, school, grant uuid.UUID, objectType string,
	fetch func(tx pgx.Tx, g Grant) (uuid.UUID, error)) error {
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, `SELECT emergency_grant_use($1, $2)`, school, grant).Scan(&active); err != nil {
			return database.MapError(err)
		}
		g, err := getGrant(ctx, tx, school, grant)
		if err != nil || g.GranteeID != a.UserID {
			return fault.New(fault.NotFound, "not found")
		}
		if !active {
			if (objectType == "case_file") != (g.CaseFileID != nil) {
				return fault.New(fault.NotFound, "not found")
			}
			return ErrExpired
		}
		file, err := fetch(tx, g)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: objectType + "s.emergency_read", ObjectType: objectType, ObjectID: file.String(),
			Reason: "emergency grant " + grant.String()})
	})
	if err == ErrExpired {
		if aerr := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, a, audit.Entry{Action: objectType + "s.emergency_read", ObjectType: "emergency_grant", ObjectID: grant.String(),
				Outcome: audit.Denied, Reason: "the emergency grant has expired"})
		}); aerr != nil {
			return aerr
		}
	}
	return err
}

// Mine lists the actor's own grants in school, newest first.
func (s *Service) Mine(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Grant, error) {
	return s.list(ctx, a, school, `g.grantee_id = $2`, a.UserID)
}

// OnCaseFile lists the grants on a case file, newest first, for its counselors: who
// opened it, when and until when. A file the actor cannot read is not found.
func (s *Service) OnCaseFile(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Grant, error) {
	return s.list(ctx, a, school, `g.case_file_id = $2`, caseFile, readable(`case_files`, school, caseFile))
}

// OnClientFile lists the grants on a client's file, newest first, for the school's
// counselors. A file the actor cannot read is not found.
func (s *Service) OnClientFile(ctx context.Context, a scope.Actor, school, clientFile uuid.UUID) ([]Grant, error) {
	return s.list(ctx, a, school, `g.client_file_id = $2`, clientFile, readable(`client_files`, school, clientFile))
}

// readable checks that the actor reads the file (row-level security decides).
func readable(table string, school, id uuid.UUID) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE school_id = $1 AND id = $2`, school, id).Scan(&n); err != nil {
			return database.MapError(err)
		}
		if n == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		return nil
	}
}

func (s *Service) list(ctx context.Context, a scope.Actor, school uuid.UUID, where string, arg uuid.UUID, checks ...func(context.Context, pgx.Tx) error) ([]Grant, error) {
	out := []Grant{}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		for _, check := range checks {
			if err := check(ctx, tx); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+grantColumns+` FROM emergency_grants g WHERE g.school_id = $1 AND `+where+`
			ORDER BY g.granted_at DESC, g.id DESC LIMIT 500`, school, arg)
		if err != nil {
			return database.MapError(err)
		}
		if out, err = pgx.CollectRows(rows, scanGrant); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "emergency_access.list", ObjectType: "emergency_grant", ObjectID: arg.String()})
	})
	return out, err
}

// End ends the actor's own active grant before it expires; reading stops at once. A grant
// already ended or expired is a conflict; another user's grant is not found.
func (s *Service) End(ctx context.Context, a scope.Actor, school, grant uuid.UUID) (Grant, error) {
	var out Grant
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		g, err := getGrant(ctx, tx, school, grant)
		if err != nil || g.GranteeID != a.UserID {
			return fault.New(fault.NotFound, "not found")
		}
		var ended bool
		if err := tx.QueryRow(ctx, `SELECT emergency_grant_end($1, $2)`, school, grant).Scan(&ended); err != nil {
			return database.MapError(err)
		}
		if !ended {
			return fault.New(fault.Conflict, "the emergency access has already ended")
		}
		if out, err = getGrant(ctx, tx, school, grant); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.emergency_end", ObjectType: "emergency_grant", ObjectID: grant.String()})
	})
	return out, err
}
