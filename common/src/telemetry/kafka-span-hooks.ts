import { type Attributes, type Histogram, metrics, propagation, ROOT_CONTEXT, type Span, type SpanContext, trace } from '@opentelemetry/api';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_CLIENT_ID,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import type { IHeaders } from 'kafkajs';
import type { TelemetryEnvironment } from '../config/environment.js';
import { EVENT_ID_HEADER } from '../contracts/headers.js';
import { kafkaClientId } from '../kafka/client-id.js';
import { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
import { kafkaHeaderGetter } from './kafka-headers.js';
import { activeSendSpanAttributes } from './send-span-attributes.js';

/** What the hooks read of a message: the same in kafkajs and in the confluent client's KafkaJS API. */
export interface HookedMessage {
  headers?: IHeaders;
  timestamp?: string;
}

/** The hooks' signature in instrumentation-kafkajs, which the confluent client's tracing takes too. */
export type KafkaSpanHook = (span: Span, info: { topic: string; message: HookedMessage }) => void;

/** The context of the `send` span that wrote `message`, if it carries one. */
export function creationContext(message: HookedMessage): SpanContext | undefined {
  return trace.getSpanContext(propagation.extract(ROOT_CONTEXT, message.headers, kafkaHeaderGetter));
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
function messageIdAttribute(message: HookedMessage): Attributes {
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

/**
 * The attributes this project adds to the Kafka spans of either client, which the instrumentations
 * make themselves: the producer hook runs in the context of the send (the outbox relay says there how
 * often it tried), the consumer hook on every `process` span.
 */
export function kafkaSpanHooks(env: Partial<TelemetryEnvironment>): { producerHook: KafkaSpanHook; consumerHook: KafkaSpanHook } {
  const consumerGroup = env.KAFKA_CONSUMER_GROUP;
  const clientAttributes = kafkaClientAttributes(env);
  return {
    producerHook: (span, { message }) =>
      span.setAttributes({ ...clientAttributes, ...messageIdAttribute(message), ...activeSendSpanAttributes() }),
    consumerHook: (span, { topic, message }) => {
      span.setAttributes({ ...clientAttributes, ...messageIdAttribute(message) });
      // The instrumentations do not know the consumer group, which the conventions require on
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
  };
}
