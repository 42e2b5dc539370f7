package httpapi

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/barometer"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/clientfile"
	"github.com/xinqiao/xinqiao/internal/concern"
	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/emergency"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/mailbox"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/referral"
	"github.com/xinqiao/xinqiao/internal/research"
	"github.com/xinqiao/xinqiao/internal/retention"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/screening"
	"github.com/xinqiao/xinqiao/internal/supportplan"
	"github.com/xinqiao/xinqiao/internal/teachingcase"
	"github.com/xinqiao/xinqiao/internal/tenant"
)

// requestTypes are the request bodies of the routes, decoded by decodeJSON (the list
// follows the handlers: each `var in T; decodeJSON(cl.Context, &in)`).
var requestTypes = []func() any{
	func() any { return new(identity.SecondFactor) },
	func() any { return new(codeRequest) },
	func() any { return new(disableMFARequest) },
	func() any { return new(StudentSearch) },
	func() any { return new(CaseFileSearch) },
	func() any { return new(UserSearch) },
	func() any { return new(identity.PasswordChange) },
	func() any { return new(identity.SecuritySettings) },
	func() any { return new(identity.SSOIdentity) },
	func() any { return new(program.TermPlanInput) },
	func() any { return new(program.LiaisonEventInput) },
	func() any { return new(addendumRequest) },
	func() any { return new(appointment.BookInput) },
	func() any { return new(appointment.ClosureInput) },
	func() any { return new(appointment.RequestInput) },
	func() any { return new(barometer.SubmitInput) },
	func() any { return new(caseFileStatusRequest) },
	func() any { return new(casefile.CategoryInput) },
	func() any { return new(casefile.HandoffInput) },
	func() any { return new(casefile.SessionInput) },
	func() any { return new(clientfile.OpenInput) },
	func() any { return new(clientfile.SessionInput) },
	func() any { return new(concern.CloseInput) },
	func() any { return new(concern.RaiseInput) },
	func() any { return new(consent.Input) },
	func() any { return new(crisis.NoteInput) },
	func() any { return new(crisis.OpenInput) },
	func() any { return new(crisis.Settings) },
	func() any { return new(crisis.StepInput) },
	func() any { return new(disclosure.Input) },
	func() any { return new(disclosure.InquiryInput) },
	func() any { return new(emergency.Request) },
	func() any { return new(emergency.Verdict) },
	func() any { return new(identity.Grant) },
	func() any { return new(identity.NewStaff) },
	func() any { return new(identity.NewUser) },
	func() any { return new(library.CopyInput) },
	func() any { return new(library.ItemInput) },
	func() any { return new(library.LoanInput) },
	func() any { return new(loginRequest) },
	func() any { return new(mailbox.PostInput) },
	func() any { return new(narrativeInput) },
	func() any { return new(noteRequest) },
	func() any { return new(notify.SettingsInput) },
	func() any { return new(openCaseFileRequest) },
	func() any { return new(orgUnitPatch) },
	func() any { return new(program.ActivityInput) },
	func() any { return new(program.PlanInput) },
	func() any { return new(program.TermInput) },
	func() any { return new(referral.InstitutionInput) },
	func() any { return new(referral.LinkInput) },
	func() any { return new(referral.ReturnPlanInput) },
	func() any { return new(referral.SendInput) },
	func() any { return new(referral.StatusInput) },
	func() any { return new(research.Decision) },
	func() any { return new(research.RequestInput) },
	func() any { return new(retention.Policy) },
	func() any { return new(revokeConsentRequest) },
	func() any { return new(riskTierRequest) },
	func() any { return new(rollup.Settings) },
	func() any { return new(roster.StudentInput) },
	func() any { return new(screening.AckInput) },
	func() any { return new(screening.CampaignInput) },
	func() any { return new(screening.CampaignPatch) },
	func() any { return new(screening.CodesInput) },
	func() any { return new(screening.ConsentInput) },
	func() any { return new(screening.DefinitionInput) },
	func() any { return new(screening.EnablementInput) },
	func() any { return new(screening.LicenceInput) },
	func() any { return new(screening.PaperInput) },
	func() any { return new(screening.Settings) },
	func() any { return new(screening.SubmitInput) },
	func() any { return new(supportplan.Input) },
	func() any { return new(supportplan.ReviewInput) },
	func() any { return new(teachingcase.ReviewInput) },
	func() any { return new(tenant.OrgUnitInput) },
	func() any { return new(tenant.SchoolInput) },
	func() any { return new(tenant.SettingsInput) },
	func() any { return new(windowsBody) },
}

// FuzzDecodeRequestBodies: any body decoded into any request type, then validated where
// the type validates itself, is accepted or answered with a 4xx problem+json; nothing
// panics and nothing becomes a 5xx.
func FuzzDecodeRequestBodies(f *testing.F) {
	for i, seed := range []string{
		`{"username":"counselor.s1","password":"xinqiao-demo"}`,
		`{"student_id":"7b0c8a8e-5d1c-4d6e-9a3c-0f4a1b2c3d4e","urgency":"routine","observation":"近来沉默寡言"}`,
		`{"answers":{"7b0c8a8e-5d1c-4d6e-9a3c-0f4a1b2c3d4e":{"1":0}}}`,
		`{"name":null,"items":[{}],"limit":-1}`,
		`{"a":1} {"b":2}`, `[1,2,3]`, `"x"`, `{"id":"not-a-uuid"}`, `{"starts_at":"yesterday"}`,
		`{"threshold":1e309}`, `{"mood":-9223372036854775809}`, `{"body":"\ud800"}`, `{`, ``,
	} {
		f.Add(uint8(i*7), []byte(seed))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		v := requestTypes[int(which)%len(requestTypes)]()
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("POST", "/fuzz", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", "application/json")
		err := decodeJSON(c, v)
		if err == nil {
			if val, ok := v.(interface{ Validate() error }); ok {
				err = val.Validate()
			}
		}
		if err == nil {
			return
		}
		writeError(c, log, err)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("%T: %q answered %d (%v)", v, body, rec.Code, err)
		}
		var p Problem
		if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code {
			t.Fatalf("%T: not a problem: %s", v, rec.Body.Bytes())
		}
	})
}

// requestTypes names every type a handler decodes a body into: a handler added with a
// new request type fails here until the type joins the list.
func TestFuzzedRequestTypesCoverEveryHandler(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	fuzzed := map[string]bool{}
	for _, fn := range requestTypes {
		fuzzed[reflect.TypeOf(fn()).Elem().String()] = true
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			fd, ok := n.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				return true
			}
			decl := map[string]ast.Expr{}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if vs, ok := n.(*ast.ValueSpec); ok && vs.Type != nil {
					for _, name := range vs.Names {
						decl[name.Name] = vs.Type
					}
				}
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 2 {
					return true
				}
				if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "decodeJSON" {
					return true
				}
				u, ok := call.Args[1].(*ast.UnaryExpr)
				if !ok {
					return true
				}
				arg, ok := u.X.(*ast.Ident)
				if !ok || decl[arg.Name] == nil {
					return true
				}
				typ := types.ExprString(decl[arg.Name])
				if typ == "T" || strings.HasPrefix(typ, "struct") {
					return true
				}
				if !strings.Contains(typ, ".") {
					typ = "httpapi." + typ
				}
				if !fuzzed[typ] {
					t.Errorf("%s (%s) decodes a %s: add it to requestTypes", fd.Name.Name, fset.Position(call.Pos()), typ)
				}
				return true
			})
			return false
		})
	}
}
