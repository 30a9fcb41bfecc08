// readMessages (scripts/lib/kafka-messages.mjs), which peek, dead-letters and the fault tests read
// topics with, against a client that delivers a message twice, as kafkajs does after a rebalance.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMessages } from '../scripts/lib/kafka-messages.mjs';

/** A topic of one partition holding offsets 0..2, whose consumer delivers `deliveries` in order. */
function fakeKafka(deliveries) {
  return {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicOffsets: async () => [{ partition: 0, low: '0', high: '3' }],
    }),
    consumer: () => ({
      connect: async () => {},
      disconnect: async () => {},
      subscribe: async () => {},
      seek: () => {},
      run: async ({ eachMessage }) => {
        for (const offset of deliveries) {
          await eachMessage({ partition: 0, message: { offset: String(offset), key: `key-${offset}`, timestamp: String(offset) } });
        }
      },
    }),
  };
}

test('reads every message of the topic once, however often the consumer delivers one', async () => {
  const messages = await readMessages(fakeKafka([0, 0, 1, 0, 2]), 'student-billing');
  assert.deepEqual(messages.map((message) => message.key), ['key-0', 'key-1', 'key-2']);
});
