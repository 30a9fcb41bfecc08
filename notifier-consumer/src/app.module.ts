import { ConsumerEnvironment, ServiceEnvironment, validateEnvironment } from '@demo/common/config';
import { HealthModule } from '@demo/common/health';
import { LoggingModule } from '@demo/common/logging';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NotificationsModule } from './notifications/notifications.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, ConsumerEnvironment),
    }),
    LoggingModule,
    HealthModule,
    NotificationsModule,
  ],
})
export class AppModule {}
