/**
 * KAFKA_CONSUMER_TRACE=link: a consumer processes a message in a new trace, linked to the send span
 * named by the message's `traceparent`. kafka-propagation.spec.ts tests the default.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { SpanKind, trace } from '@opentelemetry/api';
import type { EachMessagePayload, Kafka as KafkaClient, KafkaConfig } from 'kafkajs';
import { useInMemoryTracing } from '../testing.js';
import { instrumentations } from '../telemetry/instrumentations.js';

const tracing = useInMemoryTracing();
const enabled = instrumentations({ KAFKA_CONSUMER_GROUP: 'billing-consumer', KAFKA_CONSUMER_TRACE: 'link' });
// Required after the instrumentations are enabled, so that their require hook patches kafkajs.
const { Kafka } = createRequire(import.meta.url)('kafkajs') as { Kafka: new (config: KafkaConfig) => KafkaClient };
const kafka = new Kafka({ brokers: ['127.0.0.1:1'], retry: { retries: 0 }, connectionTimeout: 100, logCreator: () => () => {} });

const SEND_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SEND_SPAN_ID = '00f067aa0ba902b7';

describe('KAFKA_CONSUMER_TRACE=link', () => {
  const consumer = kafka.consumer({ groupId: 'billing-consumer' });
  after(async () => {
    await consumer.disconnect();
    enabled.forEach((instrumentation) => instrumentation.disable());
  });

  it('starts a new trace at the consumer span, linked to the send span, and runs the handler in it', async () => {
    let activeInHandler: string | undefined;
    const runConfig: { eachMessage?: (payload: EachMessagePayload) => Promise<void> } = {
      eachMessage: async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      },
    };
    // `run` fails without a broker, but the instrumentation has wrapped `eachMessage` by then.
    await consumer.run(runConfig).catch(() => undefined);
    await runConfig.eachMessage!({
      topic: 'student',
      partition: 0,
      message: {
        key: Buffer.from('student-1'),
        value: Buffer.from('{}'),
        headers: { traceparent: Buffer.from(`00-${SEND_TRACE_ID}-${SEND_SPAN_ID}-01`) },
        offset: '0',
        timestamp: String(Date.now()),
        attributes: 0,
      },
      heartbeat: async () => {},
      pause: () => () => {},
    });

    const span = (await tracing.finishedSpans()).find((finished) => finished.name === 'process student');
    assert.ok(span, 'a `process student` span');
    assert.equal(span.kind, SpanKind.CONSUMER);
    assert.equal(span.parentSpanContext, undefined, 'a root span');
    assert.notEqual(span.spanContext().traceId, SEND_TRACE_ID);
    assert.deepEqual(
      span.links.map(({ context }) => [context.traceId, context.spanId]),
      [[SEND_TRACE_ID, SEND_SPAN_ID]],
      'one link, to the send span',
    );
    assert.equal(activeInHandler, span.spanContext().spanId);
  });
});
