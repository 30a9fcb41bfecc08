/**
 * The confluent client driven as Nest's Kafka transport drives kafkajs: the mapping of kafkajs'
 * options, checked on a recording Kafka and then against the real client, which validates them when a
 * producer or consumer connects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { confluentClient } from './confluent-client.js';
import type { Consumer, Kafka, Producer, TopicMessages } from './kafkajs-api.js';
import { consumerConfig, kafkaConfig, kafkajsSendTimeoutMs, producerConfig } from './kafkajs-options.js';
import { kafkajsShaped } from './kafkajs-shaped.js';
import { STATUS_EVENTS } from './status-events.js';

const { KafkaJS } = confluentClient();
const silent = { info() {}, warn() {}, error() {}, debug() {}, namespace: () => silent, setLogLevel() {} };

/** A Kafka that records the configurations and records it is given. */
function recordingKafka() {
  const seen = { consumer: [] as object[], producer: [] as object[], subscribed: [] as object[], sent: [] as TopicMessages[] };
  const connection = { connect: async () => {}, disconnect: async () => {} };
  const kafka: Kafka = {
    consumer: (config) => {
      seen.consumer.push(config);
      return { ...connection, run: async () => {}, subscribe: async (subscription) => void seen.subscribed.push(subscription) } satisfies Consumer;
    },
    producer: (config) => {
      seen.producer.push(config ?? {});
      return { ...connection, send: async (record) => seen.sent.push(record), sendBatch: async () => {} } satisfies Producer;
    },
    admin: () => ({}),
  };
  return { kafka, seen };
}

/** Options as kafka-options.ts gives them to Nest. */
const transport = {
  client: { clientId: 'billing-consumer', brokers: ['127.0.0.1:1'], retry: { initialRetryTime: 300, maxRetryTime: 2_000 } },
  subscribe: { fromBeginning: true },
  send: { acks: -1 },
};
const consumerOptions = { groupId: 'billing-consumer', maxWaitTimeInMs: 1000, sessionTimeout: 15_000, heartbeatInterval: 1000 };
const producerOptions = { createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 5 } };

describe('kafkajs options for the confluent client', () => {
  it('puts the client options under kafkaJS, with a logger in place of logCreator', () => {
    const logCreator = () => () => {};
    assert.deepEqual(kafkaConfig({ ...transport.client, logCreator }, silent), { kafkaJS: { ...transport.client, logger: silent } });
    assert.throws(() => kafkaConfig({ brokers: () => ['kafka:9092'] }, silent), /a list of brokers, not a function/);
  });

  it("moves subscribe's fromBeginning into the consumer's configuration", () => {
    assert.deepEqual(consumerConfig(consumerOptions, { fromBeginning: true }), { kafkaJS: { ...consumerOptions, fromBeginning: true } });
    assert.deepEqual(consumerConfig(consumerOptions, { fromBeginning: false }).kafkaJS, { ...consumerOptions, fromBeginning: false });
    assert.deepEqual(consumerConfig(consumerOptions).kafkaJS, consumerOptions);
  });

  it("moves the send options to the producer, drops kafkajs' DefaultPartitioner, merges retry and bounds a send as kafkajs does", () => {
    assert.deepEqual(producerConfig(producerOptions, transport.send, transport.client), {
      kafkaJS: { acks: -1, retry: { initialRetryTime: 300, maxRetryTime: 2_000, retries: 5 } },
      // 6 attempts of up to 1 s, and 0.3 + 0.6 + 1.2 + 2 + 2 s between them.
      'message.timeout.ms': 12_100,
    });
    assert.throws(() => producerConfig({ createPartitioner: Partitioners.LegacyPartitioner }), /takes no other partitioner/);
  });

  it("times out a send after kafkajs' retries, with kafkajs' defaults", () => {
    assert.equal(kafkajsSendTimeoutMs({}), 6 * 1000 + 300 + 600 + 1200 + 2400 + 4800);
    assert.equal(kafkajsSendTimeoutMs({ retries: 0 }, 5_000), 5_000);
  });
});

describe('kafkajsShaped', () => {
  it('hands the mapped configurations to the confluent Kafka, and takes fromBeginning and acks out of subscribe and send', async () => {
    const { kafka, seen } = recordingKafka();
    const shaped = kafkajsShaped(kafka, transport);
    const consumer = shaped.consumer(consumerOptions);
    await consumer.subscribe({ topics: ['student'], fromBeginning: true });
    const producer = shaped.producer(producerOptions);
    await producer.send({ topic: 'student', messages: [{ value: '{}' }], acks: -1 } as TopicMessages);
    assert.deepEqual(seen.consumer, [consumerConfig(consumerOptions, transport.subscribe)]);
    assert.deepEqual(seen.subscribed, [{ topics: ['student'] }]);
    assert.deepEqual(seen.producer, [producerConfig(producerOptions, transport.send, transport.client)]);
    assert.deepEqual(seen.sent, [{ topic: 'student', messages: [{ value: '{}' }] }]);
  });

  it("reports connect and disconnect with kafkajs' events, which Nest turns into its status", async () => {
    const shaped = kafkajsShaped(recordingKafka().kafka, transport);
    for (const [kind, connection] of [['consumer', shaped.consumer(consumerOptions)], ['producer', shaped.producer()]] as const) {
      const reported: string[] = [];
      const { CONNECT, DISCONNECT } = STATUS_EVENTS[kind];
      assert.deepEqual([connection.events.CONNECT, connection.events.DISCONNECT], [CONNECT, DISCONNECT]);
      connection.on(connection.events.CONNECT!, () => reported.push('connected'));
      connection.on(connection.events.DISCONNECT!, () => reported.push('disconnected'));
      await connection.connect();
      await connection.disconnect();
      assert.deepEqual(reported, ['connected', 'disconnected'], kind);
    }
  });

  it('gives the real client configurations it accepts, and events where it has none', async () => {
    // The client validates a configuration as the producer or consumer connects; librdkafka then
    // refuses the made-up property: everything else was accepted, and no broker is dialled.
    const kafka = new KafkaJS.Kafka({ ...kafkaConfig(transport.client, silent), 'made.up.property': 1 });
    const shaped = kafkajsShaped(kafka, transport);
    const consumer = shaped.consumer(consumerOptions);
    const producer = shaped.producer(producerOptions);
    assert.equal(consumer.events.CRASH, 'consumer.crash');
    assert.equal(producer.events.CONNECT, 'producer.connect');
    await assert.rejects(consumer.connect(), /No such configuration property: "made.up.property"/);
    await assert.rejects(producer.connect(), /No such configuration property: "made.up.property"/);
  });
});
