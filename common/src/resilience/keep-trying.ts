import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@nestjs/common';
import { backoffMs } from './backoff.js';

const BACKOFF = { firstMs: 500, maxMs: 5_000 };

/**
 * Calls `connect` until it succeeds, waiting 0.5 s, 1 s, 2 s... (at most 5 s) between attempts and
 * logging each failure, so a service started before its infrastructure comes up with it. Gives up
 * quietly when `stopped()` turns true (the service is shutting down).
 */
export async function keepTrying(
  what: string,
  connect: () => Promise<unknown>,
  logger: LoggerService,
  stopped: () => boolean = () => false,
): Promise<void> {
  for (let attempt = 1; !stopped(); attempt += 1) {
    try {
      await connect();
      if (attempt > 1) logger.log(`${what}: connected after ${attempt} attempts`);
      return;
    } catch (error) {
      const delayMs = backoffMs(attempt, BACKOFF);
      logger.warn(`${what}: not reachable (${(error as Error).message}), attempt ${attempt}, next in ${delayMs} ms`);
      await sleep(delayMs);
    }
  }
}
