import { type Attributes, type Context, context, createContextKey } from '@opentelemetry/api';

const SEND_SPAN_ATTRIBUTES = createContextKey('attributes of the Kafka send spans started in this context');

/**
 * `parent` with `attributes` for the `send <topic>` spans started in it: the kafkajs instrumentation
 * makes those spans itself, and its producer hook (instrumentations.ts) adds these to them.
 */
export function withSendSpanAttributes(parent: Context, attributes: Attributes): Context {
  return parent.setValue(SEND_SPAN_ATTRIBUTES, attributes);
}

/** The attributes `withSendSpanAttributes` put in the active context, if any. */
export function activeSendSpanAttributes(): Attributes {
  return (context.active().getValue(SEND_SPAN_ATTRIBUTES) as Attributes | undefined) ?? {};
}
