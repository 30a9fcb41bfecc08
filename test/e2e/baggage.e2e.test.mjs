/**
 * The whole propagation carrier: the load generator's baggage entry (`app.synthetic=true`) crosses
 * HTTP, the outbox of each service and both Kafka hops, and the baggage span processor copies it
 * onto every span of the trace. A request without it carries no such attribute.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openLoop, SYNTHETIC_BAGGAGE } from '../../scripts/lib/load.mjs';
import { env, findMessage, postStudent, query, traceIdOf, waitForTrace } from './support.mjs';

const SERVICES = ['api-service', 'billing-consumer', 'notifier-consumer'];
const isNotified = (spans) => spans.some((span) => span.name === 'notify student');

describe('baggage from the load generator', () => {
  it('crosses HTTP, both outboxes and both Kafka hops, and is an attribute of every span', async () => {
    const [result] = await openLoop({ apiUrl: env.apiUrl, rate: 1, seconds: 1 });
    assert.equal(result.status, 201);
    const { traceId } = result;

    const { spans } = await waitForTrace(traceId, isNotified);
    assert.deepEqual([...new Set(spans.map((span) => span.service))].sort(), SERVICES);
    const unmarked = spans.filter((span) => span.tags['app.synthetic'] !== 'true').map((span) => `${span.service} ${span.name}`);
    assert.deepEqual(unmarked, [], 'every span carries app.synthetic=true');

    // What each outbox stored for the relay: what the propagators injected, baggage included.
    const rows = await query(
      "SELECT topic, trace_context FROM outbox WHERE trace_context->>'traceparent' LIKE $1 ORDER BY topic",
      [`00-${traceId}-%`],
    );
    assert.deepEqual(rows.map((row) => row.topic), ['student', 'student-billing']);
    for (const row of rows) assert.equal(row.trace_context.baggage, SYNTHETIC_BAGGAGE, `the ${row.topic} outbox row`);

    // What the relays sent: the baggage header on both topics.
    for (const topic of ['student', 'student-billing']) {
      const message = await findMessage(topic, (m) => m.headers.traceparent?.includes(traceId));
      assert.equal(message.headers.baggage, SYNTHETIC_BAGGAGE, `the ${topic} message`);
    }
  });

  it('leaves a request without baggage unmarked', async () => {
    const response = await postStudent({ firstname: 'Real', lastname: 'Traffic' });
    assert.equal(response.status, 201);
    const { spans } = await waitForTrace(traceIdOf(response), isNotified);
    assert.deepEqual(spans.filter((span) => 'app.synthetic' in span.tags).map((span) => span.name), []);
  });
});
