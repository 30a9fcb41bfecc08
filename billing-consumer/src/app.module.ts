import {
  ConsumerEnvironment,
  DatabaseEnvironment,
  HealthModule,
  ServiceEnvironment,
  typeOrmOptions,
  validateEnvironment,
} from '@demo/common';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingModule } from './billing/billing.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, DatabaseEnvironment, ConsumerEnvironment),
    }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => typeOrmOptions(config) }),
    HealthModule,
    BillingModule,
  ],
})
export class AppModule {}
