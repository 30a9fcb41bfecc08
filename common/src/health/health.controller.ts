import { Controller, Get, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { KafkaHealthIndicator } from './kafka.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly kafka: KafkaHealthIndicator,
    private readonly database: TypeOrmHealthIndicator,
    // Present only in services that use Postgres.
    @Optional() private readonly dataSource?: DataSource,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** The service can do its work: its Kafka connections are up, and Postgres answers. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.kafka.check(),
      ...(this.dataSource ? [() => this.database.pingCheck('postgres', { timeout: 1000 })] : []),
    ]);
  }
}
