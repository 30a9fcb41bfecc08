import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientsModule } from '@nestjs/microservices';
import { HealthModule } from '../health/health.module.js';
import { EventPublisher, KAFKA_PRODUCER } from './event-publisher.js';
import { kafkaProducerOptions } from './kafka-options.js';

/**
 * Gives a service an `EventPublisher` (which DeadLetterInterceptor writes dead letters with). The
 * producer's connection is part of the service's readiness, hence HealthModule.
 */
@Module({
  imports: [
    HealthModule,
    ClientsModule.registerAsync([{ name: KAFKA_PRODUCER, inject: [ConfigService], useFactory: kafkaProducerOptions }]),
  ],
  providers: [EventPublisher],
  exports: [EventPublisher],
})
export class KafkaProducerModule {}
