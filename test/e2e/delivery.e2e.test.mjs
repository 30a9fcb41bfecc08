/**
 * Nothing lost, nothing done twice: a redelivered message, a broker that goes away mid-stream and a
 * consumer stopped under load each leave every student billed exactly once, notified, and traced
 * end to end. It stops and starts Kafka and billing-consumer, so scripts/e2e.mjs runs it last.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { APP_ATTRIBUTES } from '@demo/common/telemetry';
import pg from 'pg';
import { percentile } from '../../scripts/lib/load.mjs';
import { SERVICES } from '../../scripts/stack/config.mjs';
import {
  connectionProblem,
  env,
  fetchTrace,
  findMessage,
  normalizeTrace,
  postStudent,
  postStudentsAtRate,
  produce,
  query,
  serviceLogLines,
  sleep,
  start,
  stop,
  traceIdOf,
  waitFor,
  waitForTrace,
} from './support.mjs';

const DUPLICATE = APP_ATTRIBUTES.billingDuplicate;

/**
 * Waits until every student is billed and notified and every trace is whole, then asserts that each
 * was billed exactly once; returns the figures the test prints.
 */
async function assertBilledOnceNotifiedAndTraced(posted, timeoutMs = 120_000) {
  const ids = posted.map((p) => p.id);
  await waitFor(
    `all ${ids.length} students to be billed`,
    async () => (await query('SELECT count(*)::int AS count FROM students WHERE id = ANY($1) AND fee_cents IS NOT NULL', [ids]))[0].count === ids.length,
    { timeoutMs, intervalMs: 1000 },
  );
  const notified = () => new Set(serviceLogLines('notifier-consumer').filter((l) => l.msg === 'notification sent').map((l) => l.studentId));
  await waitFor(`all ${ids.length} students to be notified`, () => ids.every((id) => notified().has(id)), { timeoutMs, intervalMs: 1000 });

  const billedMessages = await query(
    `SELECT key, count(*)::int AS count FROM outbox WHERE topic = 'student-billing' AND key = ANY($1) GROUP BY key`,
    [ids],
  );
  assert.equal(billedMessages.length, ids.length, 'a student-billing message for every student');
  assert.deepEqual(billedMessages.filter((m) => m.count !== 1), [], 'billed once: one student-billing message per student');
  const billedLines = serviceLogLines('billing-consumer').filter((l) => l.msg === 'student billed' && ids.includes(l.studentId));
  assert.equal(billedLines.length, ids.length, 'one "student billed" log line per student');

  // Each trace is complete once the notifier's span is in; the last batches may still be on the way.
  const complete = new Map();
  await waitFor(
    `all ${ids.length} traces to reach Jaeger with the notifier's span`,
    async () => {
      for (const { traceId } of posted.filter((p) => !complete.has(p.traceId))) {
        const data = await fetchTrace(traceId);
        const spans = data?.flatMap(normalizeTrace) ?? [];
        if (spans.some((s) => s.name === 'notify student')) complete.set(traceId, spans);
      }
      return complete.size === posted.length;
    },
    { timeoutMs: 90_000, intervalMs: 2000 },
  );
  await sleep(6000); // one more export interval: redelivered spans arrive after the first ones
  const traces = await Promise.all(posted.map(async ({ traceId }) => ({ traceId, spans: (await fetchTrace(traceId)).flatMap(normalizeTrace) })));
  const broken = traces.map(({ traceId, spans }) => [traceId, connectionProblem(spans, SERVICES)]).filter(([, problem]) => problem);
  assert.deepEqual(broken, [], 'every trace connected end to end');
  const count = (predicate) => traces.reduce((sum, { spans }) => sum + spans.filter(predicate).length, 0);
  return {
    traces,
    redeliveries: count((s) => s.name === 'process student') - posted.length,
    duplicatesSuppressed: count((s) => s.name === 'process student' && s.tags[DUPLICATE] === true),
    notificationsRepeated: count((s) => s.name === 'process student-billing') - posted.length,
  };
}

