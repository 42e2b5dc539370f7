package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/program"
)

// Outcomes of a matrix cell.
const (
	ok  = "2xx"
	den = "403"
	nf  = "404"
	na  = "-" // target kind does not apply to the route
)

// cell is the expected outcome for one role on the three targets: its own tenant, a
// sibling school of the same district, and a tenant of another district.
type cell struct{ own, sibling, foreign string }

var roles = []string{"district_admin", "district_supervisor", "researcher", "school_leader", "counselor", "homeroom_teacher", "peer_liaison"}

var roleUser = map[string]string{
	"district_admin": "district.admin", "district_supervisor": "district.supervisor", "researcher": "researcher",
	"school_leader": "leader.s1", "counselor": "counselor.s1", "homeroom_teacher": "teacher.s1", "peer_liaison": "liaison.s1",
}

// by builds a row of the table from outcomes in the order of roles.
func by(cells ...cell) map[string]cell {
	m := map[string]cell{}
	for i, r := range roles {
		m[r] = cells[i]
	}
	return m
}

var (
	dOK   = cell{ok, na, nf}
	dDen  = cell{den, na, nf}
	dNF   = cell{nf, na, nf}
	sOK   = cell{ok, nf, nf}
	sDen  = cell{den, nf, nf}
	sNF   = cell{nf, nf, nf}
	dsOK  = cell{ok, ok, nf}   // a district role reaching schools of its district
	dsDen = cell{den, den, nf} // ... without the permission
	dsNF  = cell{nf, nf, nf}   // ... with the permission, but the row is not theirs
	all   = cell{ok, na, na}
)

var (
	bad    = cell{"422", na, na} // the route refuses the matrix's input for everybody
	own404 = cell{nf, na, na}    // the id is nobody's own
)

