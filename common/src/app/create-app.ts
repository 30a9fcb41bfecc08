import { type INestApplication, Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NativeLogger } from 'nestjs-pino';
import { keepTrying } from '../resilience/keep-trying.js';
import { requireTracing } from '../telemetry/loaded-tracing.js';
import { exitOnCrash, isShuttingDown } from './shutdown.js';

/**
 * The Nest application of a service, logging through the `LoggingModule` its module imports.
 * Refuses to start when the telemetry bootstrap was not loaded with `--import`.
 */
export async function createApp(appModule: Type): Promise<INestApplication> {
  requireTracing();
  exitOnCrash();
  // Connections are closed on shutdown even when a client keeps them alive. Nest's lines of the
  // start-up are kept until its logger, pino, exists.
  const app = await NestFactory.create(appModule, { bufferLogs: true, forceCloseConnections: true });
  app.useLogger(app.get(NativeLogger));
  return app;
}

/**
 * Starts the connected microservices (the Kafka consumer), retrying until the broker answers: the
 * service is up meanwhile and reports not ready. Gives up when the service is shutting down.
 */
export function startMicroservices(app: INestApplication): Promise<void> {
  return keepTrying('Kafka consumer', () => app.startAllMicroservices(), new Logger('Kafka consumer'), isShuttingDown);
}
