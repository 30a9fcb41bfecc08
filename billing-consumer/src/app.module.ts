import { ConsumerEnvironment, ServiceEnvironment, validateEnvironment } from '@demo/common/config';
import { DatabaseEnvironment, DatabaseModule } from '@demo/common/database';
import { HealthModule } from '@demo/common/health';
import { LoggingModule } from '@demo/common/logging';
import { CreateOutbox1764000000001 } from '@demo/common/outbox';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { BillingEnvironment } from './billing/billing.environment.js';
import { BillingModule } from './billing/billing.module.js';
import { CreateProcessedEvents1764000000002 } from './database/migrations/1764000000002-create-processed-events.js';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, DatabaseEnvironment, ConsumerEnvironment, BillingEnvironment),
    }),
    LoggingModule,
    // The tables billing writes: `processed_events`, and its outbox. It also sets the fee of a
    // student in `students`, a table api-service owns and migrates.
    DatabaseModule.forRoot({ migrations: [CreateOutbox1764000000001, CreateProcessedEvents1764000000002] }),
    HealthModule,
    BillingModule,
  ],
})
export class AppModule {}
