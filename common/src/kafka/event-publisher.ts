import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientKafka } from '@nestjs/microservices';
import type { Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { EVENT_ID_HEADER } from '../contracts/headers.js';
import { KafkaHealthIndicator } from '../health/kafka.health.js';
import { keepTrying } from '../resilience/keep-trying.js';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** Produces JSON events to Kafka. The Kafka instrumentation (of kafkajs or the confluent client) adds the `traceparent` header. */
@Injectable()
export class EventPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Kafka producer');
  private shuttingDown = false;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly kafka: ClientKafka,
    private readonly kafkaHealth: KafkaHealthIndicator,
  ) {}

  /**
   * Connects at start-up, in the background: the service starts even when Kafka does not answer yet,
   * reports not ready meanwhile, and no request pays for the connection.
   */
  onApplicationBootstrap(): void {
    this.kafkaHealth.watch('producer', this.kafka.status);
    void keepTrying('Kafka producer', () => this.kafka.connect(), this.logger, () => this.shuttingDown);
  }

  onApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  /**
   * Sends `value` as JSON, keyed by `key`: one key, one partition, so a student's events stay in order.
   * The event id goes in a header too, where the kafkajs hooks read it for `messaging.message.id`
   * without decoding the value.
   */
  publish(topic: string, key: string, value: object, eventId: string): Promise<void> {
    return this.publishRaw(topic, { key, value, headers: { [EVENT_ID_HEADER]: eventId } });
  }

  /**
   * Throws unless a broker answers for `topics`. It produces nothing, so it makes no span: the outbox
   * asks this before it sends again after a failure, instead of trying (and tracing) every send.
   */
  async checkBroker(topics: string[]): Promise<void> {
    const admin = this.kafka.unwrap<Kafka>().admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics });
    } finally {
      await admin.disconnect();
    }
  }

  /** Sends a message as it is given: value, key and headers. */
  async publishRaw(topic: string, message: { key: string | null; value: unknown; headers?: Record<string, string> }): Promise<void> {
    // `emit` is hot and its errors are lost unless awaited: awaiting it fails the caller instead.
    await lastValueFrom(this.kafka.emit(topic, message), { defaultValue: undefined });
  }
}
