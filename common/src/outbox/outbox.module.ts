import { type DynamicModule, Module } from '@nestjs/common';
import { KafkaProducerModule } from '../kafka/kafka-producer.module.js';
import { Outbox } from './outbox.js';
import { OUTBOX_TOPICS, OutboxRelay } from './outbox-relay.js';
import { OutboxTable } from './outbox-table.js';

/**
 * The outbox of a service, relaying the topics it produces. Needs DatabaseModule, with
 * `CreateOutbox1764000000001` among the service's migrations.
 */
@Module({})
export class OutboxModule {
  static forTopics(topics: string[]): DynamicModule {
    return {
      module: OutboxModule,
      imports: [KafkaProducerModule],
      providers: [Outbox, OutboxRelay, OutboxTable, { provide: OUTBOX_TOPICS, useValue: topics }],
      exports: [Outbox],
    };
  }
}
