/**
 * instrumentKafka on the confluent client's real producer and consumer objects, without a broker: a
 * send fails (nothing is connected) after the tracing has done its part, and the test delivers
 * messages to the handlers that `run` was given, as the client's fetch loop would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, propagation, ROOT_CONTEXT, type SpanContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { EVENT_ID_HEADER } from '../contracts/headers.js';
import { APP_ATTRIBUTES } from '../telemetry/attributes.js';
import { handOverRuns, useInMemoryTracing, useOnDemandMetrics } from '../testing.js';
import { confluentClient } from './confluent-client.js';
import { instrumentKafka } from './instrument-kafka.js';
import type { KafkaMessage, Message } from './kafkajs-api.js';
import { kafkaTracingConfig } from './tracing-config.js';

const tracing = useInMemoryTracing();
const metrics = useOnDemandMetrics();
const { KafkaJS } = confluentClient();
const env = { KAFKA_CONSUMER_GROUP: 'billing-consumer', OTEL_SERVICE_NAME: 'billing-consumer', KAFKA_BROKERS: 'kafka:9092' };
const EVENT_ID = '5f0c6a57-0c1e-4d4a-9d3b-2b7e8f1a6c42';

/** A confluent Kafka, traced as a service would trace it; its consumers hand their handlers over. */
function tracedKafka(consumerTrace?: 'parent' | 'link') {
  // logLevel 0: nothing, a send without a connection is the point here.
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: ['127.0.0.1:1'], clientId: 'billing-consumer', logLevel: 0 } });
  const handedOver = handOverRuns(kafka);
  instrumentKafka(kafka, { ...kafkaTracingConfig(env), consumerTrace });
  return { kafka, handedOver };
}

/** Sends `messages` to `topic` inside a request's span; returns that span and the send spans. */
async function send(topic: string, messages: Message[]) {
  tracing.reset();
  const { kafka } = tracedKafka();
  const request = trace.getTracer('test').startSpan('POST /api/v1/students', { kind: SpanKind.SERVER });
  const error = await context.with(trace.setSpan(context.active(), request), () => kafka.producer().send({ topic, messages }).catch((error: Error) => error));
  request.end();
  const sends = (await tracing.finishedSpans()).filter((span) => span.kind === SpanKind.PRODUCER);
  return { request, sends, error };
}

/** A message as the consumer hands it over: Buffers, a string offset and timestamp. */
function consumed(headers: Record<string, string>, offset = '7'): KafkaMessage {
  return {
    key: Buffer.from('student-1'),
    value: Buffer.from('{}'),
    // Produced 1.5 s ago: it waited that long in the topic.
    timestamp: String(Date.now() - 1500),
    offset,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
  };
}

/** The trace context a producer would have written for a send span of its own. */
function sentBy(spanName: string): { headers: Record<string, string>; sendSpan: SpanContext } {
  const sendSpan = trace.getTracer('test').startSpan(spanName, { kind: SpanKind.PRODUCER }, ROOT_CONTEXT);
  sendSpan.end();
  const headers: Record<string, string> = { [EVENT_ID_HEADER]: EVENT_ID };
  propagation.inject(trace.setSpan(ROOT_CONTEXT, sendSpan), headers);
  return { headers, sendSpan: sendSpan.spanContext() };
}

const linkedTo = (span: ReadableSpan) => span.links.map(({ context }) => context.spanId);

