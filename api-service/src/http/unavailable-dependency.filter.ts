import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

// Connection-level failures of node-postgres and Postgres itself (class 08: connection exception,
// 57P0x: the server is shutting down or starting up).
const POSTGRES_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '08000', '08001', '08003', '08006', '57P01', '57P02', '57P03']);

/** Names the dependency behind an error if the error says it is unreachable. */
export function unavailableDependency(error: unknown): 'Postgres' | 'Kafka' | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name.startsWith('KafkaJS')) return 'Kafka';
  const code = (error as { code?: string }).code;
  if (code && POSTGRES_UNAVAILABLE_CODES.has(code)) return 'Postgres';
  if (/Connection terminated|DataSource is not initialized|not.*connection.*established/i.test(error.message)) return 'Postgres';
  return undefined;
}

/**
 * Answers 503 with a plain message when Postgres or Kafka cannot be reached, instead of a bare 500;
 * every other error goes to Nest's default handling.
 */
@Catch()
export class UnavailableDependencyFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(UnavailableDependencyFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): void {
    const dependency = unavailableDependency(exception);
    if (!dependency || host.getType() !== 'http') return super.catch(exception, host);
    this.logger.warn(`${dependency} unavailable: ${(exception as Error).message}`);
    const body = { statusCode: 503, error: 'Service Unavailable', message: `${dependency} is unavailable, try again in a moment` };
    (this.applicationRef ?? this.httpAdapterHost!.httpAdapter).reply(host.switchToHttp().getResponse(), body, 503);
  }
}
