import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { instrumentationClasses } from '../alternatives/link-traces.js';
import type { TelemetryEnvironment } from '../config/environment.js';
import { creationContext, kafkaSpanHooks } from './kafka-span-hooks.js';

/**
 * The packages whose ESM imports the loader hook of `start-tracing.ts` wraps: an instrumentation
 * patches a package loaded with `import` only if it is listed here. Every package an instrumentation
 * below patches must be in it (instrumentations.spec.ts checks).
 */
export const INSTRUMENTED_PACKAGES = ['kafkajs', 'pg', 'pg-pool', 'express', 'http', 'https', 'pino'];

/** Health probes run every few seconds; tracing them would bury the demo's traces. */
export function isHealthProbe(request: IncomingMessage): boolean {
  return request.url?.startsWith('/health/') ?? false;
}

/** The instrumentations every service runs, configured as the semantic conventions ask. */
export function instrumentations(env: Partial<TelemetryEnvironment>): Instrumentation[] {
  const { producerHook, consumerHook } = kafkaSpanHooks(env);
  // CLIENT_TRACEPARENT and KAFKA_CONSUMER_TRACE pick the alternatives of alternatives/link-traces.ts.
  const { Http, KafkaJs } = instrumentationClasses(env);
  return [
    new Http({ ignoreIncomingRequestHook: isHealthProbe }),
    // Only for the route: it names the server span `POST /api/v1/students` and sets `http.route`.
    // Nest's middleware and handler layers would each add a span that tells nothing new.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
    }),
    new KafkaJs({
      producerHook,
      consumerHook: (span, info) => {
        consumerHook(span, info);
        // The conventions' SHOULD: a link to the creation context, beside the parent it already is.
        // A span in another trace (a new trace per hop, or a batch's poll trace) is linked already.
        const creation = creationContext(info.message);
        if (creation && creation.traceId === span.spanContext().traceId) span.addLink({ context: creation });
      },
    }),
    // Queries outside a request or a message (TypeORM's start-up and migrations, readiness pings)
    // would each become a stray one-span trace. A checkout from the pool (`pg-pool.connect`, one per
    // statement or transaction) and the rare new connection (`pg.connect`) tell nothing the query span
    // does not: without them a trace holds only the statements.
    new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    // Each log line gets the active span's trace_id and span_id, and goes out as an OTLP log record too.
    new PinoInstrumentation(),
  ];
}
