import type { Kafka } from './kafkajs-api.js';
import { type ConsumerOptions, consumerConfig, type KafkaClientOptions, type ProducerOptions, producerConfig, type SendOptions, type SubscribeOptions, withoutProducerLevelOptions } from './kafkajs-options.js';
import { withStatusEvents } from './status-events.js';

/** What the mapping needs of a Nest Kafka server's or client's options, besides the configuration it is handed. */
export interface TransportOptions {
  client?: KafkaClientOptions;
  subscribe?: SubscribeOptions;
  send?: SendOptions;
}

/**
 * The confluent `kafka` as Nest's Kafka transport drives kafkajs: its producers and consumers take
 * kafkajs' options, report their status with kafkajs' events, and accept what Nest passes to
 * `subscribe` and `send`. The admin client is the confluent one (`fetchTopicMetadata` is the same).
 */
export function kafkajsShaped(kafka: Kafka, options: TransportOptions) {
  return {
    consumer(config: ConsumerOptions) {
      const consumer = withStatusEvents(kafka.consumer(consumerConfig(config, options.subscribe)), 'consumer');
      const subscribe = consumer.subscribe.bind(consumer);
      return Object.assign(consumer, {
        // `fromBeginning` went into the consumer's configuration.
        subscribe: ({ fromBeginning: _configured, ...subscription }: { topics: (string | RegExp)[]; fromBeginning?: boolean }) => subscribe(subscription),
      });
    },
    producer(config?: ProducerOptions) {
      const producer = withStatusEvents(kafka.producer(producerConfig(config, options.send, options.client)), 'producer');
      const send = producer.send.bind(producer);
      const sendBatch = producer.sendBatch.bind(producer);
      producer.send = (record) => send(withoutProducerLevelOptions(record));
      producer.sendBatch = (batch) => sendBatch(withoutProducerLevelOptions(batch));
      return producer;
    },
    admin: () => kafka.admin(),
  };
}
