// Package tracing owns OpenTelemetry tracing: an OTLP exporter when an endpoint is
// configured (off otherwise), and the spans of the HTTP → database → job path. Span
// names and attributes carry route patterns, SQL verbs and job types only — never ids,
// names, notes or any other value from a request.
package tracing

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation name of Xinqiao's spans.
const Name = "github.com/xinqiao/xinqiao"

// Setup installs a tracer provider exporting to an OTLP/HTTP endpoint (host:port).
// With an empty endpoint tracing stays off (the global no-op provider) and the
// returned shutdown does nothing.
func Setup(ctx context.Context, endpoint, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(5*time.Second)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// Carrier captures ctx's trace context (W3C traceparent) so that work done later, in a
// job, continues the same trace. Empty when no span is active.
func Carrier(ctx context.Context) map[string]string {
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	return c
}

// Resume returns ctx carrying the trace context captured by Carrier.
func Resume(ctx context.Context, carrier map[string]string) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, propagation.MapCarrier(carrier))
}

// Tracer is Xinqiao's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// QueryTracer makes a span per SQL statement, named by its verb (SELECT, INSERT, ...).
type QueryTracer struct{}

type spanKey struct{}

// TraceQueryStart implements pgx.QueryTracer.
func (QueryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	verb := "SQL"
	if f := strings.Fields(data.SQL); len(f) > 0 {
		verb = strings.ToUpper(f[0])
	}
	ctx, span := Tracer().Start(ctx, "db "+verb, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.operation", verb)))
	return context.WithValue(ctx, spanKey{}, span)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	if data.Err != nil {
		span.SetStatus(codes.Error, "query failed") // the error text may quote values
	}
	span.End()
}

// TraceBatchStart implements pgx.BatchTracer: a batch (one round trip) is a span, "db
// BATCH", with a child span per statement named by its verb.
func (QueryTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	ctx, span := Tracer().Start(ctx, "db BATCH", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.operation", "BATCH")))
	return context.WithValue(ctx, spanKey{}, span)
}

// TraceBatchQuery implements pgx.BatchTracer.
func (QueryTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	verb := "SQL"
	if f := strings.Fields(data.SQL); len(f) > 0 {
		verb = strings.ToUpper(f[0])
	}
	_, span := Tracer().Start(ctx, "db "+verb, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.operation", verb)))
	if data.Err != nil {
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}

// TraceBatchEnd implements pgx.BatchTracer.
func (QueryTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	if data.Err != nil {
		span.SetStatus(codes.Error, "batch failed")
	}
	span.End()
}
