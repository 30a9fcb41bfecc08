import type { ConfigService } from '@nestjs/config';
import type { ConsumerEnvironment, ServiceEnvironment } from '../config/environment.js';
import { type ClientProvider, type KafkaOptions, type MicroserviceOptions, ServerKafka, Transport } from '@nestjs/microservices';
import { type KafkaConfig, Partitioners, type ProducerConfig } from 'kafkajs';
import { EachBatchKafkaServer } from '../alternatives/each-batch-kafka.server.js';
import { confluentClient } from '../kafka-confluent/confluent-client.js';
import { confluentKafkaClient, onConfluentClient } from '../kafka-confluent/confluent-transport.js';
import { kafkaTracingConfig } from '../kafka-confluent/tracing-config.js';
import { kafkaClientId } from './client-id.js';

export function kafkaClientConfig(config: ConfigService<ServiceEnvironment, true>): KafkaConfig {
  return {
    clientId: kafkaClientId(config.get('OTEL_SERVICE_NAME', { infer: true })),
    brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
    // Back within seconds of the broker (kafkajs waits up to 30 s between attempts by default).
    retry: { initialRetryTime: 300, maxRetryTime: 2_000 },
  };
}

/** How often a consumer tells its group it is alive, between messages and during long waits. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * A write counts once every in-sync replica holds it (`acks: -1`). Not idempotent: kafkajs' idempotent
 * producer can acknowledge a message it never wrote when a partition's leader dies during a send
 * (docs/known-limits.md#kafkajs-and-what-moving-off-it-would-change). A retry after a lost answer may
 * write a message twice instead, which the consumers take as a duplicate.
 */
const producer: ProducerConfig = {
  // Naming the partitioner silences kafkajs 2's warning about its default having changed.
  createPartitioner: Partitioners.DefaultPartitioner,
  // Fail within seconds, not retry for ever: the outbox sends it again.
  retry: { retries: 5 },
};

/** Every send waits for all in-sync replicas (kafkajs' default, written out: it is the point). */
const send = { acks: -1 };

/** Where a consumer group starts the first time it runs; afterwards, at its committed offsets. */
export interface ConsumerStart {
  /**
   * true: at the oldest message the topic still holds, so nothing produced before the group's first
   * start is skipped. false: at the end of the topic when the group first joins, so past events are
   * not handled again by a new consumer (one produced between its start and its first join is skipped).
   */
  fromBeginning: boolean;
}

/** KAFKA_CLIENT=confluent: the confluent client, traced by instrument-kafka.ts as the service is configured. */
function onConfluent(config: ConfigService<ServiceEnvironment, true>) {
  if (config.get('KAFKA_CLIENT', { infer: true }) !== 'confluent') return undefined;
  // Now, not at the first connection: a service without the package refuses to start, saying why.
  confluentClient();
  return kafkaTracingConfig({
    KAFKA_BROKERS: config.get('KAFKA_BROKERS', { infer: true }),
    OTEL_SERVICE_NAME: config.get('OTEL_SERVICE_NAME', { infer: true }),
    KAFKA_CONSUMER_GROUP: config.get('KAFKA_CONSUMER_GROUP', { infer: true }),
    KAFKA_CONSUMER_TRACE: config.get('KAFKA_CONSUMER_TRACE', { infer: true }),
  });
}

/**
 * Options of the Kafka server of a consumer microservice (`app.connectMicroservice`): Nest's own, or
 * with KAFKA_CONSUME=each-batch the alternative that takes a batch at a time; on kafkajs, or on the
 * confluent client with KAFKA_CLIENT=confluent.
 */
export function kafkaConsumerOptions(
  config: ConfigService<ServiceEnvironment & ConsumerEnvironment, true>,
  start: ConsumerStart,
): MicroserviceOptions {
  const options = kafkaServerOptions(config, start);
  const Server = config.get('KAFKA_CONSUME', { infer: true }) === 'each-batch' ? EachBatchKafkaServer : ServerKafka;
  const confluent = onConfluent(config);
  return { strategy: new (confluent ? onConfluentClient(Server, confluent) : Server)(options.options) };
}

function kafkaServerOptions(
  config: ConfigService<ServiceEnvironment & ConsumerEnvironment, true>,
  { fromBeginning }: ConsumerStart,
): Required<KafkaOptions> {
  return {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClientConfig(config),
      consumer: {
        groupId: config.get('KAFKA_CONSUMER_GROUP', { infer: true }),
        // A stop waits for the fetch in flight: this bounds how long SIGTERM takes.
        maxWaitTimeInMs: 1000,
        // Handlers heartbeat while they wait (withHeartbeats), so this only covers a slow query or
        // a GC pause; it is also how long a crashed member's partitions stand still.
        sessionTimeout: 15_000,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      },
      // One message at a time per partition (the topics have 12): a key's messages stay in order,
      // and up to 12 students wait on Postgres at once instead of one.
      run: { partitionsConsumedConcurrently: 12 },
      subscribe: { fromBeginning },
      // Nest appends "-server" to the group id; the group is exactly KAFKA_CONSUMER_GROUP instead,
      // the value the consumer spans carry as messaging.consumer.group.name.
      postfixId: '',
      producer,
      send,
    },
  };
}

/** Options of a client that only produces (no reply consumer group is joined), on either client. */
export function kafkaProducerOptions(config: ConfigService<ServiceEnvironment, true>): ClientProvider {
  // Nest would append "-client" to the client id: it is exactly the service's, as on its consumer.
  const options: KafkaOptions['options'] = { client: kafkaClientConfig(config), producer, send, producerOnlyMode: true, postfixId: '' };
  const confluent = onConfluent(config);
  return confluent ? { customClass: confluentKafkaClient(confluent), options } : { transport: Transport.KAFKA, options };
}
