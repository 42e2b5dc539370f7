// Package httpapi is the HTTP transport: routing, authentication, scope resolution,
// Casbin guards, problem+json errors, the OpenAPI document and the embedded web UI.
// Handlers are thin: decode, call a domain service, encode.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/barometer"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/clientfile"
	"github.com/xinqiao/xinqiao/internal/concern"
	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/emergency"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/mailbox"
	"github.com/xinqiao/xinqiao/internal/metrics"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/referral"
	"github.com/xinqiao/xinqiao/internal/research"
	"github.com/xinqiao/xinqiao/internal/retention"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/screening"
	"github.com/xinqiao/xinqiao/internal/supportplan"
	"github.com/xinqiao/xinqiao/internal/teachingcase"
	"github.com/xinqiao/xinqiao/internal/tenant"
	"github.com/xinqiao/xinqiao/internal/termsummary"
	"github.com/xinqiao/xinqiao/internal/tracing"
)

// Authorizer decides (actor, object, action); access.Enforcer implements it.
type Authorizer interface {
	Allowed(a scope.Actor, obj, act string) bool
}

// Server holds the domain services the routes call.
type Server struct {
	Log          *slog.Logger
	Identity     *identity.Service
	Tenants      *tenant.Service
	Roster       *roster.Service
	CaseFiles    *casefile.Service
	Consents     *consent.Service
	Disclosures  *disclosure.Service
	SupportPlans *supportplan.Service
	Documents    *document.Service
	Inbox        *inbox.Service
	Concerns     *concern.Service
	Emergency    *emergency.Service
	Retention    *retention.Service
	Screening    *screening.Service
	Crises       *crisis.Service
	Referrals    *referral.Service
	Jobs         *jobrun.Store
	Research     *research.Service
	Rollups      *rollup.Service
	// Notifications holds each user's own e-mail settings.
	Notifications *notify.Service
	// CodeLimits throttles the public student page; nil uses DefaultCodeLimiter.
	CodeLimits     *CodeLimiter
	codeLimiter    *CodeLimiter
	Appointments   *appointment.Service
	Library        *library.Service
	TeachingCases  *teachingcase.Service
	Programs       *program.Service
	Barometer      *barometer.Service
	Mailbox        *mailbox.Service
	TermSummaries  *termsummary.Service
	MailboxSenders *senderLimiter // nil: 5 messages per address per 10 minutes (in memory only)
	ClientFiles    *clientfile.Service
	Audit          *audit.Service
	Access         Authorizer
	Ready          map[string]func(context.Context) error // dependency checks for /readyz
	UI             fs.FS                                  // the built web UI; nil serves none
	SecureCookies  bool
	// PublicURL is the address users reach the server at (OIDC callbacks).
	PublicURL      string
	TrustedProxies []string
	Metrics        *metrics.Registry // nil: no /metrics
	// Limits are the body size and rate limits of the route classes; nil: DefaultLimits.
	Limits *Limits
	// CursorKey (32 bytes) seals pagination cursors; every instance behind one address
	// needs the same key (main derives it from the master key). nil: a random key per
	// process.
	CursorKey []byte
	// RateStore counts the rate limits of the route classes for every instance at once;
	// nil (or unreachable) counts them in this process.
	RateStore RateStore

	limiter limiters
	cursors *cursorSealer
	proxies []netip.Prefix
}

// scopeKind says where a route finds its tenant.
type scopeKind int

const (
	public   scopeKind = iota // no authentication
	userOnly                  // authenticated; no tenant
	district                  // :districtId in the path
	school                    // :schoolId in the path
)

// route is one API route: its guard (object, action) and its handler.
type route struct {
	Method, Path   string
	Scope          scopeKind
	Object, Action string
	Handle         func(*call) error
}

// call is the per-request state handed to handlers.
type call struct {
	*gin.Context
	Actor      scope.Actor
	Principal  identity.Principal
	School     uuid.UUID // from the path of school routes
	District   uuid.UUID // from the path of district routes (or the school's district)
	FromCookie bool
	Token      string
	cursors    *cursorSealer
}

