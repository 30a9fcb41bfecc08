/**
 * The telemetry bootstrap: the one place where tracing is set up for all three services.
 *
 * It is loaded BEFORE the application, with `node --import @demo/common/tracing dist/main.js`,
 * because an instrumentation can only patch a library that has not been loaded yet.
 * Everything is configured by the standard OTEL_* environment variables: OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED...
 * Two of the project's own are read by the instrumentations (telemetry/instrumentations.ts):
 * KAFKA_CONSUMER_GROUP, and CLIENT_TRACEPARENT, which decides whether a client's `traceparent` makes
 * a request part of the client's trace (`parent`, the default) or starts a new trace linked to it (`link`).
 * The attributes the project adds to spans are listed in telemetry/attributes.ts.
 */
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { instrumentations } from './telemetry/instrumentations.js';

// NestJS 12 is ESM-only and loads kafkajs (and express) with `import()`. Instrumentations patch
// modules through `require` hooks, which never see an ESM import: without this loader hook the
// kafkajs instrumentation patches nothing, no `traceparent` header is written, and every Kafka hop
// starts a new trace. The synchronous in-thread hook (Node >= 24.11.1) wraps only the listed
// packages, which keeps the cost low; a package loaded through ESM that is missing here stays
// uninstrumented.
register({ include: ['kafkajs', 'pg', 'pg-pool', 'express', 'http', 'https'] });

const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  instrumentations: instrumentations(),
  // The service's log lines, emitted by its logger (TraceAwareLogger), go to the collector too, each
  // tied to the trace and span it was written in.
  logRecordProcessors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
  // No metrics from the SDK: the collector derives request/error/duration metrics from the spans.
  metricReaders: [],
});
sdk.start();

/** Flushes the spans still queued in the batch processor; call it after the application has closed. */
export function shutdownTracing(): Promise<void> {
  return sdk.shutdown();
}
