import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Logger } from '@nestjs/common';
import type { EventPublisher } from '../kafka/event-publisher.js';
import { OutboxRelay } from './outbox-relay.js';
import type { OutboxMessage, OutboxTable, UnsentQuery } from './outbox-table.js';

Logger.overrideLogger(process.env.DEBUG_RELAY ? ['warn', 'error'] : false);

/** The outbox table in memory, with the database's clock mocked like the relay's. */
class FakeTable {
  rows: (OutboxMessage & { createdAt: number; sentAt?: number })[] = [];
  updates: string[][] = [];
  failing = false;
  connected = true;

  insert(): OutboxMessage {
    const id = String(this.rows.length + 1);
    const message = { id, eventId: `event-${id}`, topic: 'student', key: `student-${id}`, payload: {}, traceContext: {} };
    this.rows.push({ ...message, createdAt: Date.now() });
    return message;
  }

  async sendUnsent({ topics, limit, olderThanSeconds }: UnsentQuery, send: (messages: OutboxMessage[]) => Promise<void>) {
    if (this.failing) throw new Error('Connection terminated');
    const unsent = this.rows.filter((row) => row.sentAt === undefined && topics.includes(row.topic) &&
      (olderThanSeconds === undefined || Date.now() - row.createdAt > olderThanSeconds * 1000));
    const batch = unsent.slice(0, limit);
    await send(batch);
    for (const row of batch) row.sentAt = Date.now();
    return batch;
  }

  async markSent(ids: string[]) {
    if (ids.length === 0) return;
    if (this.failing) throw new Error('Connection terminated');
    this.updates.push(ids);
    for (const row of this.rows) if (ids.includes(row.id)) row.sentAt = Date.now();
  }

  get unsent() {
    return this.rows.filter((row) => row.sentAt === undefined).map((row) => row.id);
  }
}

class FakePublisher {
  /** Ids of the messages sent, in order, repeats included. */
  sent: string[] = [];
  brokerChecks = 0;
  down = false;

  async publish(_topic: string, _key: string, _payload: object, eventId: string) {
    if (this.down) throw new Error('broker not available');
    this.sent.push(eventId.replace('event-', ''));
  }

  async checkBroker() {
    this.brokerChecks += 1;
    if (this.down) throw new Error('broker not available');
  }
}

describe('OutboxRelay', () => {
  let table: FakeTable;
  let publisher: FakePublisher;
  let relay: OutboxRelay;
  const commit = (count = 1) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const message = table.insert();
      relay.sendAfterCommit(message);
      ids.push(message.id);
    }
    return ids;
  };
  /** Steps until the relay asks to wait; returns the wait. */
  const stepUntilIdle = async () => {
    for (;;) {
      const waitMs = await relay.step();
      if (waitMs > 0) return waitMs;
    }
  };

  beforeEach(async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    table = new FakeTable();
    publisher = new FakePublisher();
    relay = new OutboxRelay(table as unknown as OutboxTable, publisher as unknown as EventPublisher, ['student']);
    await relay.step(); // the first sweep: nothing yet
  });

  afterEach(() => mock.timers.reset());

  it('sending: sends what was committed at once, and marks it in one UPDATE per 100 ms', async () => {
    commit(3);
    assert.equal(await relay.step(), 100, 'waits to mark');
    assert.deepEqual(publisher.sent, ['1', '2', '3']);
    mock.timers.tick(100);
    commit(2);
    await relay.step();
    assert.deepEqual(publisher.sent, ['1', '2', '3', '4', '5']);
    assert.deepEqual(table.updates, [['1', '2', '3', '4', '5']], 'five messages, one UPDATE');
    assert.equal(await relay.step(), 1_000, 'idle: the next sweep');
  });

  it('sweeps every second what no process sent for 5 s, and marks first: a message sent but unmarked goes once', async () => {
    table.insert(); // written by a process that died before sending it
    commit(1);
    await relay.step();
    assert.deepEqual(publisher.sent, ['2']);
    // Overloaded: no step for 6 s, and message 2 still unmarked when the sweep comes.
    mock.timers.tick(6_000);
    await relay.step();
    assert.deepEqual(publisher.sent, ['2', '1'], 'the stranded message swept, the unmarked one not sent again');
    assert.deepEqual(table.unsent, []);
  });

  it('leaves a message younger than 5 s to the process that wrote it', async () => {
    table.insert();
    mock.timers.tick(1_000);
    await relay.step();
    assert.deepEqual(publisher.sent, []);
  });

  it('failing: a failed send forgets memory, keeps the rows, and backs off 0.5 s, 1 s, 2 s, 4 s, 5 s', async () => {
    publisher.down = true;
    commit(2);
    assert.equal(await relay.step(), 500);
    assert.deepEqual(table.unsent, ['1', '2'], 'still in the table');
    commit(1);
    const waits = [];
    for (let attempt = 2; attempt <= 6; attempt += 1) waits.push(await relay.step());
    assert.deepEqual(waits, [1_000, 2_000, 4_000, 5_000, 5_000]);
    assert.equal(publisher.brokerChecks, 5, 'asks a broker before every attempt');
    assert.deepEqual(publisher.sent, [], 'no send tried while no broker answers');
  });

  it('recovers: once a broker answers, sends every unsent message oldest first, a batch at a time, then sends from memory again', async () => {
    publisher.down = true;
    commit(150);
    await relay.step();
    publisher.down = false;
    assert.equal(await relay.step(), 0, 'a full batch: the next one at once');
    assert.equal(publisher.sent.length, 100);
    await relay.step();
    assert.deepEqual(publisher.sent, Array.from({ length: 150 }, (_, i) => String(i + 1)), 'oldest first, once each');
    commit(1);
    await relay.step();
    assert.equal(publisher.sent.at(-1), '151', 'sending from memory again');
  });

  it('a failed mark leaves the rows unsent: they are sent again once Postgres answers (at least once)', async () => {
    commit(2);
    await relay.step();
    table.failing = true;
    mock.timers.tick(100);
    assert.equal(await relay.step(), 500);
    table.failing = false;
    await relay.step();
    assert.deepEqual(publisher.sent, ['1', '2', '1', '2']);
    assert.deepEqual(table.unsent, []);
  });

  it('keeps at most 1,000 messages in memory: the others wait in the table for the sweep', async () => {
    commit(1_500);
    await stepUntilIdle();
    assert.equal(publisher.sent.length, 1_000);
    assert.equal(table.unsent.length, 500);
  });

  it('stops after the last commits: what was committed before the stop is sent and marked', async () => {
    relay.onApplicationBootstrap();
    commit(2);
    await Promise.resolve();
    mock.timers.tick(10);
    commit(1); // e.g. a request that finished while HTTP closed
    await relay.onApplicationShutdown();
    assert.deepEqual(publisher.sent, ['1', '2', '3']);
    assert.deepEqual(table.unsent, []);
  });
});
