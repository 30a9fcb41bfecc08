import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { ClientKafka } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { KafkaHealthIndicator } from '../health/kafka.health.js';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** Produces JSON events to Kafka. The kafkajs instrumentation adds the `traceparent` header. */
@Injectable()
export class EventPublisher implements OnApplicationBootstrap {
  constructor(
    @Inject(KAFKA_PRODUCER) private readonly kafka: ClientKafka,
    private readonly kafkaHealth: KafkaHealthIndicator,
  ) {}

  /** Connects at start-up, so that readiness reflects the broker and no request pays for it. */
  async onApplicationBootstrap(): Promise<void> {
    this.kafkaHealth.watch('producer', this.kafka.status);
    await this.kafka.connect();
  }

  /** Sends `value` as JSON, keyed by `key`: one key, one partition, so a student's events stay in order. */
  async publish(topic: string, key: string, value: object): Promise<void> {
    // `emit` is hot and its errors are lost unless awaited: awaiting it fails the caller instead.
    await lastValueFrom(this.kafka.emit(topic, { key, value }), { defaultValue: undefined });
  }
}
