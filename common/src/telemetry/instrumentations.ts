import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME } from '@opentelemetry/semantic-conventions/incubating';
import { activeSendSpanAttributes } from './send-span-attributes.js';

/**
 * How long a message waited in its topic before a consumer took it: the consumer span's start less
 * the message's timestamp (set by the producer). The semantic conventions have no attribute for it
 * yet, so it has a name of this project's own; a consumer that falls behind shows it here and as a
 * gap between the `send` and `process` spans in Jaeger.
 */
export const TIME_IN_QUEUE_ATTRIBUTE = 'app.messaging.time_in_queue_ms';

/** Health probes run every few seconds; tracing them would bury the demo's traces. */
export function isHealthProbe(request: IncomingMessage): boolean {
  return request.url?.startsWith('/health/') ?? false;
}

/** The instrumentations every service runs, configured as the semantic conventions ask. */
export function instrumentations(env: NodeJS.ProcessEnv = process.env): Instrumentation[] {
  const consumerGroup = env.KAFKA_CONSUMER_GROUP;
  return [
    new HttpInstrumentation({ ignoreIncomingRequestHook: isHealthProbe }),
    // Only for the route: it names the server span `POST /api/v1/students` and sets `http.route`.
    // Nest's middleware and handler layers would each add a span that tells nothing new.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
    }),
    new KafkaJsInstrumentation({
      // Runs in the context of the send: the outbox relay says there how often it tried.
      producerHook: (span) => span.setAttributes(activeSendSpanAttributes()),
      consumerHook: (span, { message }) => {
        // The instrumentation does not know the consumer group, which the conventions require on
        // consumer spans; the service that consumes is configured with it.
        if (consumerGroup) span.setAttribute(ATTR_MESSAGING_CONSUMER_GROUP_NAME, consumerGroup);
        if (message.timestamp) span.setAttribute(TIME_IN_QUEUE_ATTRIBUTE, Math.max(0, Date.now() - Number(message.timestamp)));
      },
    }),
    // Queries outside a request or a message (TypeORM's start-up and migrations, readiness pings)
    // would each become a stray one-span trace.
    new PgInstrumentation({ requireParentSpan: true }),
  ];
}
