import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { KafkaHealthIndicator } from './kafka.health.js';

/** `GET /health/live` and `GET /health/ready`, for compose healthchecks and the native stack. */
@Global()
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [KafkaHealthIndicator],
  exports: [KafkaHealthIndicator],
})
export class HealthModule {}
