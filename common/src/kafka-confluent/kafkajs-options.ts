import type { KafkaOptions } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';

/** The options Nest's Kafka transport is given, written for kafkajs. */
type NestKafkaOptions = NonNullable<KafkaOptions['options']>;
export type KafkaClientOptions = NonNullable<NestKafkaOptions['client']>;
export type ConsumerOptions = NonNullable<NestKafkaOptions['consumer']>;
export type ProducerOptions = NonNullable<NestKafkaOptions['producer']>;
export type SubscribeOptions = NonNullable<NestKafkaOptions['subscribe']>;
export type SendOptions = NonNullable<NestKafkaOptions['send']>;
type RetryOptions = NonNullable<KafkaClientOptions['retry']>;

/** What the confluent client logs through, in place of kafkajs' `logCreator`. */
export interface ConfluentLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  namespace(): ConfluentLogger;
  setLogLevel(level: number): void;
}

/**
 * The options of a record that the confluent client takes per producer only, and refuses in a send.
 * Nest spreads its `send` options into every record it sends.
 */
const PRODUCER_LEVEL_SEND_OPTIONS = ['acks', 'timeout', 'compression'] as const;

// kafkajs' own defaults, for the send timeout below.
const KAFKAJS_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 30_000 };
const KAFKAJS_CONNECTION_TIMEOUT_MS = 1_000;

/**
 * The configuration of the confluent `Kafka` object, shared by its producers and consumers: kafkajs'
 * options go under `kafkaJS`, where the client reads them with kafkajs' meaning and defaults.
 */
export function kafkaConfig(client: KafkaClientOptions, logger: ConfluentLogger): { kafkaJS: object } {
  const { logCreator: _replacedByLogger, brokers, ...options } = client;
  if (!Array.isArray(brokers)) throw new Error('The confluent client takes a list of brokers, not a function that returns one');
  return { kafkaJS: { ...options, brokers, logger } };
}

/**
 * A consumer's configuration. Where a new group starts is kafkajs' `subscribe({ fromBeginning })`;
 * the confluent client reads it once, from the consumer's configuration (librdkafka's
 * `auto.offset.reset`), and refuses it in `subscribe`.
 */
export function consumerConfig(consumer: ConsumerOptions, subscribe: SubscribeOptions = {}): { kafkaJS: object } {
  const { fromBeginning } = subscribe;
  return { kafkaJS: { ...consumer, ...(fromBeginning !== undefined && { fromBeginning }) } };
}

/**
 * A producer's configuration, and the send options it takes over.
 * - kafkajs' DefaultPartitioner is what the confluent client does anyway (murmur2 of the key, as
 *   Java's client: a key lands on the same partition with either client); it refuses the option.
 *   Any other partitioner would move keys to other partitions, so it is refused here.
 * - The client's `retry` (back-off) and the producer's (`retries`) are merged: the confluent client
 *   would let the producer's replace the client's.
 * - librdkafka keeps an unsent message queued for 5 minutes by default; kafkajs gives up after its
 *   retries. The outbox relies on a failed send failing within seconds (it sends the message again),
 *   so `message.timeout.ms` is as long as kafkajs' retries would take.
 */
export function producerConfig(producer: ProducerOptions = {}, send: SendOptions = {}, client: Pick<KafkaClientOptions, 'retry' | 'connectionTimeout'> = {}) {
  const { createPartitioner, ...options } = producer;
  if (createPartitioner !== undefined && createPartitioner !== Partitioners.DefaultPartitioner) {
    throw new Error("The confluent client partitions as kafkajs' DefaultPartitioner does, and takes no other partitioner");
  }
  const retry = { ...client.retry, ...producer.retry };
  const sendLevel = Object.fromEntries(PRODUCER_LEVEL_SEND_OPTIONS.filter((name) => send[name] !== undefined).map((name) => [name, send[name]]));
  return {
    kafkaJS: { ...options, ...sendLevel, retry },
    'message.timeout.ms': kafkajsSendTimeoutMs(retry, client.connectionTimeout),
  };
}

/**
 * How long kafkajs tries a send before it fails: an attempt and its retries, each waiting up to the
 * connection timeout, with a back-off that doubles from `initialRetryTime` up to `maxRetryTime`
 * between them (kafkajs' random factor left out).
 */
export function kafkajsSendTimeoutMs(retry: RetryOptions, connectionTimeout = KAFKAJS_CONNECTION_TIMEOUT_MS): number {
  const { retries, initialRetryTime, maxRetryTime } = { ...KAFKAJS_RETRY, ...retry };
  let timeoutMs = (retries + 1) * connectionTimeout;
  for (let retry = 0; retry < retries; retry += 1) timeoutMs += Math.min(initialRetryTime * 2 ** retry, maxRetryTime);
  return timeoutMs;
}

/** A record as Nest sends it, without the options that moved to the producer's configuration. */
export function withoutProducerLevelOptions<R extends object>(record: R): R {
  const rest = { ...record } as Record<string, unknown>;
  for (const name of PRODUCER_LEVEL_SEND_OPTIONS) delete rest[name];
  return rest as R;
}
