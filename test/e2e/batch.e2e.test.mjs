/**
 * The notifier with KAFKA_CONSUME=each-batch: students billed while it is stopped wait in Kafka,
 * and it takes them in batches when it starts. Each student's `notify student` must still be in the
 * trace of its own POST, and every `poll` span linked to the messages it brought in. It restarts the
 * notifier (in batch mode, then as it was).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { env, normalizeTrace, partitionCount, postStudent, start, stop, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const TOPIC = 'student-billing';

/** The `poll student-billing` spans of the notifier since `since` (µs), each with its links. */
async function pollSpans(since) {
  const operation = encodeURIComponent(`poll ${TOPIC}`);
  const response = await fetch(`${env.jaegerUrl}/api/traces?service=notifier-consumer&operation=${operation}&start=${since}&limit=100`);
  assert.equal(response.status, 200);
  return (await response.json()).data.flatMap(normalizeTrace).filter((span) => span.name === `poll ${TOPIC}`);
}

describe('the notifier consuming in batches (KAFKA_CONSUME=each-batch)', () => {
  after(async () => {
    delete process.env.KAFKA_CONSUME;
    await stop('notifier-consumer');
    await start('notifier-consumer');
  });

  it('keeps each message of a batch in the trace of its own request, and links the poll span to each', async () => {
    const since = Date.now() * 1000;
    await stop('notifier-consumer');
    // One more student than the topic has partitions: at least two share a partition, so at least
    // one batch holds several messages.
    const count = (await partitionCount(TOPIC)) + 1;
    const traceIds = [];
    for (let i = 0; i < count; i += 1) {
      const response = await postStudent({ firstname: `Batch${i}`, lastname: 'Digest' });
      assert.equal(response.status, 201);
      traceIds.push(traceIdOf(response));
    }
    // All billed, waiting in student-billing for the notifier.
    for (const traceId of traceIds) await waitForTrace(traceId, (spans) => spans.some((s) => s.name === `send ${TOPIC}`));

    process.env.KAFKA_CONSUME = 'each-batch';
    await start('notifier-consumer');

    for (const traceId of traceIds) {
      const { spans } = await waitForTrace(traceId, (s) => s.some((span) => span.name === 'notify student'));
      const notify = spans.filter((s) => s.name === 'notify student');
      assert.equal(notify.length, 1, `one notify student in trace ${traceId}`);
      const send = spans.find((s) => s.name === `send ${TOPIC}`);
      assert.equal(notify[0].parentId, send.spanId, `notify student is the child of billing's send span in trace ${traceId}`);
    }

    const polls = await waitFor('poll spans linked to every message of the test', async () => {
      const found = await pollSpans(since);
      const linked = new Set(found.flatMap((span) => span.links.map((link) => link.traceID)));
      return traceIds.every((traceId) => linked.has(traceId)) ? found : undefined;
    });
    const batchSizes = polls.map((span) => span.tags['messaging.batch.message_count']);
    assert.ok(Math.max(...batchSizes) >= 2, `a batch of several messages (sizes ${batchSizes.join(', ')})`);
    for (const span of polls) {
      assert.equal(span.links.length, span.tags['messaging.batch.message_count'], 'one link per message of the batch');
      assert.equal(span.kind, 'client');
    }
  });
});
