import type { Kafka } from './kafkajs-api.js';
import { assertLibrdkafkaFeatures } from './librdkafka-features.js';

/** What the project uses of `@confluentinc/kafka-javascript`. */
export interface ConfluentClient {
  KafkaJS: { Kafka: new (config: object) => Kafka };
  features: string[];
  librdkafkaVersion: string;
}

// A name TypeScript does not resolve: the project compiles where the package is absent.
const PACKAGE: string = '@confluentinc/kafka-javascript';

/**
 * `@confluentinc/kafka-javascript`, checked before anything uses it. It is an optional dependency:
 * npm ci leaves it out without a word where librdkafka does not compile, and kafkajs, the default,
 * does not need it.
 */
export async function loadConfluentClient(): Promise<ConfluentClient> {
  let client: ConfluentClient;
  try {
    client = ((await import(PACKAGE)) as { default: ConfluentClient }).default;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `${PACKAGE} is not installed: npm ci leaves it out when librdkafka does not compile ` +
        '(docs/known-limits.md#the-confluent-client-built-here)',
      { cause: error },
    );
  }
  assertLibrdkafkaFeatures(client.features);
  return client;
}
