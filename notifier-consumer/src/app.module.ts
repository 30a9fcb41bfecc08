import { ConsumerEnvironment, HealthModule, ServiceEnvironment, validateEnvironment } from '@demo/common';
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
    HealthModule,
    NotificationsModule,
  ],
})
export class AppModule {}
