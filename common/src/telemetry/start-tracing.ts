import { register } from 'import-in-the-middle/register-hooks.mjs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BaggageSpanProcessor } from '@opentelemetry/baggage-span-processor';
import { getNumberFromEnv } from '@opentelemetry/core';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { TelemetryEnvironment, validateEnvironment } from '../config/environment.js';
import { APP_ATTRIBUTES } from './attributes.js';
import { INSTRUMENTED_PACKAGES, instrumentations } from './instrumentations.js';
import type { LoadedTracing } from './loaded-tracing.js';
import { SpanStartClock } from '../alternatives/span-start-clock.js';

/**
 * Hooks the instrumented packages' ESM imports, then starts the SDK. Logs and metrics are the SDK's
 * defaults (OTLP, from the OTEL_* variables).
 */
export function startTracing(): LoadedTracing {
  // The application validates its environment too, but only after kafkajs is loaded and patched.
  const env = validateEnvironment(TelemetryEnvironment)(process.env) as Partial<TelemetryEnvironment>;

  // NestJS 12 is ESM-only and loads kafkajs with `import()`, which the instrumentations' `require`
  // hooks never see: without this loader hook no `traceparent` header is written and every Kafka hop
  // starts a new trace. It wraps only the listed packages.
  register({ include: INSTRUMENTED_PACKAGES });

  const sdk = new NodeSDK({
    // Listing the span processors replaces the one NodeSDK builds from `traceExporter`.
    spanProcessors: [
      ...(env.SPAN_START_CLOCK === 'precise' ? [new SpanStartClock()] : []),
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
    instrumentations: instrumentations(env),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
