package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
}

var kindStatus = map[fault.Kind]struct {
	status int
	title  string
}{
	fault.Malformed:        {http.StatusBadRequest, "Malformed request"},
	fault.Invalid:          {http.StatusUnprocessableEntity, "Validation failed"},
	fault.NotFound:         {http.StatusNotFound, "Not found"},
	fault.Conflict:         {http.StatusConflict, "Conflict"},
	fault.Forbidden:        {http.StatusForbidden, "Forbidden"},
	fault.Unauthenticated:  {http.StatusUnauthorized, "Authentication required"},
	fault.RateLimited:      {http.StatusTooManyRequests, "Too many requests"},
	fault.Gone:             {http.StatusGone, "Gone"},
	fault.Unsupported:      {http.StatusUnsupportedMediaType, "Unsupported media type"},
	fault.MethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed"},
	fault.TooLarge:         {http.StatusRequestEntityTooLarge, "Payload too large"},
	fault.Unavailable:      {http.StatusServiceUnavailable, "Service unavailable"},
	fault.Internal:         {http.StatusInternalServerError, "Internal error"},
}

// ProblemType is the stable type URI of a kind.
func ProblemType(k fault.Kind) string { return "urn:xinqiao:problem:" + string(k) }

// writeError is the one place where errors become HTTP responses. Internal errors are
// logged with their cause; clients only see the generic title.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	kind := fault.KindOf(err)
	ks, ok := kindStatus[kind]
	if !ok {
		ks, kind = kindStatus[fault.Internal], fault.Internal
	}
	p := Problem{Type: ProblemType(kind), Title: ks.title, Status: ks.status, RequestID: requestID(c)}
	if fe, ok := fault.As(err); ok && kind != fault.Internal {
		p.Detail = fe.Message
		p.Errors = fe.Fields
		if fe.Err != nil {
			log.Debug("request failed", "request_id", p.RequestID, "kind", kind, "err", fe.Err)
		}
	} else {
		// The cause may quote SQL or values; it goes to the log, never to the client.
		log.Error("internal error", "request_id", p.RequestID, "route", c.FullPath(), "err", err)
	}
	if kind == fault.Unauthenticated {
		c.Header("WWW-Authenticate", `Bearer realm="xinqiao"`)
	}
	if kind == fault.RateLimited && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "60")
	}
	if kind == fault.Unavailable && c.Writer.Header().Get("Retry-After") == "" {
		// A dependency is down, restarting, or out of disk space: worth trying again.
		c.Header("Retry-After", "30")
	}
	c.Header("Cache-Control", "no-store")
	c.Abort()
	c.Render(ks.status, problemRender{p})
}

type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return json.NewEncoder(w).Encode(r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}

// Body limits.
const (
	maxJSONBody   = 1 << 20  // 1 MiB
	maxUploadBody = 20 << 20 // 20 MiB
)

// decodeJSON reads a JSON body strictly: the right content type, a size limit, no
// unknown fields, no trailing data. Errors are Malformed (400) or Invalid (422).
func decodeJSON(c *gin.Context, v any) error {
	ct := c.ContentType()
	if ct != "application/json" {
		return fault.New(fault.Unsupported, "the body must be application/json")
	}
	limit := int64(maxJSONBody)
	if n, ok := c.Get(jsonLimitKey); ok {
		limit = n.(int64)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		return jsonError(err)
	}
	// A NUL character is never text we keep (PostgreSQL refuses it in text columns).
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return fault.New(fault.Malformed, "the body holds a NUL character (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.New(fault.Malformed, "the body must hold exactly one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return fault.New(fault.TooLarge, "the body is too large")
	case errors.Is(err, io.EOF):
		return fault.New(fault.Malformed, "a JSON body is required")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.New(fault.Malformed, "the body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return fault.New(fault.Malformed, "the body must be a JSON object")
		}
		return fault.Validation(fault.Field(field, "invalid_type", "must be of type "+typeErr.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Validation(fault.Field(name, "unknown_field", "unknown field"))
	}
	// e.g. a uuid.UUID that fails to parse its text
	return fault.Validation(fault.FieldError{Code: "invalid_value", Message: "a value in the body is not valid"})
}
