// class-transformer's @Type reads decorator metadata as the class is defined.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/**
 * Connections a service keeps to Postgres at most, by default. billing-consumer handles up to 12
 * messages at once (one per partition, kafka-options.ts), and the outbox relay and the readiness check
 * each take one more: with fewer, a handler waits for a connection while its query could already run.
 */
export const DEFAULT_DATABASE_POOL_SIZE = 16;

/** What a service that uses Postgres needs. */
export class DatabaseEnvironment {
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// connection URL' })
  DATABASE_URL: string;

  /** The size of the connection pool (node-postgres' default is 10); DEFAULT_DATABASE_POOL_SIZE if unset. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  DATABASE_POOL_SIZE?: number;
}
