package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

const (
	// The header the publisher puts the event id in (common/src/contracts/headers.ts).
	eventIDHeader = "event-id"
	// The project's own attribute (common/src/telemetry/attributes.ts).
	timeInQueueMs = "app.messaging.time_in_queue_ms"
)

// billedStudent is what a receipt needs of a `student-billing` message (StudentBilledEvent).
type billedStudent struct {
	EventID  string `json:"eventId"`
	ID       string `json:"id"`
	FeeCents *int   `json:"feeCents"`
}

// missingFieldsError: valid JSON, but not a billed student. Its message holds nothing of the value,
// which may hold a name.
type missingFieldsError struct{}

func (missingFieldsError) Error() string { return "not a billed student: id and feeCents are required" }

func parseBilledStudent(value []byte) (billedStudent, error) {
	var student billedStudent
	if err := json.Unmarshal(value, &student); err != nil {
		return student, err
	}
	if student.ID == "" || student.FeeCents == nil {
		return student, missingFieldsError{}
	}
	return student, nil
}

type receipts struct {
	config     config
	logger     *slog.Logger
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func newReceipts(c config, logger *slog.Logger) *receipts {
	return &receipts{config: c, logger: logger, tracer: otel.Tracer("receipt-consumer"), propagator: otel.GetTextMapPropagator()}
}

// process issues the receipt of one message in its `process` span. A message that is not a billed
// student is logged as an ERROR in that span and skipped: this consumer has no dead-letter topic,
// and billing's own consumer of `student` already sent such messages to `student-dlt`.
func (r *receipts) process(record *kgo.Record) {
	ctx, span := r.startProcessSpan(record)
	defer span.End()
	logger := r.logger.With("trace_id", span.SpanContext().TraceID().String(), "span_id", span.SpanContext().SpanID().String())

	student, err := parseBilledStudent(record.Value)
	if err != nil {
		// The error's type, as the Node consumers name an error by its class: json.SyntaxError...
		span.SetAttributes(semconv.ErrorTypeKey.String(strings.TrimPrefix(fmt.Sprintf("%T", err), "*")))
		span.SetStatus(codes.Error, err.Error())
		logger.ErrorContext(ctx, "receipt not issued", "error", err.Error(), "partition", record.Partition, "offset", record.Offset)
		return
	}
	logger.InfoContext(ctx, "receipt issued", "studentId", student.ID, "feeCents", *student.FeeCents)
}

// startProcessSpan starts `process <topic>` for a record: the child of the `send` span whose context
// the record's headers carry (kotel's carrier reads them), and linked to it, with the attributes
// instrumentation-kafkajs and kafka-span-hooks.ts give the Node consumers. kotel's own spans are not
// used: they follow the semantic conventions of 2023 (`student-billing process`, messaging.source.*).
func (r *receipts) startProcessSpan(record *kgo.Record) (context.Context, trace.Span) {
	sentIn := r.propagator.Extract(context.Background(), kotel.NewRecordCarrier(record))
	var links []trace.Link
	if sender := trace.SpanContextFromContext(sentIn); sender.IsValid() {
		links = append(links, trace.Link{SpanContext: sender})
	}
	attributes := []attribute.KeyValue{
		semconv.MessagingSystemKafka,
		semconv.MessagingDestinationName(record.Topic),
		semconv.MessagingDestinationPartitionID(strconv.Itoa(int(record.Partition))),
		semconv.MessagingOperationName("process"),
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingConsumerGroupName(r.config.group),
		semconv.MessagingClientID(r.config.clientID),
		// The names instrumentation-kafkajs still gives them (the conventions test lists why).
		attribute.Int64("messaging.kafka.offset", record.Offset),
		attribute.Int64(timeInQueueMs, max(0, time.Since(record.Timestamp).Milliseconds())),
	}
	if record.Key != nil {
		attributes = append(attributes, attribute.String("messaging.kafka.message.key", string(record.Key)))
	}
	for _, header := range record.Headers {
		if header.Key == eventIDHeader {
			attributes = append(attributes, semconv.MessagingMessageID(string(header.Value)))
		}
	}
	if server := r.config.server; server != nil {
		attributes = append(attributes, semconv.ServerAddress(server.host), semconv.ServerPort(server.port))
	}
	return r.tracer.Start(sentIn, "process "+record.Topic,
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...), trace.WithAttributes(attributes...))
}
