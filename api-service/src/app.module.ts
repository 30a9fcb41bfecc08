import { ServiceEnvironment, validateEnvironment } from '@demo/common/config';
import { DatabaseEnvironment, DatabaseModule } from '@demo/common/database';
import { HealthModule } from '@demo/common/health';
import { LoggingModule } from '@demo/common/logging';
import { CreateOutbox1764000000001 } from '@demo/common/outbox';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { UnavailableDependencyFilter } from './http/unavailable-dependency.filter.js';
import { CreateStudents1764000000000 } from './database/migrations/1764000000000-create-students.js';
import { StudentsModule } from './students/students.module.js';

@Module({
  imports: [
    // Configuration comes from the environment only (compose, the native stack, your platform).
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, DatabaseEnvironment),
    }),
    LoggingModule,
    // The tables api-service writes: `students`, and its outbox.
    DatabaseModule.forRoot({ migrations: [CreateStudents1764000000000, CreateOutbox1764000000001] }),
    HealthModule,
    StudentsModule,
  ],
  // Postgres down: 503 with a plain message and Retry-After, never a stack trace.
  providers: [{ provide: APP_FILTER, useClass: UnavailableDependencyFilter }],
})
export class AppModule {}
