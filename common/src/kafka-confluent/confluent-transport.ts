/**
 * Nest's Kafka transport on the confluent client: Nest's own server and client, with the one method
 * that loads kafkajs (`createClient`) replaced. Everything else (handlers, KafkaContext, heartbeats,
 * status, shutdown) is Nest's code, as with kafkajs.
 */
import type { Logger } from '@nestjs/common';
import { ClientKafka, type CustomClientOptions, type ServerKafka } from '@nestjs/microservices';
import { confluentClient } from './confluent-client.js';
import { instrumentKafka, type KafkaTracingConfig } from './instrument-kafka.js';
import { type ConfluentLogger, type KafkaClientOptions, kafkaConfig } from './kafkajs-options.js';
import { kafkajsShaped, type TransportOptions } from './kafkajs-shaped.js';

/** The client's log lines (librdkafka's too) through Nest's logger, as Nest's `logCreator` does for kafkajs. */
function nestLogger(logger: Logger): ConfluentLogger {
  const confluentLogger: ConfluentLogger = {
    info: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
    debug: (message) => logger.debug(message),
    namespace: () => confluentLogger,
    // LOG_LEVEL filters, in Nest's logger.
    setLogLevel: () => {},
  };
  return confluentLogger;
}

/** What `createClient` builds from: the transport's options, and the client id and brokers Nest took from them. */
interface ClientSource {
  options: TransportOptions;
  clientId: string;
  brokers: KafkaClientOptions['brokers'];
  logger: Logger;
}

/** A traced confluent `Kafka`, kafkajs-shaped; created at each connection attempt, as Nest does. */
function createKafka({ options, clientId, brokers, logger }: ClientSource, tracing: KafkaTracingConfig) {
  const { KafkaJS } = confluentClient();
  const config = kafkaConfig({ ...options.client, clientId, brokers }, nestLogger(logger));
  return kafkajsShaped(instrumentKafka(new KafkaJS.Kafka(config), tracing), options);
}

type KafkaServer = new (...args: any[]) => ServerKafka;

/** `Server` (ServerKafka, or a subclass of it) on the confluent client. */
export function onConfluentClient<S extends KafkaServer>(Server: S, tracing: KafkaTracingConfig): S {
  return class ConfluentKafkaServer extends Server {
    override async createClient<T>(): Promise<T> {
      return createKafka({ options: this.options, clientId: this.clientId, brokers: this.brokers, logger: this.logger }, tracing) as T;
    }
  };
}

/**
 * Nest's Kafka client on the confluent client (`customClass` of ClientsModule), producer only: a
 * client that awaits replies joins a group with kafkajs partition assigners, which the confluent
 * client cannot take.
 */
export function confluentKafkaClient(tracing: KafkaTracingConfig): CustomClientOptions['customClass'] {
  class ConfluentKafkaClient extends ClientKafka {
    override async createClient<T>(): Promise<T> {
      if (!this.producerOnlyMode) throw new Error('The confluent Kafka client is producer only (producerOnlyMode)');
      return createKafka({ options: this.options, clientId: this.clientId, brokers: this.brokers, logger: this.logger }, tracing) as T;
    }
  }
  // ClientKafka's status is typed narrower (KafkaStatus) than the ClientProxy that `customClass` names.
  return ConfluentKafkaClient as unknown as CustomClientOptions['customClass'];
}
