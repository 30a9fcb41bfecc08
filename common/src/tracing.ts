/**
 * The telemetry bootstrap: the one place where tracing is set up for all three services.
 *
 * It is loaded BEFORE the application, with `node --import @demo/common/tracing dist/main.js`,
 * because an instrumentation can only patch a library that has not been loaded yet.
 * Everything is configured by the standard OTEL_* environment variables: OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED...
 */
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
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
  // This demo exports traces only: no metric readers and no log processors, so nothing else is
  // sent to a collector pipeline that would not accept it.
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();

/** Flushes the spans still queued in the batch processor; call it after the application has closed. */
export function shutdownTracing(): Promise<void> {
  return sdk.shutdown();
}
