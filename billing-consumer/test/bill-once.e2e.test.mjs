/**
 * Billing's idempotence under concurrency, against the stack's Postgres: two deliveries of one event
 * handled at the same time (two consumers during a rebalance) bill once. It runs the repository as
 * built (npm run build) with a TypeORM DataSource of its own, under a consumer group of its own, and
 * leaves nothing behind. The outbox's relay is not started: the event stays in the table, unsent.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Outbox } from '@demo/common/outbox';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { env, query } from '../../test/e2e/support.mjs';
import { BillingRepository } from '../dist/billing/billing.repository.js';

const CONSUMER_GROUP = 'bill-once-test';
const ROUNDS = 5;

describe('two deliveries of one event billed at the same time', () => {
  const dataSource = new DataSource({ type: 'postgres', url: env.databaseUrl });
  let repository;
  const studentIds = [];

  before(async () => {
    await dataSource.initialize();
    const relayNotStarted = { sendAfterCommit() {} };
    repository = new BillingRepository(new Outbox(dataSource, relayNotStarted), new ConfigService({ KAFKA_CONSUMER_GROUP: CONSUMER_GROUP }));
  });

  after(async () => {
    await query('DELETE FROM processed_events WHERE consumer_group = $1', [CONSUMER_GROUP]);
    await query(`DELETE FROM outbox WHERE topic = 'student-billing' AND key = ANY($1)`, [studentIds]);
    await query('DELETE FROM students WHERE id = ANY($1)', [studentIds]);
    await dataSource.destroy();
  });

  it('bill once and say duplicate once: one processed row, one outbox message, the fee written by the one that billed', async () => {
    // Several rounds: in each, both transactions start together and the second INSERT waits for the first.
    for (let round = 1; round <= ROUNDS; round += 1) {
      const [{ id, created_at: createdAt }] = await query(
        `INSERT INTO students (firstname, lastname) VALUES ('Concurrent', $1) RETURNING id, created_at`,
        [`Round${round}`],
      );
      studentIds.push(id);
      const eventId = randomUUID();
      const billing = (billedAt) => ({ id, firstname: 'Concurrent', lastname: `Round${round}`, createdAt, feeCents: 120_000, billedAt });
      const first = billing(new Date('2026-11-20T10:00:00.000Z'));
      const second = billing(new Date('2026-11-20T10:00:01.000Z'));

      const outcomes = await Promise.all([repository.billOnce(eventId, first), repository.billOnce(eventId, second)]);

      assert.deepEqual([...outcomes].sort(), ['billed', 'duplicate'], `round ${round}: ${outcomes}`);
      const winner = outcomes[0] === 'billed' ? first : second;
      const processed = await query('SELECT 1 FROM processed_events WHERE consumer_group = $1 AND event_id = $2', [CONSUMER_GROUP, eventId]);
      assert.equal(processed.length, 1, 'one processed_events row');
      const messages = await query(`SELECT payload FROM outbox WHERE topic = 'student-billing' AND key = $1`, [id]);
      assert.equal(messages.length, 1, 'one student-billing message');
      assert.equal(messages[0].payload.billedAt, winner.billedAt.toISOString(), 'the message is the one that billed');
      const [student] = await query('SELECT fee_cents, billed_at FROM students WHERE id = $1', [id]);
      assert.equal(student.fee_cents, 120_000);
      assert.equal(student.billed_at.toISOString(), winner.billedAt.toISOString(), 'the fee was written once, by the one that billed');
    }
  });
});
