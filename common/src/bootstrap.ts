/**
 * Start and stop of the services. Imported by `main.ts` only: it reaches the telemetry bootstrap that
 * `node --import @demo/common/tracing` has already loaded (the same module instance).
 */
import { type INestApplication, Logger, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { KafkaHealthIndicator } from './health/kafka.health.js';
import { kafkaConsumerOptions } from './kafka/kafka-options.js';
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
export function closeOnShutdownSignal(app: INestApplication): void {
  const logger = new Logger('Shutdown');
  const shutdown = async (signal: NodeJS.Signals) => {
    logger.log(`${signal} received, closing`);
    setTimeout(() => {
      logger.error(`Not closed within ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    try {
      await app.close();
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
 * the health endpoints. HTTP listens only once the consumer has joined its group.
 */
export async function runConsumerService(appModule: Type): Promise<void> {
  const app = await createApp(appModule);
  const config = app.get(ConfigService);
  const consumer = app.connectMicroservice(kafkaConsumerOptions(config), { inheritAppConfig: true });
  app.get(KafkaHealthIndicator).watch('consumer', consumer.status);
  await app.startAllMicroservices();
  await app.listen(config.getOrThrow<number>('PORT'));
  closeOnShutdownSignal(app);
}
