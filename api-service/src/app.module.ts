import { DatabaseEnvironment, DatabaseModule, HealthModule, ServiceEnvironment, validateEnvironment } from '@demo/common';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
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
})
export class AppModule {}