describe('a `student` message delivered twice', () => {
  it('updates the fee once, and the second delivery is acknowledged as a duplicate in the same trace', async () => {
    const response = await postStudent({ firstname: 'Twice', lastname: 'Delivered' });
    assert.equal(response.status, 201);
    const { id } = await response.json();
    const traceId = traceIdOf(response);
    const billed = await waitFor('the student to be billed', async () => (await query('SELECT billed_at FROM students WHERE id = $1 AND fee_cents IS NOT NULL', [id]))[0]);

    // The very message api-service sent, headers included, sent again as a redelivery would be.
    const original = await findMessage('student', (message) => message.key === id);
    await produce('student', { key: original.key, value: original.value, headers: original.headers });

    const isProcessedTwice = (spans) => spans.filter((s) => s.name === 'process student').length === 2;
    const { spans } = await waitForTrace(traceId, isProcessedTwice);
    const [first, second] = spans.filter((s) => s.name === 'process student').sort((a, b) => a.start - b.start);
    assert.equal(first.tags[DUPLICATE], false);
    assert.equal(second.tags[DUPLICATE], true, 'the second delivery is marked a duplicate');
    assert.equal(second.parentId, first.parentId, 'both deliveries are children of the same send student span');
    assert.notEqual(second.tags['otel.status_code'], 'ERROR', 'a duplicate is not an error');

    const [after] = await query('SELECT billed_at FROM students WHERE id = $1', [id]);
    assert.equal(after.billed_at.toISOString(), billed.billed_at.toISOString(), 'the fee was not updated again');
    const [{ count }] = await query(`SELECT count(*)::int AS count FROM outbox WHERE topic = 'student-billing' AND key = $1`, [id]);
    assert.equal(count, 1, 'one student-billing message');
    assert.equal(spans.filter((s) => s.name === 'send student-billing').length, 1);
  });
});

describe('a message left in the outbox by a process that died between its commit and the send', () => {
  it('is sent by the sweep within seconds, in the trace context stored with it, and the student is billed', async () => {
    // What api-service's transaction leaves behind, written directly: a student, and its message
    // committed a minute ago with the context of a request span, never handed to a relay.
    const traceId = randomBytes(16).toString('hex');
    const requestSpanId = randomBytes(8).toString('hex');
    const [{ id, created_at: createdAt }] = await query(
      `INSERT INTO students (firstname, lastname) VALUES ('Stranded', 'Outbox') RETURNING id, created_at`,
    );
    const eventId = randomUUID();
    await query(
      `INSERT INTO outbox (event_id, topic, key, payload, trace_context, created_at)
       VALUES ($1, 'student', $2, $3, $4, now() - interval '1 minute')`,
      [eventId, id, { eventId, id, firstname: 'Stranded', lastname: 'Outbox', createdAt }, { traceparent: `00-${traceId}-${requestSpanId}-01` }],
    );

    await waitFor('the sweep to send it, and billing to bill the student', async () =>
      (await query('SELECT 1 FROM students WHERE id = $1 AND fee_cents IS NOT NULL', [id]))[0], { timeoutMs: 15_000 });
    const [message] = await query('SELECT sent_at FROM outbox WHERE event_id = $1', [eventId]);
    assert.ok(message.sent_at, 'the outbox row is marked sent');
    const { spans } = await waitForTrace(traceId, (spans) => spans.some((s) => s.name === 'notify student'));
    const send = spans.find((s) => s.name === 'send student');
    assert.equal(send?.parentId, requestSpanId, 'send student is a child of the span stored with the message');
  });
});

/**
 * Tries for `durationMs` to lock the unsent outbox rows without waiting, as a sweep would; returns
 * when the first attempt found them locked, or undefined if none did.
 */
async function firstLockOfUnsentRows(durationMs) {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    for (const end = Date.now() + durationMs; Date.now() < end; await sleep(200)) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT id FROM outbox WHERE sent_at IS NULL FOR UPDATE NOWAIT');
      } catch (error) {
        if (error.code === '55P03') return new Date().toISOString(); // lock_not_available
        throw error;
      } finally {
        await client.query('ROLLBACK');
      }
    }
    return undefined;
  } finally {
    await client.end();
  }
}