// matrix declares the expected outcome of every route for every role and target. A
// route registered in the router but missing here fails the test.
var matrix = map[string]map[string]cell{
	"GET /api/v1/me": by(all, all, all, all, all, all, all),
	// Each user's own notification settings.
	"GET /api/v1/me/notification-settings": by(all, all, all, all, all, all, all),
	"PUT /api/v1/me/notification-settings": by(all, all, all, all, all, all, all),
	"POST /api/v1/auth/logout":             by(all, all, all, all, all, all, all),

	// Identity hardening: each user's own MFA, sessions and password; a code that is not
	// six digits is refused (422) for everybody. District administrators manage the
	// district's security settings and their users' sessions, MFA and SSO identity.
	"GET /api/v1/me/mfa":                                          by(all, all, all, all, all, all, all),
	"POST /api/v1/me/mfa/enrolment":                               by(all, all, all, all, all, all, all),
	"POST /api/v1/me/mfa/enrolment/confirm":                       by(bad, bad, bad, bad, bad, bad, bad),
	"POST /api/v1/me/mfa/recovery-codes":                          by(bad, bad, bad, bad, bad, bad, bad),
	"POST /api/v1/me/mfa/disable":                                 by(bad, bad, bad, bad, bad, bad, bad),
	"GET /api/v1/me/sessions":                                     by(all, all, all, all, all, all, all),
	"DELETE /api/v1/me/sessions/:loginSessionId":                  by(own404, own404, own404, own404, own404, own404, own404),
	"POST /api/v1/me/password":                                    by(all, all, all, all, all, all, all),
	"GET /api/v1/districts/:districtId/security-settings":         by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/security-settings":         by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/users/:userId/sessions":    by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"DELETE /api/v1/districts/:districtId/users/:userId/sessions": by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"DELETE /api/v1/districts/:districtId/users/:userId/mfa":      by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/users/:userId/sso-id":      by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),

	"GET /api/v1/districts/:districtId/schools":                      by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/schools":                     by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/schools/:schoolId":            by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"PATCH /api/v1/districts/:districtId/schools/:schoolId":          by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/users":                        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/users":                       by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/users/search":                by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/memberships":                  by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/memberships":                 by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"DELETE /api/v1/districts/:districtId/memberships/:membershipId": by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/audit":                        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/retention":                    by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/retention":                    by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/destructions":                 by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	// The concern taxonomy: managed by district administrators, read by counselors.
	"GET /api/v1/districts/:districtId/concern-categories":         by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/concern-categories":        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"PATCH /api/v1/districts/:districtId/concern-categories/:code": by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/concern-categories":             by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),

	"GET /api/v1/schools/:schoolId/org-units":                by(dsOK, dsDen, dsDen, sOK, sOK, sOK, sOK),
	"POST /api/v1/schools/:schoolId/org-units":               by(dsOK, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"PATCH /api/v1/schools/:schoolId/org-units/:unitId":      by(dsOK, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"DELETE /api/v1/schools/:schoolId/org-units/:unitId":     by(dsOK, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/staff":                    by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/staff":                   by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"DELETE /api/v1/schools/:schoolId/staff/:membershipId":   by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/students":                 by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"POST /api/v1/schools/:schoolId/students":                by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"POST /api/v1/schools/:schoolId/students/search":         by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"GET /api/v1/schools/:schoolId/students/import-template": by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"POST /api/v1/schools/:schoolId/students/import":         by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/students/:studentId":      by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"PATCH /api/v1/schools/:schoolId/students/:studentId":    by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/audit":                    by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),

	// Case files: the school's counselors only; leaders, teachers, liaisons and district
	// roles are refused (emergency access and escalation come later).
	"POST /api/v1/schools/:schoolId/case-files":                       by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId":            by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PATCH /api/v1/schools/:schoolId/case-files/:caseFileId":          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/events":     by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/timeline":   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/sessions":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/sessions/:sessionId/note":          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/sessions/:sessionId/sign":         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/sessions/:sessionId/addenda":      by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/case-files/:caseFileId/risk-tier":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/risk-tiers": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// The warning list (tiers and dates, no notes): counselors and school leaders.
	"GET /api/v1/schools/:schoolId/warning-list":       by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files":         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/search": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// Support plans: the school's counselors only, like the rest of the case file.
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/support-plans":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/support-plans": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/support-plans/:planId":                 by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PATCH /api/v1/schools/:schoolId/support-plans/:planId":               by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/support-plans/:planId/reviews":        by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),

	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/handoff": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// School settings (the caseload-only rule): leaders change them, counselors read them.
	"GET /api/v1/schools/:schoolId/settings": by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/settings": by(dsDen, dsDen, dsDen, sOK, sDen, sDen, sDen),
	// Consent and disclosure: the school's counselors only (emergency access comes later).
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/consents":                    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/consents":                   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/consents/:consentId/revoke": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/disclosures":                 by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/disclosures":                by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/inquiries":                  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),

	// Case-file documents: the school's counselors only, like case files.
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/documents":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/documents": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/documents/:documentId/content":     by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),

	// The inbox: every school role has its own. The item of the test is counselor.s1's:
	// anybody else's attempt finds nothing.
	"GET /api/v1/schools/:schoolId/inbox":               by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sOK),
	"POST /api/v1/schools/:schoolId/inbox/:itemId/read": by(dsDen, dsDen, dsDen, sNF, sOK, sNF, sNF),
	"POST /api/v1/schools/:schoolId/inbox/:itemId/done": by(dsDen, dsDen, dsDen, sNF, sOK, sNF, sNF),
	"GET /api/v1/schools/:schoolId/inbox/summary":       by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sOK),
	// The district inbox: every district role has its own. The item of the test is
	// district.supervisor's: anybody else's attempt finds nothing.
	"GET /api/v1/districts/:districtId/inbox":               by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/inbox/summary":       by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/inbox/:itemId/read": by(dNF, dOK, dNF, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/inbox/:itemId/done": by(dNF, dOK, dNF, dNF, dNF, dNF, dNF),

	// Concerns: homeroom teachers raise them and follow their status; counselors work
	// the intake queue.
	"GET /api/v1/schools/:schoolId/concerns":                  by(dsDen, dsDen, dsDen, sDen, sDen, sOK, sDen),
	"POST /api/v1/schools/:schoolId/concerns":                 by(dsDen, dsDen, dsDen, sDen, sDen, sOK, sDen),
	"GET /api/v1/schools/:schoolId/intake":                    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/intake/:concernId/accept": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/intake/:concernId/close":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),

	// Emergency access: school leaders (their school) and district supervisors (schools of
	// their district) request it; nobody else may. Reading goes through the grant: the
	// grant of the test belongs to the target school's leader, so a supervisor — allowed
	// the route — finds nothing (404), and everybody else is refused the route (403).
	// Without a grant there is nothing to read: the case-file routes above stay 403 for
	// leaders and supervisors. Counselors list the grants on their files; district
	// administrators review.
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/emergency-access": by(dsDen, dsOK, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/case-files/:caseFileId/emergency-access":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/emergency-access":                         by(dsDen, dsOK, dsDen, sOK, sDen, sDen, sDen),
	"POST /api/v1/schools/:schoolId/emergency-access/:grantId/end":           by(dsDen, dsNF, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/emergency-access/:grantId/case-file":      by(dsDen, dsNF, dsDen, sOK, sDen, sDen, sDen),
	// Emergency access to staff and guardian clients' files: the same rules.
	"POST /api/v1/schools/:schoolId/client-files/:clientFileId/emergency-access": by(dsDen, dsOK, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/schools/:schoolId/client-files/:clientFileId/emergency-access":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/emergency-access/:grantId/client-file":        by(dsDen, dsNF, dsDen, sOK, sDen, sDen, sDen),
	"GET /api/v1/districts/:districtId/emergency-reviews":                        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/emergency-reviews/:grantId":              by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),

	"GET /api/v1/districts/:districtId/instruments":                           by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/instruments":                          by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/instruments/validate":                 by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/instruments/:instrumentId":             by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/instruments/:instrumentId":             by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/instrument-licences":                   by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/instrument-licences":                  by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/instrument-enablements":                by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/instrument-enablements":               by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/screening-settings":                    by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/screening-settings":                    by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/campaigns":                             by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/campaigns":                            by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/campaigns/:campaignId":                 by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"PATCH /api/v1/districts/:districtId/campaigns/:campaignId":               by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/campaigns/:campaignId/progress":        by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/screening-escalations":                 by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/campaigns":                                 by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/campaigns/:campaignId":                     by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/campaigns/:campaignId/progress":            by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/campaigns/:campaignId/roster":              by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/campaigns/:campaignId/consents/:studentId": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/campaigns/:campaignId/codes":              by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/campaigns/:campaignId/codes.xlsx":         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/students/:studentId/assessments":          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/students/:studentId/assessments":           by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/assessments/:assessmentId":                 by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/screening-alerts":                          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/screening-alerts/:alertId/acknowledge":    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),

	"GET /api/v1/districts/:districtId/crisis-settings":                          by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/crisis-settings":                          by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/crisis-board":                             by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/crisis-board/:crisisId":                   by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/crisis-board/:crisisId/notes":            by(dDen, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/institutions":                             by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/institutions":                            by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"PATCH /api/v1/districts/:districtId/institutions/:institutionId":            by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/institutions":                                 by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/crises":                                       by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/crises":                                      by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/crises/:crisisId":                             by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/crises/:crisisId/steps":                      by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/referrals":                                    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/referrals":                                   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/referrals/:referralId":                        by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/referrals/:referralId/letter.pdf":             by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/referrals/:referralId/status":                by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/referrals/:referralId/return-plan":            by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/referrals/:referralId/link":                  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/jobs":                                     by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/rollup-measures":                          by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/rollups":                                  by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/rollups.csv":                              by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/rollups.xlsx":                             by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/rollup-settings":                          by(dOK, dOK, dOK, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/rollup-settings":                          by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/research/codebook":                        by(dOK, dDen, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/research/requests":                        by(dOK, dDen, dOK, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/research/requests":                       by(dDen, dDen, dOK, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/research/requests/:requestId":             by(dOK, dDen, dOK, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/research/requests/:requestId/decision":   by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/research/requests/:requestId/files/:name": by(dNF, dDen, dOK, dNF, dNF, dNF, dNF),
	// The counseling room: opening hours and closures are set by leaders and counselors and
	// read by homeroom teachers too; slots and appointments belong to counselors alone.
	"GET /api/v1/schools/:schoolId/room/schedule":                         by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"PUT /api/v1/schools/:schoolId/room/opening-hours":                    by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/room/slots":                            by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/room/closures":                        by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"DELETE /api/v1/schools/:schoolId/room/closures/:closureId":           by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/appointments":                          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments":                         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/appointments/stats":                    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/accept":   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/decline":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/move":     by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/cancel":   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/no-show":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/appointments/:appointmentId/check-in": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// The resource library: district administrators curate the district's materials; the
	// school roles that read search it; counselors add, hold copies and lend.
	"GET /api/v1/districts/:districtId/library":                   by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/library":                  by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/library":                       by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"POST /api/v1/schools/:schoolId/library":                      by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/library/:bookId/copies":       by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/districts/:districtId/library/documents":        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/schools/:schoolId/library/documents":            by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/library/:entryId/content":  by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/library/:entryId/content":      by(dsDen, dsDen, dsDen, sOK, sOK, sOK, sDen),
	"GET /api/v1/schools/:schoolId/library-loans":                 by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/library-loans":                by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/library-loans/:loanId/return": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// Teaching cases: drafts are their author's (counselor.s1 in the test); the bank is read by
	// the district's counselors, administrators and supervisors.
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/teaching-case":  by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/teaching-case-drafts":                   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/teaching-case-drafts/:draftId":          by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/teaching-case-drafts/:draftId/publish": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"DELETE /api/v1/schools/:schoolId/teaching-case-drafts/:draftId":       by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/teaching-cases":                         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/teaching-cases":                     by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),

	// District plans: administrators write them, supervisors read them; the schools a
	// plan addresses read their task (leaders and counselors), record activities and
	// upload evidence; district administrators and supervisors drill into any school of
	// their district (activities and evidence hold no student data).
	"GET /api/v1/districts/:districtId/terms":                                by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/terms":                               by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/terms":                                    by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/plans":                                by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/plans":                               by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/plans/:planId":                        by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"PUT /api/v1/districts/:districtId/plans/:planId":                        by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/plans/:planId/publish":               by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/plans/:planId/versions":               by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/plans/:planId/compliance":             by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/schools/:schoolId/plans":                                    by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/plans/:planId":                            by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/plans/:planId/indicators/:code/evidence": by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/activities":                               by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/activities":                              by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/activities/:activityId/evidence":         by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/evidence/:evidenceId/content":             by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	// Term plans: the school's leaders and counselors write and submit them; district
	// administrators and supervisors read submitted ones, administrators review them.
	"GET /api/v1/schools/:schoolId/plans/:planId/term-plan":                        by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/plans/:planId/term-plan":                        by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/plans/:planId/term-plan/submit":                by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/plans/:planId/term-plans":                   by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/plans/:planId/term-plans/:schoolId":         by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/plans/:planId/term-plans/:schoolId/review": by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	"GET /api/v1/districts/:districtId/overdue-tasks":                              by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	// The liaison network: counselors record trainings and meetings, leaders read; no
	// district role, teacher or liaison reaches it.
	"GET /api/v1/schools/:schoolId/liaison-roster":  by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/liaison-events":  by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/liaison-events": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// The barometer: the liaison's own form only; counselors and leaders read the reports;
	// no district role and no homeroom teacher reaches either.
	"GET /api/v1/schools/:schoolId/barometer/form":  by(dsDen, dsDen, dsDen, sDen, sDen, sDen, sOK),
	"POST /api/v1/schools/:schoolId/barometer/form": by(dsDen, dsDen, dsDen, sDen, sDen, sDen, sOK),
	"GET /api/v1/schools/:schoolId/barometer":       by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	// The mailbox inbox: the school's counselors only.
	"GET /api/v1/schools/:schoolId/mailbox":                    by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/mailbox/:messageId/answer": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/mailbox/:messageId/link":   by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	// Term summaries: the school's leaders and counselors write them; district administrators
	// review them; supervisors read; nobody else.
	"GET /api/v1/schools/:schoolId/term-summaries/:termId":                       by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"PUT /api/v1/schools/:schoolId/term-summaries/:termId":                       by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/term-summaries/:termId/submit":               by(dsDen, dsDen, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/term-summaries/:termId/export":                by(dsOK, dsOK, dsDen, sOK, sOK, sDen, sDen),
	"GET /api/v1/districts/:districtId/term-summaries":                           by(dOK, dOK, dDen, dNF, dNF, dNF, dNF),
	"POST /api/v1/districts/:districtId/term-summaries/:schoolId/:termId/review": by(dOK, dDen, dDen, dNF, dNF, dNF, dNF),
	// Staff and guardian clients' files: the school's counselors only; never the leader.
	"GET /api/v1/schools/:schoolId/client-files":                         by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/client-files":                        by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"GET /api/v1/schools/:schoolId/client-files/:clientFileId":           by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
	"POST /api/v1/schools/:schoolId/client-files/:clientFileId/sessions": by(dsDen, dsDen, dsDen, sDen, sOK, sDen, sDen),
}

// uploadForms names the file and the other form fields of multipart routes (the
// default is a roster CSV with no fields).
var uploadForms = map[string]struct {
	filename string
	fields   []string
}{
	"POST /api/v1/schools/:schoolId/case-files/:caseFileId/documents":        {"来信扫描.png", []string{"kind", "letter", "title", "来信扫描"}},
	"POST /api/v1/districts/:districtId/library/documents":                   {"情绪卡片.png", []string{"title", "情绪卡片", "audiences", "student,teacher", "topics", "情绪"}},
	"POST /api/v1/schools/:schoolId/library/documents":                       {"情绪卡片.png", []string{"title", "情绪卡片", "audiences", "student", "topics", "情绪"}},
	"POST /api/v1/schools/:schoolId/plans/:planId/indicators/:code/evidence": {"制度.png", []string{"title", "危机干预制度"}},
	"POST /api/v1/schools/:schoolId/activities/:activityId/evidence":         {"签到表.png", []string{"title", "签到表"}},
}

// Public routes: no token, same answer for everybody.
var publicRoutes = map[string]int{
	"POST /api/v1/auth/login":  200,
	"GET /api/v1/openapi.json": 200,
	"GET /healthz":             200,
	"GET /readyz":              200,
	"GET /metrics":             200,
	"GET /api/v1/s/:code":      404, // an unknown code
	"POST /api/v1/s/:code":     404,
	"GET /api/v1/r/:token":     404, // an unknown link
	"POST /api/v1/r/:token":    404,

	// The second login step with a challenge nobody issued; single sign-on of a district
	// that has none (the callback without its state cookie redirects to the login page,
	// which the test server without a UI answers 404).
	"POST /api/v1/auth/login/mfa":                  401,
	"GET /api/v1/auth/oidc/:districtCode/start":    404,
	"GET /api/v1/auth/oidc/:districtCode/callback": 404,

	// The school's public request page: the answer never depends on other bookings.
	"GET /api/v1/public/schools/:schoolId/room":                  200,
	"POST /api/v1/public/schools/:schoolId/appointment-requests": 202,
	// The public mailbox page of a school; a wrong reply code finds nothing.
	"GET /api/v1/public/mailbox/:schoolId":               200,
	"POST /api/v1/public/mailbox/:schoolId":              201,
	"GET /api/v1/public/mailbox/:schoolId/replies/:code": 404,
}

// target is one tenant a request is aimed at, with ids of rows inside it.
type target struct {
	district, school uuid.UUID
	grade, homeroom  uuid.UUID
	gradeName        string
	homeroomName     string
	student          uuid.UUID
	studentNumber    string
	code             string
	caseFile         uuid.UUID
}

func (w *world) target(schoolCode string) target {
	ctx := context.Background()
	var t target
	t.code = schoolCode
	t.school = w.schools[schoolCode]
	w.ownerQuery(func(tx pgx.Tx) {
		must := func(err error) {
			if err != nil {
				w.t.Fatal(err)
			}
		}
		must(tx.QueryRow(ctx, `SELECT district_id FROM schools WHERE id = $1`, t.school).Scan(&t.district))
		// The first homeroom: the demo homeroom teacher's, so reads by teacher.s1 succeed.
		must(tx.QueryRow(ctx, `SELECT h.id, h.name, g.id, g.name FROM memberships m
			JOIN org_units h ON h.school_id = m.school_id AND h.id = m.homeroom_id
			JOIN org_units g ON g.school_id = h.school_id AND g.id = h.parent_id
			WHERE m.school_id = $1 AND m.role = 'homeroom_teacher'`, t.school).Scan(&t.homeroom, &t.homeroomName, &t.grade, &t.gradeName))
		must(tx.QueryRow(ctx, `SELECT id, student_number FROM students WHERE school_id = $1 AND homeroom_id = $2 ORDER BY student_number LIMIT 1`,
			t.school, t.homeroom).Scan(&t.student, &t.studentNumber))
		tx.QueryRow(ctx, `SELECT id FROM case_files WHERE school_id = $1 AND student_id = $2`, t.school, t.student).Scan(&t.caseFile)
	})
	if t.caseFile == uuid.Nil {
		c, err := w.cases.Open(ctx, w.counselorActor(w.t, schoolCode), t.school, t.student)
		if err != nil {
			w.t.Fatal(err)
		}
		t.caseFile = c.ID
		w.newSession(schoolCode, t.caseFile, false)
	}
	return t
}

var serial atomic.Int64

// victim creates, behind the API, a fresh row a DELETE may remove, and returns its id.
func (w *world) victim(kind string, t target) uuid.UUID {
	ctx := context.Background()
	n := serial.Add(1)
	id := uuid.New()
	w.ownerQuery(func(tx pgx.Tx) {
		var err error
		switch kind {
		case "membership":
			user := uuid.New()
			if _, err = tx.Exec(ctx, `INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ($1, $2, $3, 'v', 'x')`,
				user, t.district, fmt.Sprintf("victim.%d", n)); err == nil {
				_, err = tx.Exec(ctx, `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role, homeroom_id)
					VALUES ($1, $2, $3, 'school', $4, 'homeroom_teacher', $5)`, id, user, t.district, t.school, t.homeroom)
			}
		case "homeroom":
			_, err = tx.Exec(ctx, `INSERT INTO org_units (school_id, id, district_id, parent_id, kind, name) VALUES ($1, $2, $3, $4, 'homeroom', $5)`,
				t.school, id, t.district, t.grade, fmt.Sprintf("待删%d", n))
		case "inbox_item": // addressed to counselor.s1
			_, err = tx.Exec(ctx, `INSERT INTO inbox_items (school_id, id, user_id, kind)
				SELECT $1, $2, id, 'concern_raised' FROM users WHERE username = 'counselor.s1' AND district_id = $3`, t.school, id, w.district)
		case "district_inbox_item": // addressed to district.supervisor
			_, err = tx.Exec(ctx, `INSERT INTO district_inbox_items (district_id, id, user_id, kind)
				SELECT $1, $2, id, 'crisis_escalated' FROM users WHERE username = 'district.supervisor' AND district_id = $3`, t.district, id, w.district)
		case "consent": // a student's referral consent in the target's case file
			_, err = tx.Exec(ctx, `INSERT INTO consents (school_id, id, case_file_id, given_by, scope, valid_from, recorded_by)
				SELECT $1, $2, $3, 'student', 'referral', current_date, opened_by FROM case_files WHERE school_id = $1 AND id = $3`, t.school, id, t.caseFile)
		case "closure": // long past, so it closes nothing a test books
			_, err = tx.Exec(ctx, `INSERT INTO room_closures (school_id, id, starts_on, ends_on, label, created_by)
				SELECT $1, $2, '2020-01-01', '2020-01-02', '元旦', user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, t.school, id)
		case "appointment_request":
			starts := freeSlot()
			_, err = tx.Exec(ctx, `INSERT INTO appointments (school_id, id, client_kind, starts_at, ends_at, status, source)
				VALUES ($1, $2, 'guardian', $3, $4, 'requested', 'public_request')`, t.school, id, starts, starts.Add(15*time.Minute))
		case "appointment_booked", "appointment_past":
			starts := freeSlot()
			if kind == "appointment_past" {
				starts = time.Now().Add(-time.Hour - time.Duration(n)*20*time.Minute).Truncate(time.Minute)
			}
			_, err = tx.Exec(ctx, `INSERT INTO appointments (school_id, id, counselor_id, client_kind, student_id, starts_at, ends_at, status, source, created_by)
				SELECT $1, $2, user_id, 'student', $3, $4, $5, 'booked', 'counselor', user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`,
				t.school, id, t.student, starts, starts.Add(15*time.Minute))
		case "library_book", "library_copy", "library_loan": // a book of the target's district, a copy of it in the target school, a loan of that copy
			_, err = tx.Exec(ctx, `INSERT INTO library_items (district_id, id, kind, title, audiences, created_by)
				SELECT $1, $2, 'book', '青少年心理健康读本', '{student}', user_id FROM memberships WHERE school_id = $3 AND role = 'counselor' LIMIT 1`, t.district, id, t.school)
			if err == nil && kind != "library_book" {
				book := id
				id = uuid.New()
				_, err = tx.Exec(ctx, `INSERT INTO library_copies (school_id, id, district_id, item_id, label, added_by)
					SELECT $1, $2, $3, $4, $5, user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, t.school, id, t.district, book, fmt.Sprintf("V-%d", n))
				if err == nil && kind == "library_loan" {
					copyID := id
					id = uuid.New()
					_, err = tx.Exec(ctx, `INSERT INTO library_loans (school_id, id, copy_id, student_id, lent_by, due_on)
						SELECT $1, $2, $3, $4, user_id, current_date + 14 FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, t.school, id, copyID, t.student)
				}
			}
		case "user":
			_, err = tx.Exec(ctx, `INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ($1, $2, $3, 'v', 'x')`,
				id, t.district, fmt.Sprintf("grantee.%d", n))
		}
		if err != nil {
			w.t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			w.t.Fatal(err)
		}
	})
	return id
}

// concern raises, as the school's demo homeroom teacher, a concern a counselor may take
// in or close; in schools without that teacher it returns an id nobody can reach.
func (w *world) concern(t target) uuid.UUID {
	if t.code != "s1" {
		return uuid.New()
	}
	r := w.do(w.token("teacher.s1"), "POST", "/api/v1/schools/"+t.school.String()+"/concerns",
		map[string]any{"student_id": t.student, "urgency": "routine", "observation": "近来沉默寡言"})
	var c struct {
		ID uuid.UUID `json:"id"`
	}
	r.decode(w.t, &c)
	if r.status != 201 || c.ID == uuid.Nil {
		w.t.Fatalf("raise concern: %d %s", r.status, r.body)
	}
	return c.ID
}

// request builds the path and body of route aimed at t.
func (w *world) request(route string, t target) (method, path string, body any, upload []byte) {
	method, pattern, _ := strings.Cut(route, " ")
	if strings.Contains(pattern, "/rollups") {
		defer func() {
			path += "?measure=sessions_channel&period_kind=month&from=" + time.Now().AddDate(0, -2, 0).Format(time.DateOnly) + "&to=" + time.Now().Format(time.DateOnly)
		}()
	}
	n := serial.Add(1)
	path = pattern
	replace := func(param string, id uuid.UUID) { path = strings.ReplaceAll(path, ":"+param, id.String()) }
	replace("districtId", t.district)
	replace("schoolId", t.school)
	replace("studentId", t.student)
	if strings.HasSuffix(path, "/teaching-case") && t.code == "s1" {
		replace("caseFileId", w.closedCaseFile(t.code))
	}
	replace("caseFileId", t.caseFile)
	if strings.Contains(path, ":sessionId") {
		replace("sessionId", w.newSession(t.code, t.caseFile, strings.HasSuffix(path, "/addenda")))
	}
	if strings.Contains(path, ":unitId") {
		if method == "DELETE" {
			replace("unitId", w.victim("homeroom", t))
		} else {
			replace("unitId", t.grade)
		}
	}
	var districtPlan program.Plan
	if strings.Contains(path, "/plans/:planId") {
		districtPlan = w.districtPlan(t.district, !strings.HasSuffix(path, "/publish"))
		replace("planId", districtPlan.ID)
		path = strings.ReplaceAll(path, "/indicators/:code/", "/indicators/protocol/")
		// A submitted term plan to read or review (the school writes a fresh one).
		if strings.Contains(pattern, "/term-plan") && method != "PUT" && !strings.HasSuffix(pattern, "/submit") {
			w.submittedTermPlan(districtPlan, t.school)
		}
	}
	if strings.Contains(path, ":planId") {
		replace("planId", w.newPlan(t.code, t.caseFile))
	}
	if strings.HasPrefix(pattern, "/api/v1/s/") {
		path = strings.ReplaceAll(path, ":code", "ABCD-EFGH-JK")
	}
	if strings.Contains(path, ":activityId") {
		replace("activityId", w.activity(t.school, w.currentTerm(t.district).ID))
	}
	if strings.Contains(path, ":evidenceId") {
		replace("evidenceId", w.evidence(t.school, w.activity(t.school, w.currentTerm(t.district).ID)))
	}
	if strings.Contains(path, ":termId") {
		replace("termId", w.termSummary(t, strings.HasSuffix(path, "/review")))
		if strings.HasSuffix(path, "/export") {
			path += "?format=pdf"
		}
	}
	if strings.Contains(path, ":messageId") {
		replace("messageId", w.mailboxMessage(t))
	}
	if strings.Contains(path, ":code") {
		path = strings.ReplaceAll(path, ":code", "emotion")
	}
	if strings.Contains(path, ":instrumentId") {
		replace("instrumentId", w.newInstrument(t, fmt.Sprintf("mx%d", n), false))
	}
	if strings.Contains(path, ":campaignId") {
		replace("campaignId", w.newCampaign(t, "opt_out"))
	}
	if strings.Contains(path, ":assessmentId") {
		replace("assessmentId", w.newAssessment(t, 0).ID)
	}
	if strings.HasPrefix(pattern, "/api/v1/r/") {
		path = strings.ReplaceAll(path, ":token", "bm90LWEtcmVhbC1yZWZlcnJhbC1saW5r")
	}
	if strings.Contains(path, ":crisisId") {
		if strings.Contains(pattern, "crisis-board") {
			replace("crisisId", w.newCrisis(t, true))
		} else {
			replace("crisisId", w.newCrisis(t, false))
		}
	}
	if strings.Contains(path, ":requestId") {
		replace("requestId", w.researchRequest(t, strings.HasSuffix(pattern, "/files/:name")))
		path = strings.ReplaceAll(path, ":name", "manifest.json")
	}
	if strings.Contains(path, ":institutionId") {
		replace("institutionId", w.newInstitution(t, fmt.Sprintf("机构%d", n)))
	}
	if strings.Contains(path, ":referralId") {
		replace("referralId", w.newReferral(t).ID)
	}
	if strings.Contains(path, ":alertId") {
		replace("alertId", w.newAlert(t))
	}
	if strings.Contains(path, ":itemId") && strings.HasPrefix(pattern, "/api/v1/districts/") {
		replace("itemId", w.victim("district_inbox_item", t))
	}
	if strings.Contains(path, ":itemId") {
		replace("itemId", w.victim("inbox_item", t))
	}
	if strings.Contains(path, ":concernId") {
		replace("concernId", w.concern(t))
	}
	if strings.Contains(path, ":consentId") {
		replace("consentId", w.victim("consent", t))
	}
	if strings.Contains(path, ":documentId") {
		replace("documentId", w.newDocument(t.code, t.caseFile))
	}
	if strings.Contains(path, ":grantId") && strings.HasSuffix(pattern, "/client-file") {
		replace("grantId", w.leaderClientGrant(t))
	}
	if strings.Contains(path, ":grantId") {
		replace("grantId", w.leaderGrant(t))
	}
	if strings.Contains(path, ":clientFileId") {
		replace("clientFileId", w.clientFile(t))
	}
	if strings.Contains(path, ":entryId") {
		replace("entryId", w.libraryDocument(t))
	}
	if strings.Contains(path, ":bookId") {
		replace("bookId", w.victim("library_book", t))
	}
	if strings.Contains(path, ":loanId") {
		replace("loanId", w.victim("library_loan", t))
	}
	if strings.Contains(path, ":draftId") {
		replace("draftId", w.teachingDraft(t, strings.HasSuffix(path, "/publish")))
	}
	if strings.Contains(path, ":closureId") {
		replace("closureId", w.victim("closure", t))
	}
	if strings.Contains(path, ":appointmentId") {
		kind := "appointment_booked"
		switch {
		case strings.HasSuffix(path, "/accept"), strings.HasSuffix(path, "/decline"):
			kind = "appointment_request"
		case strings.HasSuffix(path, "/no-show"):
			kind = "appointment_past"
		}
		replace("appointmentId", w.victim(kind, t))
	}
	if method == "GET" && (strings.HasSuffix(path, "/appointments") || strings.HasSuffix(path, "/appointments/stats")) {
		from := time.Now().Add(-24 * time.Hour)
		path += "?from=" + from.UTC().Format(time.RFC3339) + "&to=" + from.Add(14*24*time.Hour).UTC().Format(time.RFC3339)
	}
	if strings.Contains(path, ":userId") {
		replace("userId", w.victim("user", t))
	}
	replace("loginSessionId", uuid.New())
	path = strings.ReplaceAll(path, ":districtCode", demo.DistrictCode)
	if strings.Contains(path, ":membershipId") {
		replace("membershipId", w.victim("membership", t))
	}
	switch route {
	case "POST /api/v1/districts/:districtId/schools":
		body = map[string]any{"name": fmt.Sprintf("新学校%d", n), "code": fmt.Sprintf("mx-%d", n), "kind": "k12"}
	case "PATCH /api/v1/districts/:districtId/schools/:schoolId":
		body = map[string]any{"name": fmt.Sprintf("改名学校%d", n)}
	case "POST /api/v1/auth/login/mfa":
		body = map[string]any{"challenge": "not-a-challenge", "code": "123456"}
	case "POST /api/v1/me/mfa/enrolment/confirm", "POST /api/v1/me/mfa/recovery-codes":
		body = map[string]any{"code": "abcdef"}
	case "POST /api/v1/me/mfa/disable":
		body = map[string]any{"password": demo.Password, "code": "abcdef"}
	case "POST /api/v1/districts/:districtId/users/search", "POST /api/v1/schools/:schoolId/students/search":
		body = map[string]any{"q": "", "limit": 5}
	case "POST /api/v1/schools/:schoolId/case-files/search":
		body = map[string]any{"q": "", "mine": false, "limit": 5}
	case "POST /api/v1/me/password":
		body = map[string]any{"current_password": demo.Password, "new_password": demo.Password}
	case "PUT /api/v1/districts/:districtId/security-settings":
		body = map[string]any{"mfa_required": false}
	case "PUT /api/v1/districts/:districtId/users/:userId/sso-id":
		body = map[string]any{"sso_id": fmt.Sprintf("mx%d@school.example", n)}
	case "POST /api/v1/districts/:districtId/users":
		body = map[string]any{"username": fmt.Sprintf("mx.user%d", n), "display_name": "新用户", "password": "a-long-enough-password"}
	case "POST /api/v1/districts/:districtId/memberships":
		body = map[string]any{"user_id": w.victim("user", t), "scope_type": "school", "school_id": t.school, "role": "counselor"}
	case "POST /api/v1/schools/:schoolId/org-units":
		body = map[string]any{"kind": "homeroom", "parent_id": t.grade, "name": fmt.Sprintf("新班%d", n)}
	case "PATCH /api/v1/schools/:schoolId/org-units/:unitId":
		body = map[string]any{"position": n % 10}
	case "POST /api/v1/schools/:schoolId/staff":
		body = map[string]any{"username": fmt.Sprintf("mx.staff%d", n), "display_name": "新班主任", "password": "a-long-enough-password",
			"role": "homeroom_teacher", "homeroom_id": t.homeroom}
	case "POST /api/v1/schools/:schoolId/students":
		body = map[string]any{"student_number": fmt.Sprintf("MX%d", n), "name": "新生", "gender": "male", "birth_date": "2012-01-01", "homeroom_id": t.homeroom}
	case "PATCH /api/v1/schools/:schoolId/students/:studentId":
		body = map[string]any{"status": "enrolled"}
	case "POST /api/v1/schools/:schoolId/students/import":
		upload = []byte(fmt.Sprintf("学号,姓名,性别,出生日期,年级,班级\nIM%d,导入生,女,2012-03-04,%s,%s\n", n, t.gradeName, t.homeroomName))
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/documents", "POST /api/v1/districts/:districtId/library/documents",
		"POST /api/v1/schools/:schoolId/library/documents":
		upload = pngFixture(true)
	case "POST /api/v1/schools/:schoolId/case-files":
		var free uuid.UUID
		w.ownerQuery(func(tx pgx.Tx) {
			tx.QueryRow(context.Background(), `SELECT id FROM students s WHERE school_id = $1
				AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, t.school).Scan(&free)
		})
		body = map[string]any{"student_id": free}
	case "PUT /api/v1/schools/:schoolId/case-files/:caseFileId/risk-tier":
		body = map[string]any{"tier": "watch", "reason": "近期情绪波动"}
	case "PATCH /api/v1/schools/:schoolId/case-files/:caseFileId":
		body = map[string]any{"status": "monitoring"}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/sessions":
		body = map[string]any{"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "phone", "participants": []string{"guardian"},
			"initiated_by": "guardian", "categories": []string{"family"}, "duration_minutes": 20, "summary": "电话沟通"}
	case "PUT /api/v1/schools/:schoolId/sessions/:sessionId/note":
		body = map[string]any{"note": "补充记录"}
	case "POST /api/v1/schools/:schoolId/sessions/:sessionId/addenda":
		body = map[string]any{"body": "补记"}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/handoff":
		body = map[string]any{"counselors": []uuid.UUID{w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, t.school)},
			"reason": "交接测试"}
	case "PUT /api/v1/schools/:schoolId/settings":
		body = map[string]any{"caseload_only": false}
	case "PUT /api/v1/me/notification-settings":
		body = map[string]any{"email": fmt.Sprintf("mx%d@example.test", n), "email_enabled": true}
	case "PUT /api/v1/districts/:districtId/retention":
		body = map[string]any{"retention_years": 10}
	case "POST /api/v1/schools/:schoolId/concerns":
		body = map[string]any{"student_id": t.student, "urgency": "soon", "observation": "上课经常走神，情绪低落"}
	case "POST /api/v1/schools/:schoolId/intake/:concernId/close":
		body = map[string]any{"outcome": "no_action_needed"}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/consents":
		body = map[string]any{"given_by": "guardian", "guardian": "母亲 王丽", "scope": "sharing", "recipient_name": "市精神卫生中心",
			"valid_from": time.Now().Format(time.DateOnly)}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/consents/:consentId/revoke":
		body = map[string]any{"reason": "家长撤回"}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/disclosures":
		body = map[string]any{"recipient_kind": "school_leader", "recipient_name": "分管校长", "legal_basis": "imminent_danger",
			"justification": "学生有自伤风险，需学校立即启动危机干预", "items": []map[string]any{{"type": "risk_tier"}},
			"disclosed_at": time.Now().Add(-time.Minute).Format(time.RFC3339)}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/inquiries":
		body = map[string]any{"requester_kind": "media", "requester": "某记者", "organisation": "某报社", "asked": "询问该生心理状况",
			"refusal_reason": "未经监护人同意不得对外提供", "inquired_at": time.Now().Add(-time.Minute).Format(time.RFC3339)}
	case "POST /api/v1/districts/:districtId/concern-categories":
		body = map[string]any{"code": fmt.Sprintf("mx_%d", n), "name_zh": "新类别", "name_en": "New category"}
	case "PATCH /api/v1/districts/:districtId/concern-categories/:code":
		body = map[string]any{"position": 30 + n%5}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/support-plans":
		body = map[string]any{"goals": []string{"按时到校"}, "actions": []string{"每周面谈"}, "responsible_role": "班主任",
			"review_date": time.Now().AddDate(0, 0, 14).Format("2006-01-02")}
	case "PATCH /api/v1/schools/:schoolId/support-plans/:planId":
		body = map[string]any{"review_date": time.Now().AddDate(0, 0, 21).Format("2006-01-02")}
	case "POST /api/v1/schools/:schoolId/support-plans/:planId/reviews":
		body = map[string]any{"outcome": "有进步", "next_review_date": time.Now().AddDate(0, 0, 30).Format("2006-01-02")}
	case "POST /api/v1/schools/:schoolId/case-files/:caseFileId/emergency-access", "POST /api/v1/schools/:schoolId/client-files/:clientFileId/emergency-access":
		body = map[string]any{"reason": "学生失联，需要立即了解风险情况", "password": "xinqiao-demo"}
	case "POST /api/v1/districts/:districtId/emergency-reviews/:grantId":
		body = map[string]any{"verdict": "justified", "comment": "情况紧急，理由充分"}
	case "PUT /api/v1/schools/:schoolId/room/opening-hours":
		body = map[string]any{"opening_hours": demo.OpeningHours()}
	case "PUT /api/v1/schools/:schoolId/room/slots":
		body = map[string]any{"slots": demo.OpeningHours()}
	case "POST /api/v1/schools/:schoolId/room/closures":
		body = map[string]any{"starts_on": "2020-02-01", "ends_on": "2020-02-07", "label": "寒假"}
	case "POST /api/v1/schools/:schoolId/appointments":
		body = map[string]any{"client_kind": "student", "student_id": t.student, "starts_at": freeSlot(), "duration_minutes": 15}
	case "POST /api/v1/schools/:schoolId/appointments/:appointmentId/move":
		body = map[string]any{"starts_at": freeSlot()}
	case "POST /api/v1/schools/:schoolId/appointments/:appointmentId/cancel":
		body = map[string]any{"reason": "client_cancelled"}
	case "POST /api/v1/public/schools/:schoolId/appointment-requests":
		body = map[string]any{"requester_kind": "guardian", "contact": "13800000000", "starts_at": freeSlot()}
	case "POST /api/v1/districts/:districtId/library", "POST /api/v1/schools/:schoolId/library":
		body = map[string]any{"kind": "link", "title": fmt.Sprintf("情绪调节小贴士%d", n), "url": "https://example.org/tips", "topics": []string{"情绪"}, "audiences": []string{"student"}}
	case "POST /api/v1/schools/:schoolId/library/:bookId/copies":
		body = map[string]any{"label": fmt.Sprintf("XL-%d", n)}
	case "POST /api/v1/schools/:schoolId/library-loans":
		body = map[string]any{"copy_id": w.victim("library_copy", t), "student_id": t.student, "due_on": time.Now().AddDate(0, 0, 14).Format(time.DateOnly)}
	case "PUT /api/v1/schools/:schoolId/teaching-case-drafts/:draftId":
		body = map[string]any{"fields": map[string]any{"reflection": "及早建立信任很关键"}, "reviewed": map[string]any{"reflection": true}}
	case "POST /api/v1/schools/:schoolId/client-files":
		body = map[string]any{"client_kind": "guardian", "name": "家长 " + canary(t.code), "contact": "13800000000"}
	case "POST /api/v1/schools/:schoolId/client-files/:clientFileId/sessions":
		body = map[string]any{"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "phone", "duration_minutes": 30, "summary": "家庭沟通困难"}
	case "POST /api/v1/auth/login":
		body = map[string]any{"username": "counselor.s1", "password": "xinqiao-demo"}
	case "POST /api/v1/districts/:districtId/instruments", "POST /api/v1/districts/:districtId/instruments/validate":
		body = map[string]any{"definition": testDefinition(fmt.Sprintf("mx%d", n), false)}
	case "PUT /api/v1/districts/:districtId/instruments/:instrumentId":
		code := w.scalarText(`SELECT code FROM instruments WHERE id = $1`, uuidFromPath(path, "instruments"))
		body = map[string]any{"definition": testDefinition(code, false)}
	case "POST /api/v1/districts/:districtId/instrument-licences":
		w.newInstrument(t, fmt.Sprintf("lic%d", n), true)
		body = map[string]any{"instrument_code": fmt.Sprintf("lic%d", n), "holder": "区心理辅导中心", "reference": "LIC-2026-001",
			"valid_until": time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}
	case "POST /api/v1/districts/:districtId/instrument-enablements":
		code := fmt.Sprintf("lic%d", n)
		w.newInstrument(t, code, true)
		w.newLicence(t, code)
		body = map[string]any{"school_id": t.school, "instrument_code": code}
	case "PUT /api/v1/districts/:districtId/screening-settings":
		body = map[string]any{"alert_deadline_minutes": 240, "leader_escalation_minutes": 240, "thresholds": map[string]string{"phq9": "moderate"}, "help_contacts": "心理援助热线 12356"}
	case "POST /api/v1/districts/:districtId/campaigns":
		body = map[string]any{"title": "2026 秋季心理测查", "instrument_ids": []uuid.UUID{phq9ID}, "school_ids": []uuid.UUID{t.school},
			"grades": []string{}, "opens_at": time.Now().Add(-time.Hour), "closes_at": time.Now().AddDate(0, 0, 7), "consent_rule": "opt_out"}
	case "PATCH /api/v1/districts/:districtId/campaigns/:campaignId":
		body = map[string]any{"title": "改名测查"}
	case "PUT /api/v1/schools/:schoolId/campaigns/:campaignId/consents/:studentId":
		body = map[string]any{"status": "granted", "guardian": "母亲"}
	case "POST /api/v1/schools/:schoolId/campaigns/:campaignId/codes", "POST /api/v1/schools/:schoolId/campaigns/:campaignId/codes.xlsx":
		body = map[string]any{"homeroom_id": t.homeroom}
	case "POST /api/v1/schools/:schoolId/students/:studentId/assessments":
		body = map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(0)}
	case "POST /api/v1/schools/:schoolId/screening-alerts/:alertId/acknowledge":
		body = map[string]any{"outcome": "monitoring"}
	case "POST /api/v1/s/:code":
		body = map[string]any{"answers": map[string]any{}}
	case "PUT /api/v1/districts/:districtId/rollup-settings":
		body = map[string]any{"threshold": 5}
	case "POST /api/v1/districts/:districtId/research/requests":
		body = map[string]any{"purpose": "青少年抑郁筛查的年度趋势", "years": []int{time.Now().Year()}, "fields": []string{"grade", "gender", "phq9_band"},
			"ethics_ref": "IRB-2026-017"}
	case "POST /api/v1/districts/:districtId/research/requests/:requestId/decision":
		body = map[string]any{"approve": false, "reason": "字段过多"}
	case "POST /api/v1/r/:token":
		body = map[string]any{"received": true}
	case "PUT /api/v1/districts/:districtId/crisis-settings":
		body = crisis.DefaultSettings()
	case "POST /api/v1/districts/:districtId/crisis-board/:crisisId/notes":
		body = map[string]any{"kind": "comment", "body": "请学校在今天内完成监护人告知"}
	case "POST /api/v1/districts/:districtId/institutions":
		body = map[string]any{"name": fmt.Sprintf("第%d人民医院", n), "kind": "hospital", "services": []string{"儿童青少年心理门诊"}, "accepts_direct": true}
	case "PATCH /api/v1/districts/:districtId/institutions/:institutionId":
		body = map[string]any{"contact": "电话 0571-0000000"}
	case "POST /api/v1/schools/:schoolId/crises":
		body = map[string]any{"source": "counselor", "student_id": w.calmStudent(t), "level": "moderate", "note": "同学反映其情绪低落"}
	case "POST /api/v1/schools/:schoolId/crises/:crisisId/steps":
		body = map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "note": "面谈评估"}
	case "POST /api/v1/schools/:schoolId/referrals":
		c := w.newCrisis(t, false)
		w.assess(t, c)
		body = map[string]any{"case_file_id": w.id(`SELECT case_file_id FROM crises WHERE id = $1`, c), "crisis_id": c,
			"institution_id": w.newInstitution(t, fmt.Sprintf("转介医院%d", n)), "basis": "imminent_danger", "items": []string{"risk_tier"}, "reason": "持续自伤念头"}
	case "POST /api/v1/schools/:schoolId/referrals/:referralId/status":
		body = map[string]any{"status": "acknowledged"}
	case "PUT /api/v1/schools/:schoolId/referrals/:referralId/return-plan":
		body = map[string]any{"plan": "复学后每周面谈一次", "return_date": time.Now().AddDate(0, 0, 20).Format(time.DateOnly)}
	case "POST /api/v1/schools/:schoolId/barometer/form":
		// Only liaison.s1 on its own school gets through: one report per homeroom and week.
		body = map[string]any{"mood": 4, "concerns": []string{"exam_anxiety"}}
	case "POST /api/v1/public/mailbox/:schoolId":
		body = map[string]any{"anonymous": true, "body": "最近总是睡不着，想找老师聊聊"}
	case "POST /api/v1/schools/:schoolId/mailbox/:messageId/answer":
		body = map[string]any{"answer": "欢迎周三下午来心理辅导室"}
	case "POST /api/v1/schools/:schoolId/mailbox/:messageId/link":
		body = map[string]any{"student_id": t.student}
	case "PUT /api/v1/schools/:schoolId/term-summaries/:termId", "POST /api/v1/schools/:schoolId/term-summaries/:termId/submit":
		body = map[string]any{"narrative": "本学期开展讲座两次。"}
	case "POST /api/v1/districts/:districtId/term-summaries/:schoolId/:termId/review":
		body = map[string]any{"verdict": "approve"}
	case "POST /api/v1/districts/:districtId/terms":
		body = map[string]any{"name": fmt.Sprintf("矩阵学期%d", n), "starts_on": "2026-09-01", "ends_on": "2027-01-20"}
	case "POST /api/v1/districts/:districtId/plans":
		body = map[string]any{"term_id": w.currentTerm(t.district).ID, "title": "矩阵计划", "indicators": testIndicators, "all_schools": true}
	case "PUT /api/v1/districts/:districtId/plans/:planId":
		body = map[string]any{"term_id": districtPlan.TermID, "title": "矩阵计划（修订）", "indicators": testIndicators, "all_schools": true, "note": "修订"}
	case "POST /api/v1/schools/:schoolId/activities":
		body = map[string]any{"term_id": w.currentTerm(t.district).ID, "type": "lecture", "title": "矩阵讲座", "held_on": nowCST().Format(time.DateOnly),
			"audience": "students", "audience_size": 100, "attendance": 90}
	case "POST /api/v1/schools/:schoolId/plans/:planId/indicators/:code/evidence", "POST /api/v1/schools/:schoolId/activities/:activityId/evidence":
		upload = pngFixture(false)
	case "PUT /api/v1/schools/:schoolId/plans/:planId/term-plan", "POST /api/v1/schools/:schoolId/plans/:planId/term-plan/submit":
		body = map[string]any{"answers": w.fullAnswers(districtPlan, t.school), "note": "矩阵学期计划"}
	case "POST /api/v1/districts/:districtId/plans/:planId/term-plans/:schoolId/review":
		body = map[string]any{"verdict": "accept"}
	case "POST /api/v1/schools/:schoolId/liaison-events":
		var liaison uuid.UUID
		w.ownerQuery(func(tx pgx.Tx) {
			tx.QueryRow(context.Background(), `SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'peer_liaison' LIMIT 1`, t.school).Scan(&liaison)
		})
		body = map[string]any{"kind": "meeting", "held_on": nowCST().Format(time.DateOnly), "topic": "矩阵例会", "hours": 1, "attendee_ids": []uuid.UUID{liaison}}
	}
	return method, path, body, upload
}

// secrets are values that must never appear in a response to role: ids and student
// numbers of students it may not see, and ids of the other district.
func (w *world) secrets(role string) []string {
	var out []string
	w.ownerQuery(func(tx pgx.Tx) {
		// The liaison sees the ids (never the numbers) of the classmates of their homeroom.
		rows, err := tx.Query(context.Background(), `SELECT s.id::text, s.student_number, s.school_id, sc.district_id,
			EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.username = 'liaison.s1' AND m.homeroom_id = s.homeroom_id)
			FROM students s JOIN schools sc ON sc.id = s.school_id`)
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var id, number string
			var school, district uuid.UUID
			var classmate bool
			rows.Scan(&id, &number, &school, &district, &classmate)
			visible := district == w.district && school == w.schools["s1"] &&
				(role == "school_leader" || role == "counselor" || role == "homeroom_teacher")
			if role == "peer_liaison" && classmate && district == w.district && school == w.schools["s1"] {
				out = append(out, number)
				continue
			}
			if !visible {
				out = append(out, id, number)
			}
		}
	})
	for _, code := range []string{"s1", "s2", "d2.s1"} {
		if code != "s1" || role != "counselor" {
			out = append(out, canary(code))
		}
	}
	out = append(out, w.foreignDistrict.String())
	for code, id := range w.schools {
		if strings.HasPrefix(code, "d2.") {
			out = append(out, id.String())
		}
	}
	return out
}

func classify(status int) string {
	switch {
	case status >= 200 && status < 300:
		return ok
	case status == 403:
		return den
	case status == 404:
		return nf
	}
	return fmt.Sprintf("%d", status)
}

func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	targets := map[string]target{"own": w.target("s1"), "sibling": w.target("s2"), "foreign": w.target("d2.s1")}
	secrets := map[string][]string{}
	for _, r := range roles {
		secrets[r] = w.secrets(r)
	}
	for _, route := range w.routes() {
		key := route
		for _, r := range w.engine.Routes() {
			if r.Method+" "+openAPIPath(r.Path) == route {
				key = r.Method + " " + r.Path
			}
		}
		if status, public := publicRoutes[key]; public {
			method, path, body, _ := w.request(key, targets["own"])
			if res := w.do("", method, path, body); res.status != status {
				t.Errorf("%s: public route answered %d", key, res.status)
			}
			continue
		}
		expect, declared := matrix[key]
		if !declared {
			t.Errorf("route %s is not declared in the isolation matrix", key)
			continue
		}
		for _, role := range roles {
			c := expect[role]
			for _, tk := range []struct {
				name, want string
			}{{"own", c.own}, {"sibling", c.sibling}, {"foreign", c.foreign}} {
				if tk.want == na {
					continue
				}
				tg := targets[tk.name]
				method, path, body, upload := w.request(key, tg)
				token := w.token(roleUser[role])
				if key == "POST /api/v1/auth/logout" {
					token = w.login(roleUser[role])
				}
				var res response
				if form, ok := uploadForms[key]; ok && upload != nil {
					res = w.upload(token, path, form.filename, upload, form.fields...)
				} else if upload != nil {
					res = w.upload(token, path, "roster.csv", upload)
				} else {
					res = w.do(token, method, path, body)
				}
				// Every API answer, success or refusal, is confidential: never cached.
				if cc := res.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s as %s on %s: Cache-Control %q, want no-store", key, role, tk.name, cc)
				}
				if got := classify(res.status); got != tk.want {
					t.Errorf("%s as %s on %s target: want %s, got %d %s", key, role, tk.name, tk.want, res.status, truncateBody(res.body))
				}
				if res.status >= 400 {
					if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("%s as %s on %s: error without problem+json (%s)", key, role, tk.name, ct)
					}
				}
				for _, s := range secrets[role] {
					if strings.Contains(string(res.body), s) {
						t.Errorf("%s as %s on %s target: response leaks %s", key, role, tk.name, s)
						break
					}
				}
			}
		}
	}
}

