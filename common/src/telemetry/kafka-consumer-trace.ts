/**
 * How a Kafka consumer's `process <topic>` span relates to the `send <topic>` span that wrote its
 * message (the message's creation context), set by KAFKA_CONSUMER_TRACE on each consumer:
 * - `parent` (the default): the child of the send span, in the producer's trace, and linked to it.
 *   The conventions say a process span SHOULD link to the creation context and MAY also take it as
 *   its parent: it does both. One POST is one trace, and Jaeger's service graph has its edges.
 * - `link`: the root of a new trace, linked to the send span, as the OpenTelemetry demo, the Java
 *   agent and .NET do it. Each hop is a trace of its own, sampled on its own.
 */
export const KAFKA_CONSUMER_TRACE_SETTINGS = ['parent', 'link'] as const;