describe('Kafka stopped for 30 s while students are posted', () => {
  it('keeps answering 201; once it is back every student is billed exactly once, notified and traced', async (t) => {
    const count = 200;
    const load = postStudentsAtRate(count, 5, 'Outage');
    await sleep(5000);
    const downAt = Date.now();
    await stop('kafka');
    const stoppedAt = Date.now();
    // Once the relays have noticed (a send to a dead broker fails within ~6 s), the unsent rows must
    // stay free: no sweep holds them locked while its sends wait for the broker.
    await sleep(8000);
    const lockedAt = await firstLockOfUnsentRows(10_000);
    await sleep(30_000 - (Date.now() - downAt));
    await start('kafka');
    const upAt = Date.now();
    const posted = await load;

    const duringOutage = posted.filter((p) => p.sentAt >= downAt && p.sentAt <= upAt);
    assert.ok(duringOutage.length >= 100, `${duringOutage.length} POSTs during the outage`);
    const figures = await assertBilledOnceNotifiedAndTraced(posted);

    // Each message committed while the broker was stopped has one successful `send student` span,
    // which says how many attempts the relay made, and at most one failed one (it was in flight when
    // the relay found the broker gone).
    const waited = new Set(posted.filter((p) => p.sentAt >= stoppedAt && p.sentAt <= upAt).map((p) => p.traceId));
    const duringOutageTraces = figures.traces.filter(({ traceId }) => waited.has(traceId));
    const sends = duringOutageTraces.map(({ spans }) => spans.filter((s) => s.name === 'send student'));
    const failed = (span) => span.tags['otel.status_code'] === 'ERROR';
    const successfulSends = sends.map((each) => each.filter((s) => !failed(s)));
    const failedSends = sends.map((each) => each.filter(failed).length);
    assert.deepEqual(successfulSends.map((each) => each.length).filter((n) => n !== 1), [], 'one successful send student per trace');
    assert.ok(Math.max(...failedSends) <= 1, `at most one failed send student per trace, not ${Math.max(...failedSends)}`);
    const attempts = successfulSends.map(([send]) => send.tags['app.outbox.attempts']);
    assert.ok(attempts.every((n) => n >= 2), `app.outbox.attempts on every send after the outage: ${attempts}`);
    assert.equal(lockedAt, undefined, `the unsent outbox rows were locked while Kafka was down (${lockedAt})`);

    // Posted once the broker had stopped: those posted while it shut down may still have got through.
    const [{ first_billed: firstBilled }] = await query(
      'SELECT min(billed_at) AS first_billed FROM students WHERE id = ANY($1)',
      [posted.filter((p) => p.sentAt >= stoppedAt && p.sentAt <= upAt).map((p) => p.id)],
    );
    const latencies = duringOutage.map((p) => p.latencyMs);
    t.diagnostic(
      `N=${count}, Kafka down ${((upAt - downAt) / 1000).toFixed(1)} s, ${duringOutage.length} POSTs meanwhile: ` +
        `all 201, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; ` +
        `first student of the outage billed ${((firstBilled.getTime() - upAt) / 1000).toFixed(1)} s after Kafka was back; ` +
        `failed send spans per trace at most ${Math.max(...failedSends)}, app.outbox.attempts ${Math.min(...attempts)}-${Math.max(...attempts)}; ` +
        `redeliveries ${figures.redeliveries}, duplicates suppressed ${figures.duplicatesSuppressed}, notifications repeated ${figures.notificationsRepeated}`,
    );
  });
});

describe('billing-consumer stopped (SIGTERM) under load and started again', () => {
  it('loses nothing and does nothing twice: every student billed once, notified, every trace whole', async (t) => {
    const count = 100;
    const load = postStudentsAtRate(count, 20, 'Shutdown');
    await sleep(2000);
    const cleanCloses = () => serviceLogLines('billing-consumer').filter((l) => l.context === 'Shutdown' && /^closed in/.test(l.msg)).length;
    const closesBefore = cleanCloses();
    const stopped = await stop('billing-consumer');
    assert.doesNotMatch(stopped, /killed/i, 'it stopped on SIGTERM, in time');
    assert.equal(cleanCloses(), closesBefore + 1, 'it closed cleanly (and exits 0)');
    await start('billing-consumer');
    const posted = await load;

    const figures = await assertBilledOnceNotifiedAndTraced(posted);
    t.diagnostic(
      `N=${count} at 20/s, billing-consumer stopped and started under load: ` +
        `redeliveries ${figures.redeliveries}, duplicates suppressed ${figures.duplicatesSuppressed}, notifications repeated ${figures.notificationsRepeated}`,
    );
  });
});