// After hundreds of requests with ids in paths and bodies, /metrics names only route
// patterns: no id and no student value appears in any label.
func TestMetricsCarryNoIdentifiers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("counselor.s1")
	w.do(tok, "GET", "/api/v1/schools/"+own.school.String()+"/students/"+own.student.String(), nil)
	w.do(tok, "POST", "/api/v1/schools/"+own.school.String()+"/students/search", map[string]any{"q": own.studentNumber})
	w.do(tok, "GET", "/api/v1/schools/"+w.schools["d2.s1"].String()+"/students", nil)
	r := w.do("", "GET", "/metrics", nil)
	body := string(r.body)
	if !strings.Contains(body, `route="/api/v1/schools/:schoolId/students/:studentId"`) {
		t.Fatalf("metrics lack the route pattern")
	}
	for _, secret := range append(w.secrets("district_admin"), own.school.String(), own.student.String(), own.studentNumber) {
		if strings.Contains(body, secret) {
			t.Fatalf("metrics leak %s", secret)
		}
	}
}

// Ids of another tenant placed in request bodies are refused and write nothing.
func TestForeignIdsInBodiesAreRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling, foreign := w.target("s1"), w.target("s2"), w.target("d2.s1")
	foreignUser := w.id(`SELECT id FROM users WHERE username = 'd2.counselor.s1'`)
	d := "/api/v1/districts/" + own.district.String()
	s := "/api/v1/schools/" + own.school.String()
	tests := []struct {
		name, user, method, path string
		body                     any
	}{
		{"grant in a foreign district's school", "district.admin", "POST", d + "/memberships",
			map[string]any{"user_id": w.victim("user", own), "scope_type": "school", "school_id": foreign.school, "role": "counselor"}},
		{"grant to a foreign district's user", "district.admin", "POST", d + "/memberships",
			map[string]any{"user_id": foreignUser, "scope_type": "school", "school_id": own.school, "role": "counselor"}},
		{"grant a homeroom of another school", "district.admin", "POST", d + "/memberships",
			map[string]any{"user_id": w.victim("user", own), "scope_type": "school", "school_id": own.school, "role": "homeroom_teacher", "homeroom_id": sibling.homeroom}},
		{"leader grants in a sibling school", "leader.s1", "POST", s + "/staff",
			map[string]any{"username": "x.sibling", "display_name": "x", "password": "a-long-enough-password", "role": "homeroom_teacher", "homeroom_id": sibling.homeroom}},
		{"student into a sibling homeroom", "leader.s1", "POST", s + "/students",
			map[string]any{"student_number": "F1", "name": "x", "gender": "male", "birth_date": "2012-01-01", "homeroom_id": sibling.homeroom}},
		{"move a student to a foreign homeroom", "leader.s1", "PATCH", s + "/students/" + own.student.String(),
			map[string]any{"homeroom_id": foreign.homeroom}},
		{"homeroom under a foreign grade", "leader.s1", "POST", s + "/org-units",
			map[string]any{"kind": "homeroom", "parent_id": foreign.grade, "name": "外班"}},
		{"foreign student id in own school's path", "leader.s1", "GET", s + "/students/" + sibling.student.String(), nil},
		{"revoke a sibling's membership", "leader.s1", "DELETE", s + "/staff/" + w.victim("membership", sibling).String(), nil},
		{"leader grants a counselor (more powerful than allowed)", "leader.s1", "POST", s + "/staff",
			map[string]any{"username": "x.power", "display_name": "x", "password": "a-long-enough-password", "role": "counselor", "homeroom_id": own.homeroom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.scalar(`SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM students) + (SELECT count(*) FROM org_units) + (SELECT count(*) FROM users)`)
			res := w.do(w.token(tt.user), tt.method, tt.path, tt.body)
			if res.status < 400 || res.status >= 500 {
				t.Fatalf("want a 4xx, got %d %s", res.status, res.body)
			}
			w.problem(t, res)
			after := w.scalar(`SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM students) + (SELECT count(*) FROM org_units) + (SELECT count(*) FROM users)`)
			if after != before {
				t.Fatalf("a refused request wrote rows: %d -> %d", before, after)
			}
		})
	}
	var moved int
	moved = w.scalar(`SELECT count(*) FROM students WHERE id = $1 AND homeroom_id = $2`, own.student, own.homeroom)
	if moved != 1 {
		t.Fatal("the student was moved")
	}
}