func (s *Server) routes() []route {
	ap := s.appointmentRoutes()
	return []route{
		{"POST", "/api/v1/auth/login", public, "", "", s.login},
		{"POST", "/api/v1/auth/login/mfa", public, "", "", s.loginSecondStep},
		{"GET", "/api/v1/auth/oidc/:districtCode/start", public, "", "", s.startOIDC},
		{"GET", "/api/v1/auth/oidc/:districtCode/callback", public, "", "", s.finishOIDC},
		{"POST", "/api/v1/auth/logout", userOnly, "", "", s.logout},
		{"GET", "/api/v1/me/mfa", userOnly, "", "", s.getMyMFA},
		{"POST", "/api/v1/me/mfa/enrolment", userOnly, "", "", s.startMFAEnrolment},
		{"POST", "/api/v1/me/mfa/enrolment/confirm", userOnly, "", "", s.confirmMFAEnrolment},
		{"POST", "/api/v1/me/mfa/recovery-codes", userOnly, "", "", s.regenerateRecoveryCodes},
		{"POST", "/api/v1/me/mfa/disable", userOnly, "", "", s.disableMFA},
		{"GET", "/api/v1/me/sessions", userOnly, "", "", s.listMySessions},
		{"DELETE", "/api/v1/me/sessions/:loginSessionId", userOnly, "", "", s.revokeMySession},
		{"POST", "/api/v1/me/password", userOnly, "", "", s.changePassword},
		{"GET", "/api/v1/districts/:districtId/security-settings", district, "security_settings", "read", s.getSecuritySettings},
		{"PUT", "/api/v1/districts/:districtId/security-settings", district, "security_settings", "write", s.saveSecuritySettings},
		{"GET", "/api/v1/districts/:districtId/users/:userId/sessions", district, "user_sessions", "read", s.listUserSessions},
		{"DELETE", "/api/v1/districts/:districtId/users/:userId/sessions", district, "user_sessions", "write", s.revokeUserSessions},
		{"DELETE", "/api/v1/districts/:districtId/users/:userId/mfa", district, "user_mfa", "write", s.resetUserMFA},
		{"PUT", "/api/v1/districts/:districtId/users/:userId/sso-id", district, "users", "write", s.setUserSSOID},
		{"GET", "/api/v1/me", userOnly, "", "", s.me},
		{"GET", "/api/v1/me/notification-settings", userOnly, "", "", s.getNotificationSettings},
		{"PUT", "/api/v1/me/notification-settings", userOnly, "", "", s.saveNotificationSettings},

		{"GET", "/api/v1/districts/:districtId/schools", district, "schools", "read", s.listSchools},
		{"POST", "/api/v1/districts/:districtId/schools", district, "schools", "write", s.createSchool},
		{"GET", "/api/v1/districts/:districtId/schools/:schoolId", district, "schools", "read", s.getSchool},
		{"PATCH", "/api/v1/districts/:districtId/schools/:schoolId", district, "schools", "write", s.updateSchool},
		{"GET", "/api/v1/districts/:districtId/users", district, "users", "read", s.listUsers},
		{"POST", "/api/v1/districts/:districtId/users", district, "users", "write", s.createUser},
		{"POST", "/api/v1/districts/:districtId/users/search", district, "users", "read", s.searchUsers},
		{"GET", "/api/v1/districts/:districtId/memberships", district, "memberships", "read", s.listMemberships},
		{"POST", "/api/v1/districts/:districtId/memberships", district, "memberships", "write", s.grantMembership},
		{"DELETE", "/api/v1/districts/:districtId/memberships/:membershipId", district, "memberships", "write", s.revokeMembership},
		{"GET", "/api/v1/districts/:districtId/audit", district, "audit", "read", s.listAudit},
		{"GET", "/api/v1/districts/:districtId/retention", district, "retention", "read", s.getRetention},
		{"PUT", "/api/v1/districts/:districtId/retention", district, "retention", "write", s.setRetention},
		{"GET", "/api/v1/districts/:districtId/destructions", district, "retention", "read", s.listDestructions},
		{"GET", "/api/v1/districts/:districtId/concern-categories", district, "concern_categories", "read", s.listDistrictCategories},
		{"POST", "/api/v1/districts/:districtId/concern-categories", district, "concern_categories", "write", s.createCategory},
		{"PATCH", "/api/v1/districts/:districtId/concern-categories/:code", district, "concern_categories", "write", s.updateCategory},

		{"GET", "/api/v1/schools/:schoolId/org-units", school, "org_units", "read", s.listOrgUnits},
		{"POST", "/api/v1/schools/:schoolId/org-units", school, "org_units", "write", s.createOrgUnit},
		{"PATCH", "/api/v1/schools/:schoolId/org-units/:unitId", school, "org_units", "write", s.updateOrgUnit},
		{"DELETE", "/api/v1/schools/:schoolId/org-units/:unitId", school, "org_units", "write", s.deleteOrgUnit},
		{"GET", "/api/v1/schools/:schoolId/staff", school, "staff", "read", s.listStaff},
		{"POST", "/api/v1/schools/:schoolId/staff", school, "staff", "write", s.createStaff},
		{"DELETE", "/api/v1/schools/:schoolId/staff/:membershipId", school, "staff", "write", s.revokeStaff},
		{"GET", "/api/v1/schools/:schoolId/students", school, "students", "read", s.listStudents},
		{"POST", "/api/v1/schools/:schoolId/students", school, "students", "write", s.createStudent},
		{"POST", "/api/v1/schools/:schoolId/students/search", school, "students", "read", s.searchStudents},
		{"GET", "/api/v1/schools/:schoolId/students/import-template", school, "students", "read", s.importTemplate},
		{"POST", "/api/v1/schools/:schoolId/students/import", school, "students", "write", s.importStudents},
		{"GET", "/api/v1/schools/:schoolId/students/:studentId", school, "students", "read", s.getStudent},
		{"PATCH", "/api/v1/schools/:schoolId/students/:studentId", school, "students", "write", s.updateStudent},
		{"GET", "/api/v1/schools/:schoolId/audit", school, "audit", "read", s.listAudit},

		{"POST", "/api/v1/schools/:schoolId/case-files", school, "case_files", "write", s.openCaseFile},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId", school, "case_files", "read", s.getCaseFile},
		{"PATCH", "/api/v1/schools/:schoolId/case-files/:caseFileId", school, "case_files", "write", s.setCaseFileStatus},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/timeline", school, "case_files", "read", s.caseFileTimeline},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/events", school, "case_files", "read", s.caseFileEvents},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/sessions", school, "case_files", "write", s.recordSession},
		{"PUT", "/api/v1/schools/:schoolId/sessions/:sessionId/note", school, "case_files", "write", s.setSessionNote},
		{"POST", "/api/v1/schools/:schoolId/sessions/:sessionId/sign", school, "case_files", "write", s.signSession},
		{"POST", "/api/v1/schools/:schoolId/sessions/:sessionId/addenda", school, "case_files", "write", s.addAddendum},
		{"PUT", "/api/v1/schools/:schoolId/case-files/:caseFileId/risk-tier", school, "case_files", "write", s.setRiskTier},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/risk-tiers", school, "case_files", "read", s.riskTierHistory},
		{"GET", "/api/v1/schools/:schoolId/warning-list", school, "warning_list", "read", s.warningList},
		{"GET", "/api/v1/schools/:schoolId/case-files", school, "case_files", "read", s.caseFileCatalogue},
		{"POST", "/api/v1/schools/:schoolId/case-files/search", school, "case_files", "read", s.searchCaseFiles},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/handoff", school, "case_files", "write", s.handoffCaseFile},
		{"GET", "/api/v1/schools/:schoolId/settings", school, "school_settings", "read", s.getSchoolSettings},
		{"PUT", "/api/v1/schools/:schoolId/settings", school, "school_settings", "write", s.updateSchoolSettings},

		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/consents", school, "consents", "read", s.listConsents},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/consents", school, "consents", "write", s.recordConsent},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/consents/:consentId/revoke", school, "consents", "write", s.revokeConsent},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/disclosures", school, "disclosures", "read", s.disclosureLog},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/disclosures", school, "disclosures", "write", s.recordDisclosure},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/inquiries", school, "disclosures", "write", s.recordInquiry},
		{"GET", "/api/v1/schools/:schoolId/concern-categories", school, "concern_categories", "read", s.listSchoolCategories},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/support-plans", school, "case_files", "read", s.listSupportPlans},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/support-plans", school, "case_files", "write", s.createSupportPlan},
		{"GET", "/api/v1/schools/:schoolId/support-plans/:planId", school, "case_files", "read", s.getSupportPlan},
		{"PATCH", "/api/v1/schools/:schoolId/support-plans/:planId", school, "case_files", "write", s.updateSupportPlan},
		{"POST", "/api/v1/schools/:schoolId/support-plans/:planId/reviews", school, "case_files", "write", s.reviewSupportPlan},

		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/documents", school, "documents", "read", s.listDocuments},
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/documents", school, "documents", "write", s.uploadDocument},
		{"GET", "/api/v1/schools/:schoolId/documents/:documentId/content", school, "documents", "read", s.downloadDocument},

		{"GET", "/api/v1/schools/:schoolId/inbox", school, "inbox", "read", s.listInbox},
		{"POST", "/api/v1/schools/:schoolId/inbox/:itemId/read", school, "inbox", "write", s.markInboxRead},
		{"POST", "/api/v1/schools/:schoolId/inbox/:itemId/done", school, "inbox", "write", s.completeInboxItem},
		{"GET", "/api/v1/schools/:schoolId/inbox/summary", school, "inbox", "read", s.inboxSummary},
		{"GET", "/api/v1/districts/:districtId/inbox", district, "inbox", "read", s.listDistrictInbox},
		{"GET", "/api/v1/districts/:districtId/inbox/summary", district, "inbox", "read", s.districtInboxSummary},
		{"POST", "/api/v1/districts/:districtId/inbox/:itemId/read", district, "inbox", "write", s.markDistrictInboxRead},
		{"POST", "/api/v1/districts/:districtId/inbox/:itemId/done", district, "inbox", "write", s.completeDistrictInboxItem},

		{"GET", "/api/v1/schools/:schoolId/concerns", school, "concerns", "read", s.myConcerns},
		{"POST", "/api/v1/schools/:schoolId/concerns", school, "concerns", "write", s.raiseConcern},
		{"GET", "/api/v1/schools/:schoolId/intake", school, "intake", "read", s.intakeQueue},
		{"POST", "/api/v1/schools/:schoolId/intake/:concernId/accept", school, "intake", "write", s.acceptConcern},
		{"POST", "/api/v1/schools/:schoolId/intake/:concernId/close", school, "intake", "write", s.closeConcern},
		// Emergency access (break-glass): leaders and district supervisors request and read;
		// counselors see the grants on their files; district admins review.
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/emergency-access", school, "emergency_access", "write", s.openEmergencyAccess},
		{"GET", "/api/v1/schools/:schoolId/case-files/:caseFileId/emergency-access", school, "case_files", "read", s.caseFileEmergencyGrants},
		{"GET", "/api/v1/schools/:schoolId/emergency-access", school, "emergency_access", "read", s.myEmergencyGrants},
		{"GET", "/api/v1/schools/:schoolId/emergency-access/:grantId/case-file", school, "emergency_access", "read", s.readUnderEmergencyAccess},
		{"POST", "/api/v1/schools/:schoolId/emergency-access/:grantId/end", school, "emergency_access", "write", s.endEmergencyAccess},
		{"POST", "/api/v1/schools/:schoolId/client-files/:clientFileId/emergency-access", school, "emergency_access", "write", s.openClientFileEmergencyAccess},
		{"GET", "/api/v1/schools/:schoolId/client-files/:clientFileId/emergency-access", school, "client_files", "read", s.clientFileEmergencyGrants},
		{"GET", "/api/v1/schools/:schoolId/emergency-access/:grantId/client-file", school, "emergency_access", "read", s.readClientFileUnderEmergencyAccess},
		// The counseling room: opening hours and closures (leaders and counselors set them;
		// teachers read them), each counselor's own slots, the appointments (counselors
		// only), and the school's public request page (no account).
		{"GET", "/api/v1/schools/:schoolId/room/schedule", school, "room_schedule", "read", s.roomSchedule},
		{"PUT", "/api/v1/schools/:schoolId/room/opening-hours", school, "room_schedule", "write", s.setOpeningHours},
		{"PUT", "/api/v1/schools/:schoolId/room/slots", school, "appointments", "write", s.setMySlots},
		{"POST", "/api/v1/schools/:schoolId/room/closures", school, "room_schedule", "write", s.addClosure},
		{"DELETE", "/api/v1/schools/:schoolId/room/closures/:closureId", school, "room_schedule", "write", s.deleteClosure},
		{"GET", "/api/v1/schools/:schoolId/appointments", school, "appointments", "read", s.listAppointments},
		{"POST", "/api/v1/schools/:schoolId/appointments", school, "appointments", "write", s.bookAppointment},
		{"GET", "/api/v1/schools/:schoolId/appointments/stats", school, "appointments", "read", s.appointmentStats},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/accept", school, "appointments", "write", ap["accept"]},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/decline", school, "appointments", "write", ap["decline"]},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/move", school, "appointments", "write", ap["move"]},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/cancel", school, "appointments", "write", ap["cancel"]},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/no-show", school, "appointments", "write", ap["no-show"]},
		{"POST", "/api/v1/schools/:schoolId/appointments/:appointmentId/check-in", school, "appointments", "write", ap["check-in"]},
		// The resource library: the district's materials, searched by every school role that
		// reads; counselors add their school's entries, copies and loans (borrowers: counselors only).
		{"GET", "/api/v1/districts/:districtId/library", district, "library", "read", s.searchLibrary},
		{"POST", "/api/v1/districts/:districtId/library", district, "library", "write", s.addLibraryItem},
		{"GET", "/api/v1/schools/:schoolId/library", school, "library", "read", s.searchLibrary},
		{"POST", "/api/v1/schools/:schoolId/library", school, "library", "write", s.addLibraryItem},
		{"POST", "/api/v1/schools/:schoolId/library/:bookId/copies", school, "library", "write", s.addLibraryCopy},
		{"POST", "/api/v1/districts/:districtId/library/documents", district, "library", "write", s.uploadLibraryDocument},
		{"POST", "/api/v1/schools/:schoolId/library/documents", school, "library", "write", s.uploadLibraryDocument},
		{"GET", "/api/v1/districts/:districtId/library/:entryId/content", district, "library", "read", s.downloadLibraryDocument},
		{"GET", "/api/v1/schools/:schoolId/library/:entryId/content", school, "library", "read", s.downloadLibraryDocument},
		{"GET", "/api/v1/schools/:schoolId/library-loans", school, "library_loans", "read", s.listLibraryLoans},
		{"POST", "/api/v1/schools/:schoolId/library-loans", school, "library_loans", "write", s.lendLibraryCopy},
		{"POST", "/api/v1/schools/:schoolId/library-loans/:loanId/return", school, "library_loans", "write", s.returnLibraryCopy},
		// Teaching cases: a counselor drafts one from a closed case file, reviews and publishes
		// it; the district's bank is read by counselors, district administrators and supervisors.
		{"POST", "/api/v1/schools/:schoolId/case-files/:caseFileId/teaching-case", school, "teaching_cases", "write", s.draftTeachingCase},
		{"GET", "/api/v1/schools/:schoolId/teaching-case-drafts", school, "teaching_cases", "write", s.teachingCaseDrafts},
		{"PUT", "/api/v1/schools/:schoolId/teaching-case-drafts/:draftId", school, "teaching_cases", "write", s.reviewTeachingCase},
		{"POST", "/api/v1/schools/:schoolId/teaching-case-drafts/:draftId/publish", school, "teaching_cases", "write", s.publishTeachingCase},
		{"DELETE", "/api/v1/schools/:schoolId/teaching-case-drafts/:draftId", school, "teaching_cases", "write", s.discardTeachingCase},
		{"GET", "/api/v1/schools/:schoolId/teaching-cases", school, "teaching_cases", "read", s.teachingCaseBank},
		{"GET", "/api/v1/districts/:districtId/teaching-cases", district, "teaching_cases", "read", s.teachingCaseBank},
		// Staff and guardian clients' files: the school's counselors only, never leaders.
		{"GET", "/api/v1/schools/:schoolId/client-files", school, "client_files", "read", s.listClientFiles},
		{"POST", "/api/v1/schools/:schoolId/client-files", school, "client_files", "write", s.openClientFile},
		{"GET", "/api/v1/schools/:schoolId/client-files/:clientFileId", school, "client_files", "read", s.getClientFile},
		{"POST", "/api/v1/schools/:schoolId/client-files/:clientFileId/sessions", school, "client_files", "write", s.recordClientSession},
		{"GET", "/api/v1/public/schools/:schoolId/room", public, "", "", s.publicRoom},
		{"POST", "/api/v1/public/schools/:schoolId/appointment-requests", public, "", "", s.requestAppointment},
		{"GET", "/api/v1/districts/:districtId/emergency-reviews", district, "emergency_reviews", "read", s.listEmergencyReviews},
		{"POST", "/api/v1/districts/:districtId/emergency-reviews/:grantId", district, "emergency_reviews", "write", s.closeEmergencyReview},

		// Screening (心理测查): instruments, licences, settings and campaigns of the district;
		// roster, consent, codes, assessments and alerts of a school; the student page.
		{"GET", "/api/v1/districts/:districtId/instruments", district, "instruments", "read", s.listInstruments},
		{"POST", "/api/v1/districts/:districtId/instruments", district, "instruments", "write", s.createInstrument},
		{"POST", "/api/v1/districts/:districtId/instruments/validate", district, "instruments", "write", s.checkInstrument},
		{"GET", "/api/v1/districts/:districtId/instruments/:instrumentId", district, "instruments", "read", s.getInstrument},
		{"PUT", "/api/v1/districts/:districtId/instruments/:instrumentId", district, "instruments", "write", s.updateInstrument},
		{"GET", "/api/v1/districts/:districtId/instrument-licences", district, "instruments", "read", s.listLicences},
		{"POST", "/api/v1/districts/:districtId/instrument-licences", district, "instruments", "write", s.recordLicence},
		{"GET", "/api/v1/districts/:districtId/instrument-enablements", district, "instruments", "read", s.listEnablements},
		{"POST", "/api/v1/districts/:districtId/instrument-enablements", district, "instruments", "write", s.enableInstrument},
		{"GET", "/api/v1/districts/:districtId/screening-settings", district, "campaigns", "read", s.getScreeningSettings},
		{"PUT", "/api/v1/districts/:districtId/screening-settings", district, "campaigns", "write", s.saveScreeningSettings},
		{"GET", "/api/v1/districts/:districtId/campaigns", district, "campaigns", "read", s.listCampaigns},
		{"POST", "/api/v1/districts/:districtId/campaigns", district, "campaigns", "write", s.createCampaign},
		{"GET", "/api/v1/districts/:districtId/campaigns/:campaignId", district, "campaigns", "read", s.getCampaign},
		{"PATCH", "/api/v1/districts/:districtId/campaigns/:campaignId", district, "campaigns", "write", s.updateCampaign},
		{"GET", "/api/v1/districts/:districtId/campaigns/:campaignId/progress", district, "campaigns", "read", s.campaignProgress},
		{"GET", "/api/v1/districts/:districtId/screening-escalations", district, "screening_escalations", "read", s.listEscalations},
		{"GET", "/api/v1/schools/:schoolId/campaigns", school, "campaigns", "read", s.schoolCampaigns},
		{"GET", "/api/v1/schools/:schoolId/campaigns/:campaignId", school, "campaigns", "read", s.schoolCampaign},
		{"GET", "/api/v1/schools/:schoolId/campaigns/:campaignId/progress", school, "campaigns", "read", s.homeroomProgress},
		{"GET", "/api/v1/schools/:schoolId/campaigns/:campaignId/roster", school, "screening", "read", s.campaignRoster},
		{"PUT", "/api/v1/schools/:schoolId/campaigns/:campaignId/consents/:studentId", school, "screening", "write", s.setScreeningConsent},
		{"POST", "/api/v1/schools/:schoolId/campaigns/:campaignId/codes", school, "screening", "write", s.issueCodes},
		{"POST", "/api/v1/schools/:schoolId/campaigns/:campaignId/codes.xlsx", school, "screening", "write", s.issueCodesXLSX},
		{"POST", "/api/v1/schools/:schoolId/students/:studentId/assessments", school, "screening", "write", s.recordAssessment},
		{"GET", "/api/v1/schools/:schoolId/students/:studentId/assessments", school, "screening", "read", s.studentAssessments},
		{"GET", "/api/v1/schools/:schoolId/assessments/:assessmentId", school, "screening", "read", s.getAssessment},
		{"GET", "/api/v1/schools/:schoolId/screening-alerts", school, "screening", "read", s.listScreeningAlerts},
		{"POST", "/api/v1/schools/:schoolId/screening-alerts/:alertId/acknowledge", school, "screening", "write", s.acknowledgeAlert},
		{"GET", "/api/v1/s/:code", public, "", "", s.openScreeningCode},
		{"POST", "/api/v1/s/:code", public, "", "", s.submitScreeningCode},

		// Crisis intervention (危机干预), partner institutions and referrals (转介).
		{"GET", "/api/v1/districts/:districtId/crisis-settings", district, "crisis_settings", "read", s.getCrisisSettings},
		{"PUT", "/api/v1/districts/:districtId/crisis-settings", district, "crisis_settings", "write", s.saveCrisisSettings},
		{"GET", "/api/v1/districts/:districtId/crisis-board", district, "crisis_board", "read", s.crisisBoard},
		{"GET", "/api/v1/districts/:districtId/crisis-board/:crisisId", district, "crisis_board", "read", s.crisisBoardEntry},
		{"POST", "/api/v1/districts/:districtId/crisis-board/:crisisId/notes", district, "crisis_board", "write", s.addCrisisBoardNote},
		{"GET", "/api/v1/districts/:districtId/institutions", district, "institutions", "read", s.listInstitutions},
		{"POST", "/api/v1/districts/:districtId/institutions", district, "institutions", "write", s.createInstitution},
		{"PATCH", "/api/v1/districts/:districtId/institutions/:institutionId", district, "institutions", "write", s.updateInstitution},
		{"GET", "/api/v1/schools/:schoolId/institutions", school, "institutions", "read", s.listInstitutions},
		{"GET", "/api/v1/schools/:schoolId/crises", school, "crises", "read", s.listCrises},
		{"POST", "/api/v1/schools/:schoolId/crises", school, "crises", "write", s.openCrisis},
		{"GET", "/api/v1/schools/:schoolId/crises/:crisisId", school, "crises", "read", s.getCrisis},
		{"POST", "/api/v1/schools/:schoolId/crises/:crisisId/steps", school, "crises", "write", s.recordCrisisStep},
		{"GET", "/api/v1/schools/:schoolId/referrals", school, "referrals", "read", s.listReferrals},
		{"POST", "/api/v1/schools/:schoolId/referrals", school, "referrals", "write", s.sendReferral},
		{"GET", "/api/v1/schools/:schoolId/referrals/:referralId", school, "referrals", "read", s.getReferral},
		{"GET", "/api/v1/schools/:schoolId/referrals/:referralId/letter.pdf", school, "referrals", "read", s.referralLetter},
		{"POST", "/api/v1/schools/:schoolId/referrals/:referralId/status", school, "referrals", "write", s.setReferralStatus},
		{"PUT", "/api/v1/schools/:schoolId/referrals/:referralId/return-plan", school, "referrals", "write", s.setReturnPlan},
		{"POST", "/api/v1/schools/:schoolId/referrals/:referralId/link", school, "referrals", "write", s.reissueReferralLink},
		{"GET", "/api/v1/districts/:districtId/jobs", district, "jobs", "read", s.listJobRuns},
		// District statistics (统计汇总): published with suppression.
		{"GET", "/api/v1/districts/:districtId/rollup-measures", district, "rollups", "read", s.rollupMeasures},
		{"GET", "/api/v1/districts/:districtId/rollups", district, "rollups", "read", s.publishRollup},
		{"GET", "/api/v1/districts/:districtId/rollups.csv", district, "rollups", "read", s.downloadRollupCSV},
		{"GET", "/api/v1/districts/:districtId/rollups.xlsx", district, "rollups", "read", s.downloadRollupXLSX},
		{"GET", "/api/v1/districts/:districtId/rollup-settings", district, "rollups", "read", s.getRollupSettings},
		{"PUT", "/api/v1/districts/:districtId/rollup-settings", district, "rollups", "write", s.saveRollupSettings},
		// Research exports (科研数据导出).
		{"GET", "/api/v1/districts/:districtId/research/codebook", district, "research", "read", s.researchCodebook},
		{"GET", "/api/v1/districts/:districtId/research/requests", district, "research", "read", s.listResearchRequests},
		{"POST", "/api/v1/districts/:districtId/research/requests", district, "research", "write", s.fileResearchRequest},
		{"GET", "/api/v1/districts/:districtId/research/requests/:requestId", district, "research", "read", s.getResearchRequest},
		{"POST", "/api/v1/districts/:districtId/research/requests/:requestId/decision", district, "research_decisions", "write", s.decideResearchRequest},
		{"GET", "/api/v1/districts/:districtId/research/requests/:requestId/files/:name", district, "research", "read", s.downloadResearchFile},
		{"GET", "/api/v1/r/:token", public, "", "", s.openReferralLink},
		{"POST", "/api/v1/r/:token", public, "", "", s.answerReferralLink},

		// District plans (区计划), school tasks, activities and compliance.
		{"GET", "/api/v1/districts/:districtId/terms", district, "terms", "read", s.listTerms},
		{"POST", "/api/v1/districts/:districtId/terms", district, "terms", "write", s.createTerm},
		{"GET", "/api/v1/schools/:schoolId/terms", school, "terms", "read", s.listTerms},
		{"GET", "/api/v1/districts/:districtId/plans", district, "district_plans", "read", s.listDistrictPlans},
		{"POST", "/api/v1/districts/:districtId/plans", district, "district_plans", "write", s.createDistrictPlan},
		{"GET", "/api/v1/districts/:districtId/plans/:planId", district, "district_plans", "read", s.getDistrictPlan},
		{"PUT", "/api/v1/districts/:districtId/plans/:planId", district, "district_plans", "write", s.updateDistrictPlan},
		{"POST", "/api/v1/districts/:districtId/plans/:planId/publish", district, "district_plans", "write", s.publishDistrictPlan},
		{"GET", "/api/v1/districts/:districtId/plans/:planId/versions", district, "district_plans", "read", s.districtPlanVersions},
		{"GET", "/api/v1/districts/:districtId/plans/:planId/compliance", district, "district_plans", "read", s.districtPlanCompliance},
		{"GET", "/api/v1/schools/:schoolId/plans", school, "plan_tasks", "read", s.schoolPlans},
		{"GET", "/api/v1/schools/:schoolId/plans/:planId", school, "plan_tasks", "read", s.schoolPlan},
		{"POST", "/api/v1/schools/:schoolId/plans/:planId/indicators/:code/evidence", school, "plan_tasks", "write", s.uploadIndicatorEvidence},
		{"GET", "/api/v1/schools/:schoolId/activities", school, "activities", "read", s.listActivities},
		{"POST", "/api/v1/schools/:schoolId/activities", school, "activities", "write", s.recordActivity},
		{"POST", "/api/v1/schools/:schoolId/activities/:activityId/evidence", school, "activities", "write", s.uploadActivityEvidence},
		{"GET", "/api/v1/schools/:schoolId/evidence/:evidenceId/content", school, "activities", "read", s.downloadEvidence},
		// School term plans (学校学期计划): the school answers a plan's indicators and submits;
		// the district lists the submissions and accepts or returns them. Overdue tasks.
		{"GET", "/api/v1/schools/:schoolId/plans/:planId/term-plan", school, "plan_tasks", "read", s.getTermPlan},
		{"PUT", "/api/v1/schools/:schoolId/plans/:planId/term-plan", school, "plan_tasks", "write", s.saveTermPlan},
		{"POST", "/api/v1/schools/:schoolId/plans/:planId/term-plan/submit", school, "plan_tasks", "write", s.submitTermPlan},
		{"GET", "/api/v1/districts/:districtId/plans/:planId/term-plans", district, "district_plans", "read", s.termPlanSubmissions},
		{"GET", "/api/v1/districts/:districtId/plans/:planId/term-plans/:schoolId", district, "district_plans", "read", s.districtTermPlan},
		{"POST", "/api/v1/districts/:districtId/plans/:planId/term-plans/:schoolId/review", district, "district_plans", "write", s.reviewTermPlan},
		{"GET", "/api/v1/districts/:districtId/overdue-tasks", district, "district_plans", "read", s.overdueTasks},
		// The peer-liaison network (心理委员网络): roster per homeroom, trainings and meetings.
		{"GET", "/api/v1/schools/:schoolId/liaison-roster", school, "liaison_network", "read", s.liaisonRoster},
		{"GET", "/api/v1/schools/:schoolId/liaison-events", school, "liaison_network", "read", s.listLiaisonEvents},
		{"POST", "/api/v1/schools/:schoolId/liaison-events", school, "liaison_network", "write", s.recordLiaisonEvent},

		// The peer liaisons' weekly barometer (晴雨表): the liaison's own form; the school's
		// counselors and leaders read the reports (no names: a named student goes to intake).
		{"GET", "/api/v1/schools/:schoolId/barometer/form", school, "barometer_form", "read", s.barometerForm},
		{"POST", "/api/v1/schools/:schoolId/barometer/form", school, "barometer_form", "write", s.submitBarometer},
		{"GET", "/api/v1/schools/:schoolId/barometer", school, "barometer", "read", s.listBarometer},

		// The counseling mailbox (心理辅导信箱): a public page per school (no account, no
		// address stored, rate limited); the school's counselors read, answer and link.
		{"GET", "/api/v1/public/mailbox/:schoolId", public, "", "", s.mailboxPage},
		{"POST", "/api/v1/public/mailbox/:schoolId", public, "", "", s.postToMailbox},
		{"GET", "/api/v1/public/mailbox/:schoolId/replies/:code", public, "", "", s.mailboxReply},
		{"GET", "/api/v1/schools/:schoolId/mailbox", school, "mailbox", "read", s.mailboxInbox},
		{"POST", "/api/v1/schools/:schoolId/mailbox/:messageId/answer", school, "mailbox", "write", s.answerMailbox},
		{"POST", "/api/v1/schools/:schoolId/mailbox/:messageId/link", school, "mailbox", "write", s.linkMailbox},

		// Term summaries (期末小结): drafted from data, written and submitted by the school,
		// approved, returned or reopened by the district; PDF and XLSX exports.
		{"GET", "/api/v1/schools/:schoolId/term-summaries/:termId", school, "term_summaries", "read", s.getTermSummary},
		{"PUT", "/api/v1/schools/:schoolId/term-summaries/:termId", school, "term_summaries", "write", s.saveTermSummary},
		{"POST", "/api/v1/schools/:schoolId/term-summaries/:termId/submit", school, "term_summaries", "write", s.submitTermSummary},
		{"GET", "/api/v1/schools/:schoolId/term-summaries/:termId/export", school, "term_summaries", "read", s.exportTermSummary},
		{"GET", "/api/v1/districts/:districtId/term-summaries", district, "term_summaries", "read", s.termSummaryQueue},
		{"POST", "/api/v1/districts/:districtId/term-summaries/:schoolId/:termId/review", district, "term_summaries", "write", s.reviewTermSummary},
	}
}

