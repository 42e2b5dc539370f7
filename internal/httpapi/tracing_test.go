package httpapi_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A request produces one server span named by its route pattern, with the database
// spans of its transaction as children in the same trace, and no confidential value in
// any span name or attribute.
func TestTracingCoversHTTPAndDatabaseWithoutConfidentialValues(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	w := newWorld(t)
	target := w.target("s1")
	var name string
	w.ownerQuery(func(tx pgxTx) {
		tx.QueryRow(bg(), `SELECT name FROM students WHERE id = $1`, target.student).Scan(&name)
	})
	r := w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+target.school.String()+"/students/"+target.student.String(), nil,
		"X-Request-Id", "trace-test-0001")
	if r.status != 200 || !strings.Contains(string(r.body), name) {
		t.Fatalf("read: %d", r.status)
	}
	var server sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == "xinqiao.request_id" && a.Value.AsString() == "trace-test-0001" {
				server = s
			}
		}
	}
	if server == nil || server.Name() != "GET /api/v1/schools/:schoolId/students/:studentId" {
		t.Fatalf("no server span for the request")
	}
	db := 0
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() != server.SpanContext().TraceID() {
			continue
		}
		if strings.HasPrefix(s.Name(), "db ") {
			db++
		}
		values := []string{s.Name()}
		for _, a := range s.Attributes() {
			values = append(values, a.Value.String())
		}
		for _, v := range values {
			for _, secret := range []string{name, target.student.String(), target.studentNumber, target.school.String()} {
				if strings.Contains(v, secret) {
					t.Fatalf("span %q carries a confidential value: %q", s.Name(), v)
				}
			}
		}
	}
	if db < 3 {
		t.Fatalf("want the transaction's statements as child spans, got %d", db)
	}
}
