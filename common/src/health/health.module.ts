import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { KafkaHealthIndicator } from './kafka.health.js';
import { ReadinessChecks } from './readiness-checks.js';

/**
 * `GET /health/live` and `GET /health/ready`, for compose healthchecks and the native stack. Imported
 * by the application module, and by the modules that report to it (KafkaProducerModule, DatabaseModule):
 * Nest makes one instance of it.
 */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [KafkaHealthIndicator, ReadinessChecks],
  exports: [KafkaHealthIndicator, ReadinessChecks, TerminusModule],
})
export class HealthModule {}