// Handler builds the HTTP handler.
func (s *Server) Handler() http.Handler { return s.Engine() }

// Engine builds the Gin engine with every route registered.
func (s *Server) Engine() *gin.Engine {
	s.codeLimiter = s.CodeLimits
	if s.codeLimiter == nil {
		s.codeLimiter = DefaultCodeLimiter()
	}
	lim := s.limits()
	s.limiter = limiters{login: newBucketSet("login", lim.Login), public: newBucketSet("public", lim.Public), writes: newBucketSet("writes", lim.Writes)}
	s.proxies = parseProxies(s.TrustedProxies)
	s.cursors = newCursorSealer(s.CursorKey)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(s.TrustedProxies); err != nil {
		s.Log.Error("trusted proxies", "err", err)
	}
	r.Use(s.requestID, traceRequest, s.accessLog, s.recoverer, s.securityHeaders, s.bodyLimit(lim), s.textOnly)
	r.NoRoute(s.noRoute)
	r.NoMethod(func(c *gin.Context) {
		writeError(c, s.Log, fault.New(fault.MethodNotAllowed, "this method is not allowed on this path"))
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	r.GET("/api/v1/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", OpenAPI) })
	if s.Metrics != nil {
		r.GET("/metrics", gin.WrapH(s.Metrics.Handler()))
	}
	for _, rt := range s.routes() {
		r.Handle(rt.Method, rt.Path, s.wrap(rt))
	}
	return r
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set("request_id", id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString("request_id") }

// traceRequest opens the request's span, named by method and route pattern; the domain
// and database spans below it share its context.
func traceRequest(c *gin.Context) {
	ctx := otel.GetTextMapPropagator().Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	route := c.FullPath()
	if route == "" {
		route = "(unmatched)"
	}
	ctx, span := tracing.Tracer().Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route),
			attribute.String("xinqiao.request_id", requestID(c))))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	span.SetAttributes(attribute.Int("http.response.status_code", c.Writer.Status()))
	if c.Writer.Status() >= 500 {
		span.SetStatus(codes.Error, "server error")
	}
}

