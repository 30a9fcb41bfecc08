import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientsModule } from '@nestjs/microservices';
import { EventPublisher, KAFKA_PRODUCER } from './event-publisher.js';
import { kafkaProducerOptions } from './kafka-options.js';

/** Gives a service an `EventPublisher`. */
@Module({
  imports: [
    ClientsModule.registerAsync([{ name: KAFKA_PRODUCER, inject: [ConfigService], useFactory: kafkaProducerOptions }]),
  ],
  providers: [EventPublisher],
  exports: [EventPublisher],
})
export class EventsModule {}
