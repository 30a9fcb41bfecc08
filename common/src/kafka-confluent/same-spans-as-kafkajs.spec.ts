/**
 * The same message through kafkajs (instrumentation-kafkajs, configured as in every service) and
 * through the confluent client (instrumentKafka): the spans must not tell the clients apart, beyond
 * each client's own error class.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { type Attributes, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { EachMessagePayload, IHeaders, Kafka as KafkaJsClient, KafkaConfig } from 'kafkajs';
import { EVENT_ID_HEADER } from '../contracts/headers.js';
import { APP_ATTRIBUTES } from '../telemetry/attributes.js';
import { instrumentations } from '../telemetry/instrumentations.js';
import { handOverRuns, useInMemoryTracing } from '../testing.js';
import { confluentClient } from './confluent-client.js';
import { instrumentKafka } from './instrument-kafka.js';
import type { KafkaMessage } from './kafkajs-api.js';
import { kafkaTracingConfig } from './tracing-config.js';

const tracing = useInMemoryTracing();
const env = { KAFKA_CONSUMER_GROUP: 'billing-consumer', OTEL_SERVICE_NAME: 'billing-consumer', KAFKA_BROKERS: 'kafka:9092' };
const enabled = instrumentations(env);
// Required after the instrumentations are enabled, so that their require hook patches kafkajs.
const { Kafka } = createRequire(import.meta.url)('kafkajs') as { Kafka: new (config: KafkaConfig) => KafkaJsClient };
const { KafkaJS } = confluentClient();

// Nothing listens on port 1: kafkajs fails fast, after the instrumentation has done its part.
const kafkajs = new Kafka({ brokers: ['127.0.0.1:1'], retry: { retries: 0 }, connectionTimeout: 100, logCreator: () => () => {} });
const confluent = new KafkaJS.Kafka({ kafkaJS: { brokers: ['127.0.0.1:1'], clientId: 'billing-consumer', logLevel: 0 } });
const handedOver = handOverRuns(confluent);
instrumentKafka(confluent, kafkaTracingConfig(env));

const kafkajsProducer = kafkajs.producer();
const kafkajsConsumer = kafkajs.consumer({ groupId: 'billing-consumer' });

after(async () => {
  // kafkajs would go on trying to connect, and keep the test's process alive.
  await Promise.all([kafkajsProducer.disconnect(), kafkajsConsumer.disconnect()]);
  enabled.forEach((instrumentation) => instrumentation.disable());
});

/** What a span says about itself, whichever client made it. */
function shape(span: ReadableSpan, variable: string[]) {
  const attributes: Attributes = { ...span.attributes };
  for (const key of variable) if (key in attributes) attributes[key] = '(varies)';
  return { name: span.name, kind: span.kind, attributes, links: span.links.length, hasParent: span.parentSpanContext !== undefined };
}

async function onlySpan(work: () => Promise<unknown>): Promise<ReadableSpan> {
  tracing.reset();
  await work();
  const spans = await tracing.finishedSpans();
  assert.equal(spans.length, 1, spans.map((span) => span.name).join(', '));
  return spans[0]!;
}

describe('the confluent client traced as kafkajs is', () => {
  it('the same `send` span', async () => {
    const message = () => ({ key: 'student-1', value: '{}', headers: { [EVENT_ID_HEADER]: 'event-1' } });
    const [viaKafkajs, viaConfluent] = [
      await onlySpan(() => kafkajsProducer.send({ topic: 'student', messages: [message()] }).catch(() => undefined)),
      await onlySpan(() => confluent.producer().send({ topic: 'student', messages: [message()] }).catch(() => undefined)),
    ];
    // Each client fails in its own way without a broker.
    assert.deepEqual(shape(viaConfluent, ['error.type']), shape(viaKafkajs, ['error.type']));
  });

  it('the same `process` span', async () => {
    const sendSpan = trace.getTracer('test').startSpan('send student', { kind: SpanKind.PRODUCER }, ROOT_CONTEXT);
    sendSpan.end();
    const headers: Record<string, string> = { [EVENT_ID_HEADER]: 'event-1' };
    propagation.inject(trace.setSpan(ROOT_CONTEXT, sendSpan), headers);
    const message = (): KafkaMessage & { headers: IHeaders } => ({
      key: Buffer.from('student-1'),
      value: Buffer.from('{}'),
      timestamp: String(Date.now() - 1500),
      offset: '7',
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
    });

    const kafkajsRun: { eachMessage?: (payload: EachMessagePayload) => Promise<void> } = { eachMessage: async () => {} };
    // `run` fails without a broker, but the instrumentation has wrapped `eachMessage` by then.
    await kafkajsConsumer.run(kafkajsRun).catch(() => undefined);
    await confluent.consumer({ kafkaJS: { groupId: 'billing-consumer' } }).run({ eachMessage: async () => {} });

    const [viaKafkajs, viaConfluent] = [
      await onlySpan(() =>
        kafkajsRun.eachMessage!({ topic: 'student', partition: 2, message: { ...message(), attributes: 0 }, heartbeat: async () => {}, pause: () => () => {} }),
      ),
      await onlySpan(() => handedOver().eachMessage!({ topic: 'student', partition: 2, message: message() })),
    ];
    assert.deepEqual(shape(viaConfluent, [APP_ATTRIBUTES.timeInQueueMs]), shape(viaKafkajs, [APP_ATTRIBUTES.timeInQueueMs]));
    assert.equal(viaConfluent.parentSpanContext?.spanId, sendSpan.spanContext().spanId);
  });
});
