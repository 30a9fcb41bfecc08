import { EventEmitter } from 'node:events';
import type { Connection } from './kafkajs-api.js';

/**
 * kafkajs' instrumentation event names, which Nest's Kafka transport reads from `consumer.events` and
 * `producer.events` and turns into its `status` stream (KafkaHealthIndicator follows it).
 */
export const STATUS_EVENTS = {
  consumer: {
    CONNECT: 'consumer.connect',
    DISCONNECT: 'consumer.disconnect',
    STOP: 'consumer.stop',
    CRASH: 'consumer.crash',
    REBALANCING: 'consumer.rebalancing',
    GROUP_JOIN: 'consumer.group_join',
  },
  producer: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
} as const;

export interface StatusEvents {
  events: Record<string, string>;
  on(event: string, listener: (...args: unknown[]) => void): () => void;
}

/**
 * Gives a confluent producer or consumer the `events` and `on` of kafkajs, which the confluent client
 * does not implement (both throw "Not implemented"): connected once `connect` resolves, disconnected
 * once `disconnect` does, as kafkajs reports them. librdkafka reconnects to the brokers by itself and
 * its consumer never crashes and restarts as kafkajs' does, so nothing else is reported.
 */
export function withStatusEvents<C extends Connection>(connection: C, kind: keyof typeof STATUS_EVENTS): C & StatusEvents {
  const emitter = new EventEmitter();
  const events = STATUS_EVENTS[kind];
  const connect = connection.connect.bind(connection);
  const disconnect = connection.disconnect.bind(connection);
  // Own properties: the client's `events` is a getter that throws, on its prototype.
  Object.defineProperties(connection, {
    events: { value: events },
    on: {
      value: (event: string, listener: (...args: unknown[]) => void) => {
        emitter.on(event, listener);
        return () => emitter.off(event, listener);
      },
    },
    connect: {
      value: async () => {
        await connect();
        emitter.emit(events.CONNECT);
      },
    },
    disconnect: {
      value: async () => {
        await disconnect();
        emitter.emit(events.DISCONNECT);
      },
    },
  });
  return connection as C & StatusEvents;
}
