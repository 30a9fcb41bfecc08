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
  // NestJS 12 is ESM-only and loads kafkajs with `import()`, which the instrumentations' `require`
  // hooks never see: without this loader hook no `traceparent` header is written and every Kafka hop
  // starts a new trace. It wraps only the listed packages.
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
    // The services' log lines (TraceAwareLogger), each tied to the span it was written in.
    logRecordProcessors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
    // The messaging metrics of instrumentation-kafkajs and the time in queue; the collector derives
    // request metrics from the spans (span_metrics).
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        // Every 5 s instead of 60, as the collector's span metrics.
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
