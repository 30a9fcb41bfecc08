import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher.js';
import { Outbox } from './outbox.js';
import { OutboxMessage } from './outbox-message.entity.js';

const committedMessage = (id: number) =>
  Object.assign(new OutboxMessage(), { id: String(id), topic: 'student', key: `student-${id}`, payload: {}, traceContext: {} });

describe('Outbox', () => {
  it('keeps at most 1,000 committed messages in memory: the others wait in the table for the sweep', () => {
    // The relay is not started: nothing is sent, as when Kafka is slower than the commits.
    const outbox = new Outbox(undefined as unknown as DataSource, undefined as unknown as EventPublisher, ['student']);
    for (let id = 1; id <= 1_500; id += 1) outbox.afterCommit(committedMessage(id));
    assert.equal(outbox.waitingInMemory, 1_000);
  });

  it('marks the messages it sent in one UPDATE per 100 ms, and those still unmarked when it stops', async () => {
    const sent: string[] = [];
    const updates: string[][] = [];
    const events = { publish: async (_topic: string, key: string) => void sent.push(key) } as unknown as EventPublisher;
    // Not initialized: the relay skips its sweep of the table, and sends and marks what it is given.
    const dataSource = { isInitialized: false, manager: { update: async (_entity: unknown, ids: string[]) => void updates.push([...ids]) } };
    const outbox = new Outbox(dataSource as unknown as DataSource, events, ['student']);
    outbox.onApplicationBootstrap();
    let stopped = false;
    try {
      for (let id = 1; id <= 20; id += 1) {
        outbox.afterCommit(committedMessage(id));
        await sleep(10);
      }
      await sleep(150);
      const steady = updates.flat();
      assert.equal(sent.length, 20, 'every message sent at once');
      assert.deepEqual([...steady].sort((a, b) => Number(a) - Number(b)), sent.map((key) => key.replace('student-', '')), 'each marked once');
      assert.ok(updates.length <= 4, `20 messages over 200 ms marked in ${updates.length} UPDATEs`);

      for (let id = 21; id <= 23; id += 1) outbox.afterCommit(committedMessage(id));
      await sleep(20);
      stopped = true;
      await outbox.beforeApplicationShutdown();
      assert.deepEqual(updates.flat().slice(steady.length), ['21', '22', '23'], 'marked on the way out');
    } finally {
      // A failed assertion must not leave the relay running: the test would never end.
      if (!stopped) await outbox.beforeApplicationShutdown();
    }
  });
});
