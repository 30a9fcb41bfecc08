import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import type { Consumer, ConsumerRunConfig, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { STUDENT_BILLING_TOPIC } from '../contracts/student.events.js';
import { useInMemoryTracing } from '../testing.js';
import { EachBatchKafkaServer } from './each-batch-kafka.server.js';

const tracing = useInMemoryTracing();

/** A message as billing sends it: the student, and the trace context of its `send` span. */
function billedMessage(offset: string) {
  const traceId = randomBytes(16).toString('hex');
  const producerSpanId = randomBytes(8).toString('hex');
  const student = { eventId: crypto.randomUUID(), id: crypto.randomUUID(), firstname: 'Ada', lastname: 'Lovelace', createdAt: '2026-11-20T10:00:00.000Z', feeCents: 120_000, billedAt: '2026-11-20T10:00:01.000Z' };
  const message = {
    key: Buffer.from(student.id),
    value: Buffer.from(JSON.stringify(student)),
    headers: { traceparent: Buffer.from(`00-${traceId}-${producerSpanId}-01`) },
    offset,
    timestamp: String(Date.now()),
    attributes: 0,
  } satisfies KafkaMessage;
  return { message, traceId, producerSpanId };
}

describe('EachBatchKafkaServer', () => {
  let server: EachBatchKafkaServer;
  let resolved: string[];

  beforeEach(() => {
    server = new EachBatchKafkaServer({});
    // A handler that makes a span of its own, in the context it runs in.
    server.addHandler(STUDENT_BILLING_TOPIC, async () => trace.getTracer('test').startSpan('notify student').end(), true);
    resolved = [];
    tracing.reset();
  });

  /** Hands `messages` to the server as kafkajs does, inside a span standing for the instrumentation's poll span. */
  async function consumeBatch(messages: KafkaMessage[]) {
    const pollSpan = trace.getTracer('test').startSpan(`poll ${STUDENT_BILLING_TOPIC}`);
    const payload = {
      batch: { topic: STUDENT_BILLING_TOPIC, partition: 3, messages },
      heartbeat: async () => {},
      pause: () => () => {},
      resolveOffset: (offset: string) => resolved.push(offset),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;
    await context.with(trace.setSpan(context.active(), pollSpan), () => server.handleBatch(payload));
    pollSpan.end();
    const spans = await tracing.finishedSpans();
    return { poll: spans.find((span) => span.name.startsWith('poll'))!, notified: spans.filter((span) => span.name === 'notify student') };
  }

  it('handles each message of a batch in the trace it was sent in, under its producer span', async () => {
    const sent = [billedMessage('41'), billedMessage('42'), billedMessage('43')];
    const { notified } = await consumeBatch(sent.map((s) => s.message));
    assert.deepEqual(
      notified.map((span) => [span.spanContext().traceId, span.parentSpanContext?.spanId]),
      sent.map((s) => [s.traceId, s.producerSpanId]),
    );
    assert.deepEqual(resolved, ['41', '42', '43'], 'each offset resolved once its message is handled, in order');
  });

  it('links the poll span to the producer span of every message it brought in', async () => {
    const sent = [billedMessage('7'), billedMessage('8')];
    const { poll } = await consumeBatch(sent.map((s) => s.message));
    assert.deepEqual(
      poll.links.map((link) => [link.context.traceId, link.context.spanId]),
      sent.map((s) => [s.traceId, s.producerSpanId]),
    );
  });

  it('resolves no offset past the last handled message when the consumer stops mid-batch', async () => {
    const sent = [billedMessage('41'), billedMessage('42'), billedMessage('43')];
    // kafkajs' runner, as documented: after eachBatch returns without throwing, it resolves the
    // batch's last offset unless eachBatchAutoResolve is false, then commits what is resolved.
    const consumer = {
      subscribe: async () => {},
      run: async (config: ConsumerRunConfig) => {
        const payload = {
          batch: { topic: STUDENT_BILLING_TOPIC, partition: 3, messages: sent.map((s) => s.message), lastOffset: () => '43' },
          heartbeat: async () => {},
          pause: () => () => {},
          resolveOffset: (offset: string) => resolved.push(offset),
          // The stop arrives while the first message is handled.
          isRunning: () => resolved.length === 0,
          isStale: () => false,
        } as unknown as EachBatchPayload;
        await config.eachBatch!(payload);
        if (config.eachBatchAutoResolve ?? true) payload.resolveOffset(payload.batch.lastOffset());
      },
    } as unknown as Consumer;
    await server.bindEvents(consumer);
    assert.deepEqual(resolved, ['41'], 'after a stop, 42 and 43 are delivered again, to this consumer or another');
  });
});
