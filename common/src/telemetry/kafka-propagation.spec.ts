/**
 * The Kafka half of the trace, in one process: the kafkajs instrumentation, configured as in every
 * service, writes `traceparent` into a produced message, and a consumer that receives that message
 * runs its handler inside a CONSUMER span that is the child of the producer span, and linked to it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import type { EachMessagePayload, Kafka as KafkaClient, KafkaConfig, Message } from 'kafkajs';
import { useInMemoryTracing, useOnDemandMetrics } from '../testing.js';
import { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
import { instrumentations } from './instrumentations.js';
import { withSendSpanAttributes } from './send-span-attributes.js';
import { EVENT_ID_HEADER } from '../contracts/headers.js';

const pick = (attributes: Attributes, keys: string[]) => Object.fromEntries(keys.map((key) => [key, attributes[key]]));

const tracing = useInMemoryTracing();
const metrics = useOnDemandMetrics();
const enabled = instrumentations({ KAFKA_CONSUMER_GROUP: 'billing-consumer', OTEL_SERVICE_NAME: 'billing-consumer', KAFKA_BROKERS: 'kafka:9092' });
const EVENT_ID = '5f0c6a57-0c1e-4d4a-9d3b-2b7e8f1a6c42';
// Required after the instrumentations are enabled, so that their require hook patches kafkajs.
const { Kafka } = createRequire(import.meta.url)('kafkajs') as { Kafka: new (config: KafkaConfig) => KafkaClient };

// Nothing listens on port 1: sends fail fast, after the instrumentation has done its part.
const kafka = new Kafka({ brokers: ['127.0.0.1:1'], retry: { retries: 0 }, connectionTimeout: 100, logCreator: () => () => {} });

describe('trace context across Kafka', () => {
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: 'billing-consumer' });
  let message: Message;
  const parentSpan = trace.getTracer('test').startSpan('POST /api/v1/students', { kind: SpanKind.SERVER });

  before(async () => {
    message = { key: 'student-1', value: JSON.stringify({ id: 'student-1', eventId: EVENT_ID }), headers: { [EVENT_ID_HEADER]: EVENT_ID } };
    await context.with(trace.setSpan(context.active(), parentSpan), () =>
      producer.send({ topic: 'student', messages: [message] }).catch(() => undefined),
    );
    parentSpan.end();
  });
  after(async () => {
    await Promise.all([producer.disconnect(), consumer.disconnect()]);
    enabled.forEach((instrumentation) => instrumentation.disable());
  });

  it('injects a W3C traceparent header naming the producer span', async () => {
    const producerSpan = (await tracing.finishedSpans()).find((span) => span.name === 'send student');
    assert.ok(producerSpan, 'a `send student` span');
    assert.equal(producerSpan.kind, SpanKind.PRODUCER);
    assert.equal(producerSpan.parentSpanContext?.spanId, parentSpan.spanContext().spanId);
    const { traceId, spanId } = producerSpan.spanContext();
    assert.match(String(message.headers?.traceparent), new RegExp(`^00-${traceId}-${spanId}-01$`));
  });

  it('names the message, the client and the broker on the send span', async () => {
    const producerSpan = (await tracing.finishedSpans()).find((span) => span.name === 'send student')!;
    assert.deepEqual(
      pick(producerSpan.attributes, ['messaging.message.id', 'messaging.client.id', 'server.address', 'server.port']),
      { 'messaging.message.id': EVENT_ID, 'messaging.client.id': 'billing-consumer', 'server.address': 'kafka', 'server.port': 9092 },
    );
  });

  it('puts the attributes of withSendSpanAttributes on the send span started in its context', async () => {
    const relayContext = withSendSpanAttributes(trace.setSpan(context.active(), parentSpan), { 'app.outbox.attempts': 4 });
    await context.with(relayContext, () => producer.send({ topic: 'student-billing', messages: [{ key: 'student-1', value: '{}' }] }).catch(() => undefined));
    const sendSpan = (await tracing.finishedSpans()).find((span) => span.name === 'send student-billing');
    assert.equal(sendSpan?.attributes['app.outbox.attempts'], 4);
    const plainSend = (await tracing.finishedSpans()).find((span) => span.name === 'send student');
    assert.equal(plainSend?.attributes['app.outbox.attempts'], undefined);
  });

  it('runs the handler inside a CONSUMER span that is the child of the producer span and linked to it', async () => {
    const runConfig: { eachMessage?: (payload: EachMessagePayload) => Promise<void> } = {
      eachMessage: async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      },
    };
    let activeInHandler: string | undefined;
    // `run` fails without a broker, but the instrumentation has wrapped `eachMessage` by then:
    // calling it is what kafkajs does for each message fetched.
    await consumer.run(runConfig).catch(() => undefined);
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]));
    await runConfig.eachMessage!({
      topic: 'student',
      partition: 2,
      // Produced 1.5 s ago: it waited that long in the topic.
      message: { key: Buffer.from('student-1'), value: Buffer.from(String(message.value)), headers, offset: '7', timestamp: String(Date.now() - 1500), attributes: 0 },
      heartbeat: async () => {},
      pause: () => () => {},
    });

    const spans = await tracing.finishedSpans();
    const producerSpan = spans.find((span) => span.name === 'send student')!;
    const consumerSpan = spans.find((span) => span.name === 'process student');
    assert.ok(consumerSpan, 'a `process student` span');
    assert.equal(consumerSpan.kind, SpanKind.CONSUMER);
    assert.equal(consumerSpan.spanContext().traceId, producerSpan.spanContext().traceId);
    assert.equal(consumerSpan.parentSpanContext?.spanId, producerSpan.spanContext().spanId);
    assert.deepEqual(
      consumerSpan.links.map(({ context }) => [context.traceId, context.spanId]),
      [[producerSpan.spanContext().traceId, producerSpan.spanContext().spanId]],
      'and linked to it',
    );
    assert.equal(activeInHandler, consumerSpan.spanContext().spanId, 'the consumer span is active in the handler');
    assert.deepEqual(
      {
        system: consumerSpan.attributes['messaging.system'],
        destination: consumerSpan.attributes['messaging.destination.name'],
        operation: consumerSpan.attributes['messaging.operation.type'],
        group: consumerSpan.attributes['messaging.consumer.group.name'],
        partition: consumerSpan.attributes['messaging.destination.partition.id'],
      },
      { system: 'kafka', destination: 'student', operation: 'process', group: 'billing-consumer', partition: '2' },
    );
    assert.deepEqual(
      pick(consumerSpan.attributes, ['messaging.message.id', 'messaging.client.id', 'server.address', 'server.port']),
      { 'messaging.message.id': EVENT_ID, 'messaging.client.id': 'billing-consumer', 'server.address': 'kafka', 'server.port': 9092 },
    );
    const timeInQueue = Number(consumerSpan.attributes[APP_ATTRIBUTES.timeInQueueMs]);
    assert.ok(timeInQueue >= 1500 && timeInQueue < 3000, `time in queue ${timeInQueue} ms`);

    const collected = await metrics.collected();
    const histogram = collected.find((metric) => metric.descriptor.name === APP_METRICS.timeInQueue.name) as HistogramMetricData | undefined;
    assert.ok(histogram, `a ${APP_METRICS.timeInQueue.name} histogram among ${collected.map((metric) => metric.descriptor.name)}`);
    assert.equal(histogram.descriptor.unit, 's');
    const [point] = histogram.dataPoints;
    assert.deepEqual(point.attributes, { 'messaging.system': 'kafka', 'messaging.destination.name': 'student', 'messaging.consumer.group.name': 'billing-consumer' });
    assert.equal(point.value.count, 1);
    assert.ok(point.value.sum! >= 1.5 && point.value.sum! < 3, `${point.value.sum} s in the histogram`);
    // The instrumentation's own messaging metrics reach the same MeterProvider.
    assert.ok(collected.some((metric) => metric.descriptor.name === 'messaging.client.consumed.messages'), 'messaging.client.consumed.messages');
  });
});
