import type { IHeaders } from 'kafkajs';

/**
 * The part of the KafkaJS API that the tracing and Nest's transport touch, as the confluent client's
 * `KafkaJS` export declares it. Declared here rather than imported: the client is an optional dependency, and the
 * project must compile where npm ci left it out.
 */
export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  timestamp?: string;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** A consumed message. */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers?: IHeaders;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface EachBatchPayload {
  batch: { topic: string; partition: number; messages: KafkaMessage[] };
}

export interface ConsumerRunConfig {
  eachMessage?(payload: EachMessagePayload): Promise<void>;
  eachBatch?(payload: EachBatchPayload): Promise<void>;
}

/** What producers and consumers share: one connection each, made once. */
export interface Connection {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface Producer extends Connection {
  send(record: TopicMessages): Promise<unknown>;
  sendBatch(batch: { topicMessages?: TopicMessages[] }): Promise<unknown>;
}

export interface Consumer extends Connection {
  subscribe(subscription: { topics: (string | RegExp)[] }): Promise<void>;
  run(config?: ConsumerRunConfig): Promise<void>;
}

export interface Kafka {
  producer(config?: object): Producer;
  consumer(config: object): Consumer;
  admin(config?: object): unknown;
}
