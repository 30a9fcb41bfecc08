import { createRequire } from 'node:module';
import type { Kafka } from './kafkajs-api.js';
import { assertLibrdkafkaFeatures } from './librdkafka-features.js';

/** What the project uses of `@confluentinc/kafka-javascript`. */
export interface ConfluentClient {
  KafkaJS: { Kafka: new (config: object) => Kafka };
  features: string[];
  librdkafkaVersion: string;
}

// Through require, not an import: the project compiles where the package is absent, and a service
// checks it synchronously while it is configured.
const PACKAGE = '@confluentinc/kafka-javascript';
const require = createRequire(import.meta.url);

/**
 * `@confluentinc/kafka-javascript`, checked before anything uses it: installed (an optional
 * dependency, which npm ci leaves out without a word where librdkafka does not compile) and built
 * with every feature. A service with KAFKA_CLIENT=confluent asks for it as it is configured, so that
 * it refuses to start, naming the cause, instead of failing at each connection attempt.
 */
export function confluentClient(packageName = PACKAGE): ConfluentClient {
  let client: ConfluentClient;
  try {
    client = require(packageName) as ConfluentClient;
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (error as Error).message.includes(`'${packageName}'`);
    if (!notFound) throw error;
    throw new Error(
      `KAFKA_CLIENT=confluent, but ${packageName} is not installed: npm ci leaves it out when librdkafka does not compile ` +
        '(docs/known-limits.md#the-confluent-client-built-here)',
      { cause: error },
    );
  }
  assertLibrdkafkaFeatures(client.features);
  return client;
}