// accessLog logs one line per request: the route pattern (never the raw path or query,
// which may hold search terms), status, duration and ids — never bodies or names.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(unmatched)"
	}
	d := time.Since(start)
	s.Log.Info("request", "request_id", requestID(c), "method", c.Request.Method, "route", route,
		"status", c.Writer.Status(), "duration_ms", d.Milliseconds(), "user_id", c.GetString("user_id"))
	if s.Metrics != nil {
		s.Metrics.ObserveHTTP(route, c.Request.Method, strconv.Itoa(c.Writer.Status()), d)
	}
}

func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.Log.Error("panic", "request_id", requestID(c), "route", c.FullPath(), "panic", p)
			writeError(c, s.Log, fault.New(fault.Internal, "internal error"))
		}
	}()
	c.Next()
}

// securityHeaders sets the headers every response carries: a CSP without inline
// scripts (antd's CSS-in-JS needs inline styles), no framing, no sniffing, no referrer,
// HSTS over TLS, and no caching of any API answer. CORS stays closed: no
// Access-Control-Allow-* header is ever sent and a preflight is refused.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if s.overTLS(c) {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	if c.Request.Method == http.MethodOptions && c.GetHeader("Origin") != "" {
		writeError(c, s.Log, fault.New(fault.Forbidden, "cross-origin requests are not allowed"))
		return
	}
	c.Next()
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, 3*time.Second)
	defer cancel()
	status := map[string]string{}
	ok := true
	for name, check := range s.Ready {
		if err := check(ctx); err != nil {
			status[name] = "down"
			ok = false
			s.Log.Warn("readiness check failed", "dependency", name, "err", err)
		} else {
			status[name] = "up"
		}
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	c.JSON(code, gin.H{"status": map[bool]string{true: "ready", false: "not ready"}[ok], "dependencies": status})
}

