/**
 * Start and stop of the services. Imported by `main.ts` only: it reaches the telemetry bootstrap that
 * `node --import @demo/common/tracing` has already loaded (the same module instance).
 */
import { type INestApplication, Logger, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { KafkaHealthIndicator } from './health/kafka.health.js';
import { kafkaConsumerOptions } from './kafka/kafka-options.js';
import { keepTrying } from './resilience/keep-trying.js';
import { TraceAwareLogger } from './telemetry/trace-aware.logger.js';
import { shutdownTracing } from './tracing.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

export function createApp(appModule: Type): Promise<INestApplication> {
  // Connections are closed on shutdown even when a client keeps them alive.
  return NestFactory.create(appModule, { logger: new TraceAwareLogger(), forceCloseConnections: true });
}

/**
 * On SIGTERM or SIGINT: Nest closes first (stops HTTP, leaves the consumer group after the message in
 * hand, disconnects), THEN the SDK flushes its last spans, then the process exits 0. In the other
 * order the spans of the last messages would be lost.
 */
export function closeOnShutdownSignal(app: INestApplication, onSignal: () => void = () => {}): void {
  const logger = new Logger('Shutdown');
  const shutdown = async (signal: NodeJS.Signals) => {
    logger.log(`${signal} received, closing`);
    onSignal();
    setTimeout(() => {
      logger.error(`Not closed within ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    try {
      const started = performance.now();
      await app.close();
      logger.log(`closed in ${Math.round(performance.now() - started)} ms; flushing telemetry, then exit code 0`);
      await shutdownTracing();
      process.exit(0);
    } catch (error) {
      logger.error('Shutdown failed', error);
      process.exit(1);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * A Kafka consumer service: Nest's Kafka transport for the `@EventPattern` handlers, plus HTTP for
 * the health endpoints. HTTP comes first, so that while Kafka does not answer the service is up and
 * reports not ready; the consumer joins its group as soon as the broker answers.
 */
export async function runConsumerService(appModule: Type): Promise<void> {
  const app = await createApp(appModule);
  const config = app.get(ConfigService);
  const consumer = app.connectMicroservice(kafkaConsumerOptions(config), { inheritAppConfig: true });
  app.get(KafkaHealthIndicator).watch('consumer', consumer.status);
  await app.listen(config.getOrThrow<number>('PORT'));
  let shuttingDown = false;
  closeOnShutdownSignal(app, () => (shuttingDown = true));
  await keepTrying('Kafka consumer', () => app.startAllMicroservices(), new Logger('Kafka consumer'), () => shuttingDown);
}
