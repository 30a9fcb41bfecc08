package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The send span of api-service or billing-consumer, as a traceparent header names it.
const (
	sendTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	sendSpanID  = "00f067aa0ba902b7"
)

func testReceipts(t *testing.T) (*receipts, *tracetest.SpanRecorder, *bytes.Buffer) {
	t.Helper()
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	logs := &bytes.Buffer{}
	r := &receipts{
		config:     config{group: "receipt-consumer", clientID: "receipt-consumer", server: &serverAddress{host: "kafka", port: 19092}},
		logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		tracer:     provider.Tracer("test"),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	return r, recorder, logs
}

func billingRecord(value string) *kgo.Record {
	return &kgo.Record{
		Topic: "student-billing", Partition: 3, Offset: 42, Key: []byte("7c9e6679-7425-40de-944b-e07fc1f90ae7"), Value: []byte(value),
		Timestamp: time.Now().Add(-250 * time.Millisecond),
		Headers: []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-" + sendTraceID + "-" + sendSpanID + "-01")},
			{Key: "event-id", Value: []byte("0e5b1b2c-31f5-4d8b-9a64-1b1c5a3f1f11")},
		},
	}
}

func onlySpan(t *testing.T, recorder *tracetest.SpanRecorder) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := recorder.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended, want 1", len(spans))
	}
	return spans[0]
}

func attributesOf(span sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	values := map[attribute.Key]attribute.Value{}
	for _, kv := range span.Attributes() {
		values[kv.Key] = kv.Value
	}
	return values
}

func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var entry map[string]any
		if err := json.Unmarshal(line, &entry); err != nil {
			t.Fatalf("a log line that is not JSON: %s", line)
		}
		lines = append(lines, entry)
	}
	return lines
}

func TestProcessSpanIsTheChildOfTheSendSpanAndLinkedToIt(t *testing.T) {
	r, recorder, _ := testReceipts(t)
	r.process(billingRecord(`{"eventId":"0e5b1b2c-31f5-4d8b-9a64-1b1c5a3f1f11","id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","firstname":"Ada","lastname":"Lovelace","feeCents":120000}`))

	span := onlySpan(t, recorder)
	if span.Name() != "process student-billing" || span.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("span %q of kind %v, want a consumer span `process student-billing`", span.Name(), span.SpanKind())
	}
	if got := span.Parent(); got.TraceID().String() != sendTraceID || got.SpanID().String() != sendSpanID {
		t.Errorf("parent %s/%s, want the send span %s/%s", got.TraceID(), got.SpanID(), sendTraceID, sendSpanID)
	}
	if links := span.Links(); len(links) != 1 || links[0].SpanContext.SpanID().String() != sendSpanID {
		t.Errorf("links %v, want one, to the send span", links)
	}
	if span.Status().Code == codes.Error {
		t.Errorf("status %v, want no error", span.Status())
	}
}

func TestProcessSpanCarriesTheAttributesOfTheNodeConsumers(t *testing.T) {
	r, recorder, _ := testReceipts(t)
	r.process(billingRecord(`{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","feeCents":120000}`))

	got := attributesOf(onlySpan(t, recorder))
	want := map[string]string{
		"messaging.system":                   "kafka",
		"messaging.destination.name":         "student-billing",
		"messaging.destination.partition.id": "3",
		"messaging.operation.name":           "process",
		"messaging.operation.type":           "process",
		"messaging.consumer.group.name":      "receipt-consumer",
		"messaging.client.id":                "receipt-consumer",
		"messaging.kafka.message.key":        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		"messaging.message.id":               "0e5b1b2c-31f5-4d8b-9a64-1b1c5a3f1f11",
		"server.address":                     "kafka",
	}
	for key, value := range want {
		if got[attribute.Key(key)].Emit() != value {
			t.Errorf("%s = %q, want %q", key, got[attribute.Key(key)].Emit(), value)
		}
	}
	if got["messaging.kafka.offset"].AsInt64() != 42 || got["server.port"].AsInt64() != 19092 {
		t.Errorf("offset %v, server.port %v; want 42 and 19092", got["messaging.kafka.offset"], got["server.port"])
	}
	if waited := got[timeInQueueMs].AsInt64(); waited < 250 || waited > 10_000 {
		t.Errorf("%s = %d, want the 250 ms since the record's timestamp", timeInQueueMs, waited)
	}
}

func TestAReceiptIsALogLineOfTheProcessSpanWithTheStudentIdAndNoName(t *testing.T) {
	r, recorder, logs := testReceipts(t)
	r.process(billingRecord(`{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","firstname":"Ada","lastname":"Lovelace","feeCents":108000}`))

	span := onlySpan(t, recorder)
	lines := logLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1", len(lines))
	}
	line := lines[0]
	if line["msg"] != "receipt issued" || line["level"] != "INFO" || line["studentId"] != "7c9e6679-7425-40de-944b-e07fc1f90ae7" || line["feeCents"] != float64(108000) {
		t.Errorf("log line %v", line)
	}
	if line["trace_id"] != span.SpanContext().TraceID().String() || line["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("log line ids %v/%v, want the process span's", line["trace_id"], line["span_id"])
	}
	if bytes.Contains(logs.Bytes(), []byte("Lovelace")) || bytes.Contains(logs.Bytes(), []byte("Ada")) {
		t.Errorf("the log holds the student's name: %s", logs)
	}
}

func TestAMessageThatIsNotABilledStudentIsAnErrorInItsSpanAndSkipped(t *testing.T) {
	for _, tc := range []struct{ value, errorType string }{
		{`not json`, "json.SyntaxError"},
		{`{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","feeCents":"a lot"}`, "json.UnmarshalTypeError"},
		{`{"firstname":"Ada","lastname":"Lovelace"}`, "main.missingFieldsError"},
	} {
		r, recorder, logs := testReceipts(t)
		r.process(billingRecord(tc.value))

		span := onlySpan(t, recorder)
		if span.Status().Code != codes.Error || attributesOf(span)["error.type"].AsString() != tc.errorType {
			t.Errorf("%s: status %v, error.type %q; want an error of type %s", tc.value, span.Status(), attributesOf(span)["error.type"].AsString(), tc.errorType)
		}
		lines := logLines(t, logs)
		if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["msg"] != "receipt not issued" || lines[0]["trace_id"] != sendTraceID {
			t.Errorf("%s: log lines %v, want one ERROR in the trace", tc.value, lines)
		}
		if bytes.Contains(logs.Bytes(), []byte("Lovelace")) {
			t.Errorf("%s: the log holds the student's name: %s", tc.value, logs)
		}
	}
}
