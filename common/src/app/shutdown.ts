import { setTimeout as sleep } from 'node:timers/promises';
import { type INestApplication, Logger } from '@nestjs/common';
import { requireTracing } from '../telemetry/loaded-tracing.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;
/** The last spans may be lost when the collector does not take them in time; the stop must not wait on it. */
const FLUSH_TIMEOUT_MS = 5_000;

const logger = new Logger('Shutdown');
let closing = false;

/** True once a shutdown signal was received: background retries (Kafka, Postgres) stop. */
export function isShuttingDown(): boolean {
  return closing;
}

/**
 * Sends the telemetry still queued. A collector that is down or slow costs a warning, never the exit
 * code: the service itself stopped cleanly.
 */
async function flushTelemetry(timeoutMs: number): Promise<void> {
  const timeout = sleep(timeoutMs, 'timeout', { ref: false });
  try {
    if ((await Promise.race([requireTracing().shutdown(), timeout])) === 'timeout') {
      logger.warn(`Telemetry not flushed within ${timeoutMs} ms; the last spans may be missing`);
    }
  } catch (error) {
    logger.warn(`Telemetry not flushed (${(error as Error).message}); the last spans may be missing`);
  }
}

/**
 * On SIGTERM or SIGINT: Nest closes first (stops HTTP, leaves the consumer group after the message in
 * hand, disconnects), THEN the SDK flushes its last spans, then the process exits 0. In the other
 * order the spans of the last messages would be lost. A second signal while closing is ignored: the
 * first shutdown is already under way, and a watchdog bounds it.
 */
export function closeOnShutdownSignal(app: INestApplication): void {
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} received while closing, ignored`);
      return;
    }
    closing = true;
    logger.log(`${signal} received, closing`);
    setTimeout(() => {
      logger.error(`Not closed within ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    const started = performance.now();
    try {
      await app.close();
    } catch (error) {
      logger.error('Shutdown failed', { err: error });
      await flushTelemetry(FLUSH_TIMEOUT_MS);
      process.exit(1);
    }
    logger.log(`closed in ${Math.round(performance.now() - started)} ms; flushing telemetry, then exit code 0`);
    await flushTelemetry(FLUSH_TIMEOUT_MS);
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/**
 * An error nothing caught would end the process at once, its spans and log records still queued:
 * log it, flush briefly, exit 1.
 */
export function exitOnCrash(): void {
  const crash = async (kind: string, error: unknown) => {
    logger.fatal(`${kind}, exiting`, { err: error });
    await flushTelemetry(2_000);
    process.exit(1);
  };
  process.once('uncaughtException', (error) => crash('Uncaught exception', error));
  process.once('unhandledRejection', (reason) => crash('Unhandled rejection', reason));
}
