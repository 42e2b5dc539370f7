package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// A dependency that is down or out of disk space answers 503 problem+json with
// Retry-After and the reason, never a 500.
func TestUnavailableProblemHasRetryAfter(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	for _, msg := range []string{"the database is out of disk space; try again later",
		"the document store is full; uploads are refused until space is freed", "the database is not available"} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("POST", "/x", nil)
		writeError(c, slog.New(slog.NewTextHandler(io.Discard, nil)), fault.Down(fault.New(fault.Unavailable, "%s", msg), "ignored"))
		var p Problem
		if rec.Code != 503 || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Retry-After") != "30" ||
			json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Detail != msg || p.Type != "urn:xinqiao:problem:unavailable" {
			t.Errorf("%q: %d %v %s", msg, rec.Code, rec.Header(), rec.Body.Bytes())
		}
	}
}