func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/api/") || s.UI == nil || (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
		writeError(c, s.Log, fault.New(fault.NotFound, "no such resource"))
		return
	}
	s.serveUI(c)
}

// wrap turns a route into a gin handler: authenticate, resolve the scope from the
// path, check the Casbin guard, then call the handler. Every refusal is audited.
func (s *Server) wrap(rt route) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := &call{Context: c, cursors: s.cursors}
		cl.Actor = scope.Actor{RequestID: requestID(c), ClientIP: c.ClientIP()}
		if rt.Scope == public {
			set := s.limiter.public
			if rt.Path == "/api/v1/auth/login" {
				set = s.limiter.login
			}
			if err := s.throttle(cl, set, cl.ClientIP()); err != nil {
				writeError(c, s.Log, err)
				return
			}
		}
		if rt.Scope != public {
			if err := s.authenticate(cl); err != nil {
				if fault.KindOf(err) != fault.Unavailable { // a database that is down denies nobody
					s.deny(cl, rt, audit.Entry{Reason: "unauthenticated"})
				}
				writeError(c, s.Log, err)
				return
			}
			if cl.Principal.Stage == "enrol" && !enrolmentRoutes[rt.Method+" "+rt.Path] {
				cl.Actor.Kind = scope.User
				s.deny(cl, rt, audit.Entry{Reason: "mfa enrolment required"})
				writeError(c, s.Log, errEnrolmentRequired)
				return
			}
			if err := s.resolveScope(cl, rt); err != nil {
				writeError(c, s.Log, err)
				return
			}
			if isWrite(rt.Method) && rt.Action != "read" { // a search is a POST that reads
				if err := s.throttle(cl, s.limiter.writes, cl.Principal.UserID.String()); err != nil {
					writeError(c, s.Log, err)
					return
				}
			}
		}
		if err := rt.Handle(cl); err != nil {
			writeError(c, s.Log, err)
		}
	}
}

