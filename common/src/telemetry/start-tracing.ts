import { register } from 'import-in-the-middle/register-hooks.mjs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { getNumberFromEnv } from '@opentelemetry/core';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { INSTRUMENTED_PACKAGES, instrumentations } from './instrumentations.js';
import type { LoadedTracing } from './loaded-tracing.js';
import { SpanStartClock } from './span-start-clock.js';

/** Hooks the instrumented packages' ESM imports, then starts the SDK. */
export function startTracing(): LoadedTracing {
  // NestJS 12 is ESM-only and loads kafkajs (and express) with `import()`. Instrumentations patch
  // modules through `require` hooks, which never see an ESM import: without this loader hook the
  // kafkajs instrumentation patches nothing, no `traceparent` header is written, and every Kafka hop
  // starts a new trace. The synchronous in-thread hook (Node >= 24.11.1) wraps only the listed
  // packages, which keeps the cost low; a package loaded through ESM that is missing from the list
  // stays uninstrumented.
  register({ include: INSTRUMENTED_PACKAGES });

  const sdk = new NodeSDK({
    spanProcessors: [
      // First, so that every other processor (and the exporter) sees the precise start.
      new SpanStartClock(),
      // What `traceExporter` would have set up, which the SDK ignores once `spanProcessors` is given.
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        maxQueueSize: getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
        scheduledDelayMillis: getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
        exportTimeoutMillis: getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
        maxExportBatchSize: getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      }),
    ],
    instrumentations: instrumentations(),
    // The service's log lines, emitted by its logger (TraceAwareLogger), go to the collector too, each
    // tied to the trace and span it was written in.
    logRecordProcessors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
    // No metrics from the SDK: the collector derives request/error/duration metrics from the spans.
    metricReaders: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
