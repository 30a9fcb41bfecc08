import { DatabaseEnvironment, DatabaseModule, HealthModule, ServiceEnvironment, UnavailableDependencyFilter, validateEnvironment } from '@demo/common';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ApiEnvironment } from './api.environment.js';
import { CreateStudents1764000000000 } from './database/migrations/1764000000000-create-students.js';
import { CreateOutbox1764000000001 } from './database/migrations/1764000000001-create-outbox.js';
import { StudentsModule } from './students/students.module.js';

@Module({
  imports: [
    // Configuration comes from the environment only (compose, the native stack, your platform).
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment(ServiceEnvironment, DatabaseEnvironment, ApiEnvironment),
    }),
    // api-service owns the `students` table: it runs the migrations at start-up.
    DatabaseModule.forRoot({ migrations: [CreateStudents1764000000000, CreateOutbox1764000000001], migrationsRun: true }),
    HealthModule,
    StudentsModule,
  ],
  // Postgres down: 503 with a plain message and Retry-After, never a stack trace.
  providers: [{ provide: APP_FILTER, useClass: UnavailableDependencyFilter }],
})
export class AppModule {}
