import type { IncomingMessage } from 'node:http';
import {
  type Attributes,
  type Histogram,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import type { KafkajsMessage } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_CLIENT_ID,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import { instrumentationClasses } from '../alternatives/link-traces.js';
import type { TelemetryEnvironment } from '../config/environment.js';
import { EVENT_ID_HEADER } from '../contracts/headers.js';
import { kafkaClientId } from '../kafka/client-id.js';
import { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
import { kafkaHeaderGetter } from './kafka-headers.js';
import { activeSendSpanAttributes } from './send-span-attributes.js';

/** The context of the `send` span that wrote `message`, if it carries one. */
function creationContext(message: KafkajsMessage): SpanContext | undefined {
  return trace.getSpanContext(propagation.extract(ROOT_CONTEXT, message.headers, kafkaHeaderGetter));
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

/**
 * What the conventions recommend on every Kafka span and the instrumentation cannot tell (its hooks
 * see the span and the message, not the client): the client id, and the broker when there is only
 * one. With several bootstrap brokers the one a send or fetch went to is not known, so none is named.
 */
function kafkaClientAttributes(env: Partial<TelemetryEnvironment>): Attributes {
  const brokers = env.KAFKA_BROKERS?.split(',') ?? [];
  const [address, port] = brokers.length === 1 ? brokers[0]!.split(':') : [];
  return {
    [ATTR_MESSAGING_CLIENT_ID]: kafkaClientId(env.OTEL_SERVICE_NAME),
    ...(address && port ? { [ATTR_SERVER_ADDRESS]: address, [ATTR_SERVER_PORT]: Number(port) } : {}),
  };
}

/** The event id the publisher put in the message's headers (a Buffer on the consumer side). */
function messageIdAttribute(message: KafkajsMessage): Attributes {
  const eventId = message.headers?.[EVENT_ID_HEADER];
  return eventId === undefined || Array.isArray(eventId) ? {} : { [ATTR_MESSAGING_MESSAGE_ID]: String(eventId) };
}

let timeInQueueHistogram: Histogram | undefined;

/**
 * Made at the first message, not at import: the instrumentations are created before the SDK registers
 * its MeterProvider, and a histogram taken from the API before then records nothing, ever.
 */
function timeInQueue(): Histogram {
  const { name, unit, description, buckets } = APP_METRICS.timeInQueue;
  timeInQueueHistogram ??= metrics.getMeter('@demo/common').createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: [...buckets] } });
  return timeInQueueHistogram;
}

/** The instrumentations every service runs, configured as the semantic conventions ask. */
export function instrumentations(env: Partial<TelemetryEnvironment>): Instrumentation[] {
  const consumerGroup = env.KAFKA_CONSUMER_GROUP;
  const clientAttributes = kafkaClientAttributes(env);
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
      // Runs in the context of the send: the outbox relay says there how often it tried.
      producerHook: (span, { message }) =>
        span.setAttributes({ ...clientAttributes, ...messageIdAttribute(message), ...activeSendSpanAttributes() }),
      consumerHook: (span, { topic, message }) => {
        span.setAttributes({ ...clientAttributes, ...messageIdAttribute(message) });
        // The conventions' SHOULD: a link to the creation context, beside the parent it already is.
        // A span in another trace (a new trace per hop, or a batch's poll trace) is linked already.
        const creation = creationContext(message);
        if (creation && creation.traceId === span.spanContext().traceId) span.addLink({ context: creation });
        // The instrumentation does not know the consumer group, which the conventions require on
        // consumer spans; the service that consumes is configured with it.
        if (consumerGroup) span.setAttribute(ATTR_MESSAGING_CONSUMER_GROUP_NAME, consumerGroup);
        if (!message.timestamp) return;
        // A consumer that falls behind shows it here and as a gap between `send` and `process` in
        // Jaeger; the histogram shows it for every message, where sampling or search cannot hide it.
        const waitedMs = Math.max(0, Date.now() - Number(message.timestamp));
        span.setAttribute(APP_ATTRIBUTES.timeInQueueMs, waitedMs);
        timeInQueue().record(waitedMs / 1000, {
          [ATTR_MESSAGING_SYSTEM]: 'kafka',
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          ...(consumerGroup && { [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: consumerGroup }),
        });
      },
    }),
    // Queries outside a request or a message (TypeORM's start-up and migrations, readiness pings)
    // would each become a stray one-span trace. A checkout from the pool (`pg-pool.connect`, one per
    // statement or transaction) and the rare new connection (`pg.connect`) tell nothing the query span
    // does not: without them a trace holds only the statements.
    new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
  ];
}
