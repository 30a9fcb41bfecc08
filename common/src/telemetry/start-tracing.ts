import { register } from 'import-in-the-middle/register-hooks.mjs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BaggageSpanProcessor } from '@opentelemetry/baggage-span-processor';
import { getNumberFromEnv } from '@opentelemetry/core';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { APP_ATTRIBUTES } from './attributes.js';
import { INSTRUMENTED_PACKAGES, instrumentations } from './instrumentations.js';
import type { LoadedTracing } from './loaded-tracing.js';
import { SpanStartClock } from '../alternatives/span-start-clock.js';

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
    // Listing the span processors replaces the one NodeSDK builds from `traceExporter`.
    spanProcessors: [
      // SPAN_START_CLOCK=precise: spans start on a sub-millisecond clock (alternatives/span-start-clock.ts).
      ...(preciseSpanStart() ? [new SpanStartClock()] : []),
      // The declared baggage entries (app.synthetic) become attributes of every span started in their
      // context, where the collector's tail sampling can read them.
      new BaggageSpanProcessor((key) => key === APP_ATTRIBUTES.synthetic),
      // What `traceExporter` would have set up.
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
    // The metrics the instrumentations record (instrumentation-kafkajs: messages sent and consumed,
    // send and process durations) and the project's time in queue, to the collector's OTLP receiver.
    // Request/error/duration metrics per span come from the collector (span_metrics), not from here.
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        // Every 5 s instead of 60: a few requests show up in Prometheus seconds later, as the span metrics do.
        exportIntervalMillis: 5000,
      }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

function preciseSpanStart(): boolean {
  const value = process.env.SPAN_START_CLOCK ?? 'sdk';
  if (value !== 'sdk' && value !== 'precise') throw new Error(`SPAN_START_CLOCK must be sdk or precise, not "${value}"`);
  return value === 'precise';
}