describe('instrumentKafka: send', () => {
  it('makes a PRODUCER span `send <topic>` per message, child of the active span, whose context the message carries', async () => {
    const message: Message = { key: 'student-1', value: '{}', headers: { [EVENT_ID_HEADER]: EVENT_ID } };
    const { request, sends } = await send('student', [message]);
    assert.equal(sends.length, 1);
    const [span] = sends;
    assert.equal(span!.name, 'send student');
    assert.equal(span!.parentSpanContext?.spanId, request.spanContext().spanId);
    const { traceId, spanId } = span!.spanContext();
    assert.equal(message.headers?.traceparent, `00-${traceId}-${spanId}-01`);
    assert.deepEqual(span!.attributes, {
      'messaging.system': 'kafka',
      'messaging.destination.name': 'student',
      'messaging.kafka.message.key': 'student-1',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.client.id': 'billing-consumer',
      'messaging.message.id': EVENT_ID,
      'server.address': 'kafka',
      'server.port': 9092,
      'error.type': 'KafkaJSError',
    });
  });

  it('marks a failed send with error.type and passes the error on', async () => {
    const { sends, error } = await send('student', [{ key: 'student-1', value: '{}' }]);
    assert.match(String(error), /Cannot send without awaiting connect/);
    assert.equal(sends[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(sends[0]!.attributes['error.type'], 'KafkaJSError');
  });

  it('sendBatch: a span per message, on every topic', async () => {
    tracing.reset();
    const { kafka } = tracedKafka();
    const topicMessages = [
      { topic: 'student', messages: [{ key: 'a', value: '1' }, { key: 'b', value: '2', partition: 3 }] },
      { topic: 'student-billing', messages: [{ key: 'c', value: null }] },
    ];
    await kafka.producer().sendBatch({ topicMessages }).catch(() => undefined);
    const spans = await tracing.finishedSpans();
    assert.deepEqual(spans.map((span) => span.name), ['send student', 'send student', 'send student-billing']);
    assert.equal(spans[1]!.attributes['messaging.destination.partition.id'], '3');
    assert.equal(spans[2]!.attributes['messaging.kafka.message.tombstone'], true, 'a key and no value');
    assert.ok(topicMessages.every(({ messages }) => messages.every((message) => 'traceparent' in (message as Message).headers!)));
  });

  it('counts sent messages and times the send, with error.type', async () => {
    await send('student-dlt', [{ key: 'student-1', value: '{}' }]);
    const collected = await metrics.collected();
    const point = (name: string) =>
      collected.find((metric) => metric.descriptor.name === name)?.dataPoints.find((data) => data.attributes['messaging.destination.name'] === 'student-dlt');
    assert.deepEqual(point('messaging.client.sent.messages')?.attributes, {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'student-dlt',
      'error.type': 'KafkaJSError',
    });
    assert.equal(point('messaging.client.sent.messages')?.value, 1);
    assert.ok(point('messaging.client.operation.duration'), 'messaging.client.operation.duration');
  });
});

describe('instrumentKafka: eachMessage', () => {
  async function process(consumerTrace: 'parent' | 'link' | undefined, handler: () => Promise<void>) {
    tracing.reset();
    const { kafka, handedOver } = tracedKafka(consumerTrace);
    let activeInHandler: string | undefined;
    await kafka.consumer({ kafkaJS: { groupId: 'billing-consumer' } }).run({
      eachMessage: async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
        await handler();
      },
    });
    const { headers, sendSpan } = sentBy('send student');
    const error = await handedOver().eachMessage!({ topic: 'student', partition: 2, message: consumed(headers) }).catch((error: Error) => error);
    const span = (await tracing.finishedSpans()).find((finished) => finished.name === 'process student');
    assert.ok(span, 'a `process student` span');
    assert.equal(activeInHandler, span.spanContext().spanId, 'the process span is active in the handler');
    return { span, sendSpan, error };
  }

  it('runs the handler inside a CONSUMER span, the child of the send span and linked to it', async () => {
    const { span, sendSpan } = await process(undefined, async () => {});
    assert.equal(span.kind, SpanKind.CONSUMER);
    assert.equal(span.spanContext().traceId, sendSpan.traceId);
    assert.equal(span.parentSpanContext?.spanId, sendSpan.spanId);
    assert.deepEqual(linkedTo(span), [sendSpan.spanId]);
    const { [APP_ATTRIBUTES.timeInQueueMs]: waited, ...attributes } = span.attributes;
    assert.ok(Number(waited) >= 1500 && Number(waited) < 3000, `time in queue ${waited} ms`);
    assert.deepEqual(attributes, {
      'messaging.destination.partition.id': '2',
      'messaging.system': 'kafka',
      'messaging.destination.name': 'student',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.kafka.message.key': 'student-1',
      'messaging.kafka.offset': '7',
      'messaging.client.id': 'billing-consumer',
      'messaging.message.id': EVENT_ID,
      'server.address': 'kafka',
      'server.port': 9092,
      'messaging.consumer.group.name': 'billing-consumer',
    });
  });

  it('link: a new trace, linked to the send span', async () => {
    const { span, sendSpan } = await process('link', async () => {});
    assert.notEqual(span.spanContext().traceId, sendSpan.traceId);
    assert.equal(span.parentSpanContext, undefined);
    assert.deepEqual(linkedTo(span), [sendSpan.spanId]);
  });

  it('marks a failed handler with error.type and passes the error on, for the client to deliver the message again', async () => {
    class StudentNotFoundError extends Error {}
    const { span, error } = await process(undefined, async () => {
      throw new StudentNotFoundError('student-1');
    });
    assert.ok(error instanceof StudentNotFoundError);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'StudentNotFoundError');
    const collected = await metrics.collected();
    const consumedMessages = collected.find((metric) => metric.descriptor.name === 'messaging.client.consumed.messages');
    assert.ok(consumedMessages?.dataPoints.some((point) => point.attributes['error.type'] === 'StudentNotFoundError'));
    const processDuration = collected.find((metric) => metric.descriptor.name === 'messaging.process.duration');
    assert.deepEqual(processDuration?.dataPoints.find((point) => !point.attributes['error.type'])?.attributes, {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'student',
      'messaging.destination.partition.id': '2',
    });
  });
});

