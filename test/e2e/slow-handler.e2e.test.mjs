/**
 * A handler slower than the consumer's session: kafkajs heartbeats between messages, so a member
 * whose only message takes longer than the session timeout is evicted and the message delivered
 * again, unless the handler heartbeats while it waits. It restarts billing-consumer with
 * BILLING_DELAY_MS, and starts it again as usual afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postStudent, query, restartBillingWithDelay, sleep, traceIdOf, waitForTrace } from './support.mjs';

// Longer than the consumers' session (15 s, kafka-options.ts): only heartbeats during the wait keep
// billing in its group.
const DELAY_MS = 20_000;

describe('a billing slower than a Kafka session (BILLING_DELAY_MS 20 s)', () => {
  before(() => restartBillingWithDelay(DELAY_MS));
  after(() => restartBillingWithDelay(undefined));

  it('is processed once: one `process student` span, not a duplicate, one `send student-billing`', async () => {
    const response = await postStudent({ firstname: 'Slow', lastname: 'Billing' });
    assert.equal(response.status, 201);
    const { id } = await response.json();
    const traceId = traceIdOf(response);
    const isNotified = (spans) => spans.some((s) => s.name === 'notify student');
    await waitForTrace(traceId, isNotified, 60_000);
    // An evicted member rejoins after the message and is given it again: the second delivery's span
    // ends one more delay later.
    await sleep(DELAY_MS + 6000);
    const { spans } = await waitForTrace(traceId, isNotified);

    const processed = spans.filter((s) => s.name === 'process student');
    assert.equal(processed.length, 1, `delivered once, not ${processed.length} times`);
    assert.notEqual(processed[0].tags['app.billing.duplicate'], true);
    assert.equal(spans.filter((s) => s.name === 'send student-billing').length, 1);
    const [{ count }] = await query(`SELECT count(*)::int AS count FROM outbox WHERE topic = 'student-billing' AND key = $1`, [id]);
    assert.equal(count, 1, 'one student-billing message');
  });
});
