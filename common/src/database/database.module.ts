import { type DynamicModule, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type MigrationInterface } from 'typeorm';
import { HealthModule } from '../health/health.module.js';
import { ReadinessChecks } from '../health/readiness-checks.js';
import { keepTrying } from '../resilience/keep-trying.js';
import { DEFAULT_DATABASE_POOL_SIZE, type DatabaseEnvironment } from './database.environment.js';
import { runMigrationsExclusively } from './migrations.js';

/**
 * Connects to Postgres in the background: the service starts, serves its health endpoints (not
 * ready) and connects as soon as Postgres answers, instead of failing to start. Then it runs the
 * service's migrations, and adds Postgres to the readiness check.
 */
@Injectable()
class DatabaseConnector implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Postgres');
  private shuttingDown = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly readiness: ReadinessChecks,
    private readonly typeOrmHealth: TypeOrmHealthIndicator,
  ) {}

  onModuleInit(): void {
    this.readiness.add(() => this.typeOrmHealth.pingCheck('postgres', { timeout: 1000, connection: this.dataSource }));
  }

  onApplicationBootstrap(): void {
    void keepTrying('Postgres', () => this.initialize(), this.logger, () => this.shuttingDown);
  }

  onApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  private async initialize(): Promise<void> {
    try {
      await this.dataSource.initialize();
      await runMigrationsExclusively(this.dataSource);
    } catch (error) {
      // A failed attempt leaves its connection pool behind: close it before the next one.
      if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
      else await this.dataSource.driver.disconnect().catch(() => undefined);
      throw error;
    }
  }
}

export interface DatabaseOptions {
  /** The migrations of the tables this service writes, run at start-up. */
  migrations?: Array<new () => MigrationInterface>;
}

/**
 * Postgres through TypeORM (and node-postgres, which the pg instrumentation traces). Entities are
 * registered by the feature modules that use them, with `TypeOrmModule.forFeature`.
 */
@Module({})
export class DatabaseModule {
  static forRoot({ migrations = [] }: DatabaseOptions = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        HealthModule,
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<DatabaseEnvironment, true>) => ({
            type: 'postgres',
            url: config.get('DATABASE_URL', { infer: true }),
            poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }) ?? DEFAULT_DATABASE_POOL_SIZE,
            autoLoadEntities: true,
            migrations,
            // The schema is changed by migrations only, never synchronized.
            synchronize: false,
            manualInitialization: true,
          }),
        }),
      ],
      providers: [DatabaseConnector],
    };
  }
}
