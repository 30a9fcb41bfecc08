/** KAFKA_CLIENT picks the Kafka client under Nest's transport; the services' code stays the same. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigService } from '@nestjs/config';
import { ClientKafka, ClientProxyFactory, type ClientProvider, ServerKafka } from '@nestjs/microservices';
import { SpanStatusCode } from '@opentelemetry/api';
import { Kafka } from 'kafkajs';
import { EachBatchKafkaServer } from '../alternatives/each-batch-kafka.server.js';
import type { ConsumerEnvironment, ServiceEnvironment } from '../config/environment.js';
import { useInMemoryTracing } from '../testing.js';
import { kafkaConsumerOptions, kafkaProducerOptions } from './kafka-options.js';

const tracing = useInMemoryTracing();

function config(env: Partial<Record<keyof (ServiceEnvironment & ConsumerEnvironment), string>>) {
  return new ConfigService<ServiceEnvironment & ConsumerEnvironment, true>({
    PORT: 3001,
    KAFKA_BROKERS: '127.0.0.1:1',
    OTEL_SERVICE_NAME: 'billing-consumer',
    KAFKA_CONSUMER_GROUP: 'billing-consumer',
    ...env,
  });
}

/** The Kafka server of a consumer microservice, as `app.connectMicroservice` gets it. */
function server(env: Parameters<typeof config>[0]): ServerKafka {
  const options = kafkaConsumerOptions(config(env), { fromBeginning: true });
  assert.ok('strategy' in options && options.strategy instanceof ServerKafka);
  return options.strategy;
}

/** The producer client, as ClientsModule makes it. */
const client = (env: Parameters<typeof config>[0]) => ClientProxyFactory.create(kafkaProducerOptions(config(env)) as ClientProvider) as ClientKafka;

describe('KAFKA_CLIENT', () => {
  it('kafkajs when unset: Nest\'s server and client as they are', async () => {
    const kafkajs = server({});
    assert.equal(kafkajs.constructor, ServerKafka);
    assert.ok((await kafkajs.createClient()) instanceof Kafka);
    assert.equal(server({ KAFKA_CONSUME: 'each-batch' }).constructor, EachBatchKafkaServer);
    assert.deepEqual(Object.keys(kafkaProducerOptions(config({}))), ['transport', 'options']);
    assert.equal(client({}).constructor, ClientKafka);
  });

  it('confluent: the same server (each-batch too) and client, on the confluent client', async () => {
    for (const env of [{ KAFKA_CLIENT: 'confluent' }, { KAFKA_CLIENT: 'confluent', KAFKA_CONSUME: 'each-batch' }]) {
      const confluent = server(env);
      assert.ok(confluent instanceof (env.KAFKA_CONSUME ? EachBatchKafkaServer : ServerKafka));
      const kafka = await confluent.createClient<{ consumer(config: object): { events: object } }>();
      assert.ok(!(kafka instanceof Kafka));
      assert.equal(kafka.consumer({ groupId: 'billing-consumer' }).events.constructor, Object);
    }
    assert.ok(client({ KAFKA_CLIENT: 'confluent' }) instanceof ClientKafka);
  });

  it("confluent: the client's sends are traced, acks and all", async () => {
    tracing.reset();
    const kafka = await client({ KAFKA_CLIENT: 'confluent' }).createClient<{ producer(): { send(record: object): Promise<unknown> } }>();
    // Not connected, so the send fails, after the tracing did its part; not because of `acks`.
    await assert.rejects(kafka.producer().send({ topic: 'student', messages: [{ value: '{}' }], acks: -1 }), /Cannot send without awaiting connect/);
    const [span] = await tracing.finishedSpans();
    assert.equal(span?.name, 'send student');
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.attributes['messaging.client.id'], 'billing-consumer');
  });
});
