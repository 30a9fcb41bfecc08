// Reading messages of a topic that are already there (never waiting for new ones), for the scripts
// that show them: `npm run peek` and `npm run dead-letters`.

import kafkajs from 'kafkajs';
import { loadStackConfig } from '../stack/config.mjs';

/**
 * Kafka and Jaeger addresses from KAFKA_BROKERS / JAEGER_URL, or else the native stack's .env (a
 * container of compose's `tools` profile sets both and has no .env).
 */
export function addresses() {
  let config;
  const ports = () => (config ??= loadStackConfig()).ports;
  return {
    brokers: (process.env.KAFKA_BROKERS ?? `127.0.0.1:${ports().kafka}`).split(','),
    jaegerUrl: process.env.JAEGER_URL ?? `http://127.0.0.1:${ports().jaegerUi}`,
  };
}

export function kafkaClient(clientId, brokers) {
  return new kafkajs.Kafka({ clientId, brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 2 } });
}

/** Runs `work` with a connected admin client of `kafka` (a kafkajs client), and disconnects it. */
export async function withAdmin(kafka, work) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

export const headersOf = (message) =>
  Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));

/**
 * The messages of `topic` up to its current end, oldest first; with `last`, only the last `last` of
 * each partition; with `at` ({ partition, offset }), only that message, if it is there. Each message
 * has its partition.
 */
export async function readMessages(kafka, topic, { last, at } = {}) {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  const ranges = new Map(
    offsets
      .map(({ partition, low, high }) => [partition, at
        ? { from: Number(at.offset), to: at.partition === partition ? Math.min(Number(high), Number(at.offset) + 1) : 0 }
        : { from: last ? Math.max(Number(low), Number(high) - last) : Number(low), to: Number(high) }])
      .filter(([, { from, to }]) => to > from),
  );
  const remaining = [...ranges.values()].reduce((sum, { from, to }) => sum + to - from, 0);
  if (remaining === 0) return [];

  const consumer = kafka.consumer({ groupId: `reader-${process.pid}-${Date.now()}` });
  await consumer.connect();
  // By position: a rebalance while reading (a broker that just came back) delivers messages again.
  const byPosition = new Map();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${byPosition.size} of ${remaining} messages of ${topic} in 20 s`)), 20_000);
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const range = ranges.get(partition);
          if (!range || Number(message.offset) < range.from || Number(message.offset) >= range.to) return;
          byPosition.set(`${partition}:${message.offset}`, { partition, ...message });
          if (byPosition.size === remaining) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch((error) => {
        clearTimeout(timer);
        reject(error);
      });
      for (const [partition, { from }] of ranges) consumer.seek({ topic, partition, offset: String(from) });
    });
  } finally {
    await consumer.disconnect();
  }
  const messages = [...byPosition.values()];
  return messages.sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
}
