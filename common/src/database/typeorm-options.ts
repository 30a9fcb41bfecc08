import type { ConfigService } from '@nestjs/config';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Student } from '../students/student.entity.js';

/** Postgres through TypeORM (and node-postgres, which the pg instrumentation traces). */
export function typeOrmOptions(config: ConfigService, options: Partial<TypeOrmModuleOptions> = {}): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: config.getOrThrow<string>('DATABASE_URL'),
    entities: [Student],
    // The schema is changed by migrations only (api-service runs them), never synchronized.
    synchronize: false,
    ...options,
  } as TypeOrmModuleOptions;
}