describe('instrumentKafka: eachBatch', () => {
  it('a `poll` span in a new trace, with a `process` child per message linked to its own', async () => {
    tracing.reset();
    const { kafka, handedOver } = tracedKafka();
    let activeInHandler: string | undefined;
    await kafka.consumer({ kafkaJS: { groupId: 'notifier-consumer' } }).run({
      eachBatch: async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      },
    });
    const sent = [sentBy('send student-billing'), sentBy('send student-billing')];
    await handedOver().eachBatch!({ batch: { topic: 'student-billing', partition: 5, messages: sent.map(({ headers }, index) => consumed(headers, String(10 + index))) } });

    const spans = await tracing.finishedSpans();
    const poll = spans.find((span) => span.name === 'poll student-billing');
    assert.ok(poll, 'a `poll student-billing` span');
    assert.equal(poll.kind, SpanKind.CLIENT);
    assert.equal(poll.parentSpanContext, undefined);
    assert.ok(sent.every(({ sendSpan }) => poll.spanContext().traceId !== sendSpan.traceId), 'a trace of its own');
    assert.equal(activeInHandler, poll.spanContext().spanId, 'the poll span is active in the handler');
    // As instrumentation-kafkajs: the handler links the poll span (EachBatchKafkaServer, for both clients).
    assert.deepEqual(linkedTo(poll), []);
    assert.equal(poll.attributes['messaging.batch.message_count'], 2);
    assert.equal(poll.attributes['messaging.operation.type'], 'receive');

    const processed = spans.filter((span) => span.name === 'process student-billing');
    assert.deepEqual(processed.map((span) => span.parentSpanContext?.spanId), [poll.spanContext().spanId, poll.spanContext().spanId]);
    assert.deepEqual(processed.map(linkedTo), sent.map(({ sendSpan }) => [sendSpan.spanId]));
    assert.deepEqual(processed.map((span) => span.attributes['messaging.kafka.offset']), ['10', '11']);
  });
});
