import {
  ConsumerEnvironment,
  DatabaseEnvironment,
  DatabaseModule,
  HealthModule,
  ServiceEnvironment,
  validateEnvironment,
} from '@demo/common';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { BillingEnvironment } from './billing/billing.environment.js';
import { BillingModule } from './billing/billing.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, DatabaseEnvironment, ConsumerEnvironment, BillingEnvironment),
    }),
    DatabaseModule.forRoot(),
    HealthModule,
    BillingModule,
  ],
})
export class AppModule {}