// A homeroom teacher reads only the students of their own homerooms (RLS).
func TestHomeroomTeacherSeesOwnHomeroomOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	other := w.id(`SELECT id FROM students WHERE school_id = $1 AND homeroom_id <> $2 LIMIT 1`, own.school, own.homeroom)
	tok := w.token("teacher.s1")
	base := "/api/v1/schools/" + own.school.String() + "/students"
	if r := w.do(tok, "GET", base+"/"+other.String(), nil); r.status != 404 {
		t.Fatalf("another homeroom's student: want 404, got %d", r.status)
	}
	r := w.do(tok, "GET", base+"?limit=200", nil)
	var page struct {
		Items []struct {
			HomeroomID uuid.UUID `json:"homeroom_id"`
		} `json:"items"`
	}
	r.decode(t, &page)
	if len(page.Items) == 0 {
		t.Fatal("the teacher sees no students")
	}
	for _, it := range page.Items {
		if it.HomeroomID != own.homeroom {
			t.Fatalf("teacher sees a student of homeroom %s", it.HomeroomID)
		}
	}
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

var _ = identity.HashToken

var slotSerial atomic.Int64

// freeSlot returns a time nobody has booked yet: a 15-minute step of a school day's
// morning opening hours (08:00–12:00 China time), from tomorrow on.
func freeSlot() time.Time {
	k := int(slotSerial.Add(1)) - 1
	day := time.Now().In(appointment.China).AddDate(0, 0, 1)
	day = time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, appointment.China)
	for skip := k / 16; ; day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if skip == 0 {
			break
		}
		skip--
	}
	return day.Add(time.Duration(k%16) * 15 * time.Minute)
}

// libraryDocument uploads, as the school's counselor, a document to the library of the
// target's district and returns its entry.
func (w *world) libraryDocument(t target) uuid.UUID {
	w.t.Helper()
	it, err := w.lib.AddDocument(context.Background(), w.counselorActor(w.t, t.code), t.district,
		library.DocumentInput{ItemInput: library.ItemInput{Title: "放松训练图解", Audiences: []string{"student"}}, Filename: "relax.png"}, bytes.NewReader(pngFixture(false)))
	if err != nil {
		w.t.Fatal(err)
	}
	return it.ID
}
