import type { ConfigService } from '@nestjs/config';
import type { ConsumerEnvironment, ServiceEnvironment } from '../config/environment.js';
import { type KafkaOptions, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { type KafkaConfig, Partitioners, type ProducerConfig } from 'kafkajs';
import { EachBatchKafkaServer } from '../alternatives/each-batch-kafka.server.js';
import { kafkaClientId } from './client-id.js';

export function kafkaClientConfig(config: ConfigService<ServiceEnvironment, true>): KafkaConfig {
  return {
    clientId: kafkaClientId(config.get('OTEL_SERVICE_NAME', { infer: true })),
    brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
    // kafkajs waits up to 30 s between reconnection attempts by default, so a consumer came back
    // long after the broker did. At most 2 s apart, it is back within seconds, and a send to a
    // broker that is down fails within ~6 s (the outbox sends it again later).
    retry: { initialRetryTime: 300, maxRetryTime: 2_000 },
  };
}

/** How often a consumer tells its group it is alive, between messages and during long waits. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * The producers of every service. A write counts once every in-sync replica holds it (`acks: -1`,
 * with the topics' min.insync.replicas=2 in a cluster: a broker may die without losing an
 * acknowledged message), and the broker drops a batch the producer retries after a lost answer
 * (idempotence; kafkajs allows it with one request in flight per broker only).
 */
const producer: ProducerConfig = {
  // Naming the partitioner silences kafkajs 2's warning about its default having changed.
  createPartitioner: Partitioners.DefaultPartitioner,
  idempotent: true,
  maxInFlightRequests: 1,
  // An idempotent producer retries for ever by default; a send to a broker that is down must fail
  // within seconds instead (the outbox sends it again), so the client's 5 retries stay. kafkajs
  // warns once at connect that limited retries weaken its guarantees: the outbox and billing's
  // processed_events make up for that.
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

/**
 * Options of the Kafka server of a consumer microservice (`app.connectMicroservice`): Nest's own, or
 * with KAFKA_CONSUME=each-batch the alternative that takes a batch at a time.
 */
export function kafkaConsumerOptions(
  config: ConfigService<ServiceEnvironment & ConsumerEnvironment, true>,
  start: ConsumerStart,
): MicroserviceOptions {
  const options = kafkaServerOptions(config, start);
  return config.get('KAFKA_CONSUME', { infer: true }) === 'each-batch' ? { strategy: new EachBatchKafkaServer(options.options) } : options;
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
        // How long a fetch waits on an idle topic (kafkajs default 5 s). A stop waits for the fetch
        // in flight, so this bounds how long SIGTERM takes; a message still arrives at once.
        maxWaitTimeInMs: 1000,
        // A member that sends no heartbeat for this long is evicted and its partitions go to the
        // others: the message it was handling is delivered again. kafkajs heartbeats between messages
        // only, so the handlers heartbeat themselves while they wait (`withHeartbeats`: the
        // BILLING_DELAY_MS delay, the retry pauses, the dead-letter write, ~6 s to a broker that is
        // down); what is left unbeaten is one attempt's work on Postgres, a few milliseconds, and 15 s
        // leave room for a slow query or a long GC pause. The price: a consumer killed without a
        // goodbye (kill -9, a crash) or the members of before a broker restart are waited for this
        // long before the group is rebalanced, so their partitions stand still for up to 15 s
        // (the broker's minimum is 6 s, the kafkajs default 30 s, the Java client's 45 s).
        sessionTimeout: 15_000,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      },
      // kafkajs handles one message at a time across all partitions by default: at 200 messages/s
      // of ~5 ms each, billing was busy all the time and messages queued for 100+ ms. One message at
      // a time per partition (the topics have 12) keeps each student's messages in order (one key,
      // one partition), and billing waits on Postgres for up to 12 students at once.
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

/** Options of a client that only produces (no reply consumer group is joined). */
export function kafkaProducerOptions(config: ConfigService<ServiceEnvironment, true>): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    // Nest would append "-client" to the client id: it is exactly the service's, as on its consumer.
    options: { client: kafkaClientConfig(config), producer, send, producerOnlyMode: true, postfixId: '' },
  };
}