func (s *Server) deny(cl *call, rt route, e audit.Entry) {
	if s.Metrics != nil {
		s.Metrics.Denied(e.Reason)
	}
	e.Outcome = audit.Denied
	e.Action = rt.Object + "." + rt.Action
	if rt.Object == "" {
		e.Action = strings.TrimPrefix(rt.Path, "/api/v1/")
	}
	e.ObjectType = rt.Object
	if err := s.Audit.RecordAlone(cl, cl.Actor, e); err != nil {
		s.Log.Error("audit denial", "request_id", cl.Actor.RequestID, "err", err)
	}
}

// resolveScope sets the actor's scope from the path and checks the route's guard.
// Foreign and missing tenants answer 404 alike; a known scope without the permission
// answers 403. Both are audited.
func (s *Server) resolveScope(cl *call, rt route) error {
	notFound := fault.New(fault.NotFound, "not found")
	switch rt.Scope {
	case userOnly:
		cl.Actor.Kind = scope.User
		return nil
	case district:
		id, err := uuid.Parse(cl.Param("districtId"))
		if err != nil || !s.scopeDistrict(cl, id) {
			s.denyOutside(cl, rt)
			return notFound
		}
	case school:
		id, err := uuid.Parse(cl.Param("schoolId"))
		if err != nil {
			s.denyOutside(cl, rt)
			return notFound
		}
		cl.School = id
		if !s.scopeSchool(cl, id) {
			ok, err := s.districtOverSchool(cl, id)
			if err != nil {
				return err
			}
			if !ok {
				s.denyOutside(cl, rt)
				return notFound
			}
		}
	}
	obj := rt.Object
	if rt.Scope == school && cl.Actor.Kind == scope.District {
		// District roles reaching into one of their schools use the "school." objects
		// of their policy, never their district-level permissions.
		obj = "school." + obj
	}
	if !s.Access.Allowed(cl.Actor, obj, rt.Action) {
		s.deny(cl, rt, audit.Entry{Reason: "permission denied"})
		return fault.New(fault.Forbidden, "you do not have permission for this action")
	}
	return nil
}

