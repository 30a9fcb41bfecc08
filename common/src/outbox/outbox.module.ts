import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../kafka/events.module.js';
import { OutboxMessage } from './outbox-message.entity.js';
import { OUTBOX_TOPICS, Outbox } from './outbox.js';

/**
 * The outbox of a service, relaying the topics it produces. Needs DatabaseModule, with
 * `CreateOutbox1764000000001` among the service's migrations.
 */
@Module({})
export class OutboxModule {
  static forTopics(topics: string[]): DynamicModule {
    return {
      module: OutboxModule,
      imports: [TypeOrmModule.forFeature([OutboxMessage]), EventsModule],
      providers: [Outbox, { provide: OUTBOX_TOPICS, useValue: topics }],
      exports: [Outbox],
    };
  }
}
