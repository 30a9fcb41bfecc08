import type { IncomingMessage } from 'node:http';
import { context, type Histogram, metrics, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME, ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_SYSTEM } from '@opentelemetry/semantic-conventions/incubating';
import { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
import { activeSendSpanAttributes } from './send-span-attributes.js';

/**
 * instrumentation-http, except that a request arriving with a client's trace context starts a new
 * trace, linked to the client's span. instrumentation-http has no option for it: it starts the server
 * span with `tracer.startSpan`, in the context extracted from the headers, and this tracer makes that
 * span a root with a link instead. Nothing else changes: the handler, its queries and the Kafka
 * messages it causes are in the new trace, and the outbox and Kafka consumers still continue the
 * trace context they read (they do not use this tracer).
 */
class LinkClientTraceHttpInstrumentation extends HttpInstrumentation {
  protected override get tracer(): Tracer {
    const tracer = super.tracer;
    return {
      startSpan(name, options = {}, parent = context.active()) {
        const client = trace.getSpanContext(parent);
        if (options.kind !== SpanKind.SERVER || !client?.isRemote) return tracer.startSpan(name, options, parent);
        return tracer.startSpan(name, { ...options, root: true, links: [...(options.links ?? []), { context: client }] }, parent);
      },
      // instrumentation-http starts its spans with startSpan only.
      startActiveSpan: tracer.startActiveSpan.bind(tracer),
    };
  }
}

/**
 * The packages whose ESM imports the loader hook of `start-tracing.ts` wraps: an instrumentation
 * patches a package loaded with `import` only if it is listed here. Every package an instrumentation
 * below patches must be in it (instrumentations.spec.ts checks).
 */
export const INSTRUMENTED_PACKAGES = ['kafkajs', 'pg', 'pg-pool', 'express', 'http', 'https'];

/** Health probes run every few seconds; tracing them would bury the demo's traces. */
export function isHealthProbe(request: IncomingMessage): boolean {
  return request.url?.startsWith('/health/') ?? false;
}

let timeInQueueHistogram: Histogram | undefined;

/**
 * Made at the first message, not at import: the instrumentations are created before the SDK registers
 * its MeterProvider, and a histogram taken from the API before then records nothing, ever.
 */
function timeInQueue(): Histogram {
  const { name, unit, brief, buckets } = APP_METRICS.timeInQueue;
  timeInQueueHistogram ??= metrics.getMeter('@demo/common').createHistogram(name, { unit, description: brief, advice: { explicitBucketBoundaries: buckets } });
  return timeInQueueHistogram;
}

/** The instrumentations every service runs, configured as the semantic conventions ask. */
export function instrumentations(env: NodeJS.ProcessEnv = process.env): Instrumentation[] {
  const consumerGroup = env.KAFKA_CONSUMER_GROUP;
  const Http = env.CLIENT_TRACEPARENT === 'link' ? LinkClientTraceHttpInstrumentation : HttpInstrumentation;
  return [
    new Http({ ignoreIncomingRequestHook: isHealthProbe }),
    // Only for the route: it names the server span `POST /api/v1/students` and sets `http.route`.
    // Nest's middleware and handler layers would each add a span that tells nothing new.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
    }),
    new KafkaJsInstrumentation({
      // Runs in the context of the send: the outbox relay says there how often it tried.
      producerHook: (span) => span.setAttributes(activeSendSpanAttributes()),
      consumerHook: (span, { topic, message }) => {
        // The instrumentation does not know the consumer group, which the conventions require on
        // consumer spans; the service that consumes is configured with it.
        if (consumerGroup) span.setAttribute(ATTR_MESSAGING_CONSUMER_GROUP_NAME, consumerGroup);
        if (!message.timestamp) return;
        // A consumer that falls behind shows it here and as a gap between `send` and `process` in
        // Jaeger; the histogram shows it for every message, where sampling or search cannot hide it.
        const waitedMs = Math.max(0, Date.now() - Number(message.timestamp));
        span.setAttribute(APP_ATTRIBUTES.timeInQueueMs.key, waitedMs);
        timeInQueue().record(waitedMs / 1000, {
          [ATTR_MESSAGING_SYSTEM]: 'kafka',
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          ...(consumerGroup && { [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: consumerGroup }),
        });
      },
    }),
    // Queries outside a request or a message (TypeORM's start-up and migrations, readiness pings)
    // would each become a stray one-span trace.
    new PgInstrumentation({ requireParentSpan: true }),
  ];
}
