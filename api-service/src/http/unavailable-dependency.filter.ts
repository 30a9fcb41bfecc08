import { type ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { CannotExecuteNotConnectedError, ConnectionIsNotSetError, DataSource, TypeORMError } from 'typeorm';

/** What a client is told to wait before trying again; the DataSource reconnects on its own meanwhile. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Error codes that say Postgres could not be reached, rather than that the query was wrong: Node's
 * socket errors (node-postgres passes them on), and Postgres's own SQLSTATEs for a server that is
 * shutting down or starting up (57P01-57P03) or has no connection left (53300). TypeORM copies the
 * driver's `code` onto its QueryFailedError.
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

/** Whether `error` means that Postgres is unavailable; `connected` is whether the DataSource has connected since start. */
export function isPostgresUnavailable(error: unknown, connected: boolean): boolean {
  // DatabaseModule connects in the background: until then, every TypeORM call fails ("Driver not Connected").
  if (!connected && error instanceof TypeORMError) return true;
  if (error instanceof CannotExecuteNotConnectedError || error instanceof ConnectionIsNotSetError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  // SQLSTATE class 08: connection exception.
  return typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'));
}

/**
 * Answers 503 with a plain message and a Retry-After header when Postgres cannot be reached, instead
 * of a bare 500; every other error goes to Nest's default handling. Only Postgres: a request never
 * waits for Kafka, the outbox sends its messages later.
 */
@Catch()
export class UnavailableDependencyFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(UnavailableDependencyFilter.name);

  constructor(private readonly dataSource: DataSource) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || !isPostgresUnavailable(exception, this.dataSource.isInitialized)) return super.catch(exception, host);
    this.logger.warn(`Postgres unavailable: ${(exception as Error).message}`);
    const httpAdapter = this.httpAdapterHost!.httpAdapter;
    const response = host.switchToHttp().getResponse();
    httpAdapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
    const body = { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: 'Postgres is unavailable, try again in a moment' };
    httpAdapter.reply(response, body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
