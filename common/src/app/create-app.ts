import { type INestApplication, Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { keepTrying } from '../resilience/keep-trying.js';
import { requireTracing } from '../telemetry/loaded-tracing.js';
import { TraceAwareLogger } from '../telemetry/trace-aware.logger.js';
import { exitOnCrash, isShuttingDown } from './shutdown.js';

/**
 * The Nest application of a service, with the project's logger. Refuses to start when the telemetry
 * bootstrap was not loaded with `--import`.
 */
export function createApp(appModule: Type): Promise<INestApplication> {
  requireTracing();
  exitOnCrash();
  // Connections are closed on shutdown even when a client keeps them alive.
  return NestFactory.create(appModule, { logger: new TraceAwareLogger(), forceCloseConnections: true });
}

/**
 * Starts the connected microservices (the Kafka consumer), retrying until the broker answers: the
 * service is up meanwhile and reports not ready. Gives up when the service is shutting down.
 */
export function startMicroservices(app: INestApplication): Promise<void> {
  return keepTrying('Kafka consumer', () => app.startAllMicroservices(), new Logger('Kafka consumer'), isShuttingDown);
}
