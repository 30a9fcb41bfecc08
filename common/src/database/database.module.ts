import { type DynamicModule, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { keepTrying } from '../resilience/keep-trying.js';
import { OutboxMessage } from '../outbox/outbox-message.entity.js';
import { ProcessedEvent } from '../outbox/processed-event.entity.js';
import { Student } from '../students/student.entity.js';

/**
 * Connects to Postgres in the background: the service starts, serves its health endpoints (not
 * ready) and connects as soon as Postgres answers, instead of failing to start.
 */
@Injectable()
class DatabaseConnector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Postgres');
  private shuttingDown = false;

  constructor(private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    void keepTrying('Postgres', () => this.initialize(), this.logger, () => this.shuttingDown);
  }

  onApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  private async initialize(): Promise<void> {
    try {
      await this.dataSource.initialize(); // and runs the migrations, where migrationsRun is set
    } catch (error) {
      // A failed attempt leaves its connection pool behind: close it before the next one.
      await this.dataSource.driver.disconnect().catch(() => undefined);
      throw error;
    }
  }
}

/** Postgres through TypeORM (and node-postgres, which the pg instrumentation traces). */
@Module({})
export class DatabaseModule {
  static forRoot(options: Partial<TypeOrmModuleOptions> = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            ({
              type: 'postgres',
              url: config.getOrThrow<string>('DATABASE_URL'),
              entities: [Student, OutboxMessage, ProcessedEvent],
              // The schema is changed by migrations only (api-service runs them), never synchronized.
              synchronize: false,
              manualInitialization: true,
              ...options,
            }) as TypeOrmModuleOptions,
        }),
      ],
      providers: [DatabaseConnector],
    };
  }
}
