import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { KafkaHealthIndicator } from './kafka.health.js';
import { ReadinessChecks } from './readiness-checks.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly kafka: KafkaHealthIndicator,
    private readonly readiness: ReadinessChecks,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** The service can do its work: its Kafka connections are up, and so is every other dependency it registered. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.kafka.check(), ...this.readiness.all()]);
  }
}
