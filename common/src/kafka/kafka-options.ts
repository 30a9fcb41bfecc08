import type { ConfigService } from '@nestjs/config';
import { type KafkaOptions, Transport } from '@nestjs/microservices';
import { type KafkaConfig, Partitioners } from 'kafkajs';

export function kafkaClientConfig(config: ConfigService): KafkaConfig {
  return {
    clientId: config.get<string>('OTEL_SERVICE_NAME', 'nestjs-kafka-tracing'),
    brokers: config.getOrThrow<string>('KAFKA_BROKERS').split(','),
  };
}

// Naming the partitioner silences kafkajs 2's warning about its default having changed.
const producer = { createPartitioner: Partitioners.DefaultPartitioner };

/** Options of the Kafka server of a consumer microservice (`app.connectMicroservice`). */
export function kafkaConsumerOptions(config: ConfigService): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClientConfig(config),
      consumer: {
        groupId: config.getOrThrow<string>('KAFKA_CONSUMER_GROUP'),
        // How long a fetch waits on an idle topic (kafkajs default 5 s). A stop waits for the fetch
        // in flight, so this bounds how long SIGTERM takes; a message still arrives at once.
        maxWaitTimeInMs: 1000,
      },
      // A new group starts at the beginning of the topic: a message produced before the first
      // start of a consumer is still processed.
      subscribe: { fromBeginning: true },
      // Nest appends "-server" to the group id; the group is exactly KAFKA_CONSUMER_GROUP instead,
      // the value the consumer spans carry as messaging.consumer.group.name.
      postfixId: '',
      producer,
    },
  };
}

/** Options of a client that only produces (no reply consumer group is joined). */
export function kafkaProducerOptions(config: ConfigService): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: { client: kafkaClientConfig(config), producer, producerOnlyMode: true },
  };
}
