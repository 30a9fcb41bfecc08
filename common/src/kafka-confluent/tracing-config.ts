import type { TelemetryEnvironment } from '../config/environment.js';
import { kafkaSpanHooks } from '../telemetry/kafka-span-hooks.js';
import type { KafkaTracingConfig } from './instrument-kafka.js';

/** The confluent client traced as instrumentations.ts has instrumentation-kafkajs trace kafkajs. */
export function kafkaTracingConfig(env: Partial<TelemetryEnvironment>): KafkaTracingConfig {
  return { ...kafkaSpanHooks(env), consumerTrace: env.KAFKA_CONSUMER_TRACE };
}