func rolesWhere(ms []scope.Membership, keep func(scope.Membership) bool) []string {
	var roles []string
	for _, m := range ms {
		if keep(m) {
			roles = append(roles, m.Role)
		}
	}
	return roles
}

func (s *Server) scopeDistrict(cl *call, id uuid.UUID) bool {
	roles := rolesWhere(cl.Principal.Memberships, func(m scope.Membership) bool {
		return m.ScopeType == scope.District && m.DistrictID == id
	})
	if len(roles) == 0 {
		return false
	}
	cl.Actor.Kind, cl.Actor.DistrictID, cl.Actor.SchoolID, cl.Actor.Roles = scope.District, id, uuid.Nil, roles
	cl.District = id
	return true
}

func (s *Server) scopeSchool(cl *call, id uuid.UUID) bool {
	var district uuid.UUID
	roles := rolesWhere(cl.Principal.Memberships, func(m scope.Membership) bool {
		if m.ScopeType == scope.School && m.SchoolID != nil && *m.SchoolID == id {
			district = m.DistrictID
			return true
		}
		return false
	})
	if len(roles) == 0 {
		return false
	}
	cl.Actor.Kind, cl.Actor.DistrictID, cl.Actor.SchoolID, cl.Actor.Roles = scope.School, district, id, roles
	cl.District = district
	return true
}

