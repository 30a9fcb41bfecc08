import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher.js';
import { Outbox } from './outbox.js';
import { OutboxMessage } from './outbox-message.entity.js';

const committedMessage = (id: number) => Object.assign(new OutboxMessage(), { id: String(id), topic: 'student', key: `student-${id}` });

describe('Outbox', () => {
  it('keeps at most 1,000 committed messages in memory: the others wait in the table for the sweep', () => {
    // The relay is not started: nothing is sent, as when Kafka is slower than the commits.
    const outbox = new Outbox(undefined as unknown as DataSource, undefined as unknown as EventPublisher, ['student']);
    for (let id = 1; id <= 1_500; id += 1) outbox.afterCommit(committedMessage(id));
    assert.equal(outbox.waitingInMemory, 1_000);
  });
});
