import { type DynamicModule, Module } from '@nestjs/common';
import { EventsModule } from '../kafka/events.module.js';
import { OUTBOX_TOPICS, Outbox } from './outbox.js';

/** The outbox of a service, relaying the topics it produces. Needs DatabaseModule. */
@Module({})
export class OutboxModule {
  static forTopics(topics: string[]): DynamicModule {
    return {
      module: OutboxModule,
      imports: [EventsModule],
      providers: [Outbox, { provide: OUTBOX_TOPICS, useValue: topics }],
      exports: [Outbox],
    };
  }
}