// districtOverSchool lets district roles reach a school of their own district (for the
// objects their policy names, e.g. org units); row-level security still hides students.
func (s *Server) districtOverSchool(cl *call, school uuid.UUID) (bool, error) {
	for _, m := range cl.Principal.Memberships {
		if m.ScopeType != scope.District {
			continue
		}
		if !s.scopeDistrict(cl, m.DistrictID) {
			continue
		}
		ok, err := s.Tenants.InDistrict(cl, cl.Actor, school)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// denyOutside audits a request for a tenant the actor has no scope in, in the actor's
// home chain (its district scope if any, else its first school).
func (s *Server) denyOutside(cl *call, rt route) {
	home := cl.Actor
	home.Kind, home.Roles = scope.User, nil
	for _, m := range cl.Principal.Memberships {
		home.DistrictID = m.DistrictID
		if m.ScopeType == scope.District {
			home.Kind, home.SchoolID, home.Roles = scope.District, uuid.Nil, []string{m.Role}
			break
		}
		if home.Kind != scope.School {
			home.Kind, home.SchoolID, home.Roles = scope.School, *m.SchoolID, []string{m.Role}
		}
	}
	if home.DistrictID == uuid.Nil {
		home.DistrictID = cl.Principal.DistrictID
	}
	// The foreign tenant's id is not recorded: the actor's own leaders read this chain.
	saved := cl.Actor
	cl.Actor = home
	s.deny(cl, rt, audit.Entry{Reason: "outside the actor's scopes"})
	cl.Actor = saved
}

// pathID parses a uuid path parameter; a malformed id is simply not found.
func (cl *call) pathID(name string) (uuid.UUID, error) {
	id, err := uuid.Parse(cl.Param(name))
	if err != nil {
		return uuid.Nil, fault.New(fault.NotFound, "not found")
	}
	return id, nil
}
