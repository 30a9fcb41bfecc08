/**
 * What api-service makes of a client's own `traceparent`, in both settings of CLIENT_TRACEPARENT. It
 * restarts api-service (with CLIENT_TRACEPARENT=link, then as it was), so scripts/e2e.mjs runs it
 * after the trace tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { env, start, stop, traceIdOf, waitForTrace } from './support.mjs';

const SERVICES = ['api-service', 'billing-consumer', 'notifier-consumer'];

/** A client's own trace context, as a traced client (or anyone) would send it. */
function clientContext(flags) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${flags}` };
}

async function postWithTraceparent(traceparent, firstname) {
  const response = await fetch(`${env.apiUrl}/api/v1/students`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent },
    body: JSON.stringify({ firstname, lastname: 'Client' }),
  });
  assert.equal(response.status, 201);
  return response;
}

const isNotified = (spans) => spans.some((s) => s.name === 'notify student');

describe('a client that sends its own traceparent', () => {
  it('by default (CLIENT_TRACEPARENT unset): the request joins the client trace, under the client span', async () => {
    const client = clientContext('01');
    const traceId = traceIdOf(await postWithTraceparent(client.traceparent, 'Parent'));
    assert.equal(traceId, client.traceId, 'the client picked the trace id');
    const { spans } = await waitForTrace(traceId, isNotified);
    const server = spans.find((s) => s.kind === 'server');
    assert.equal(server.parentId, client.spanId, 'the server span is the child of the client span');
    assert.deepEqual(server.links, []);
    assert.deepEqual([...new Set(spans.map((s) => s.service))].sort(), SERVICES);
  });

  it('with CLIENT_TRACEPARENT=link: a new trace, sampled whatever the client flag says, linked to the client span', async () => {
    process.env.CLIENT_TRACEPARENT = 'link';
    try {
      await stop('api-service');
      await start('api-service');
      // `-00`: the client did not sample its trace; by default nothing of this request would be recorded.
      const client = clientContext('00');
      const traceId = traceIdOf(await postWithTraceparent(client.traceparent, 'Link'));
      assert.notEqual(traceId, client.traceId, 'the API picked the trace id');
      const { spans } = await waitForTrace(traceId, isNotified);
      const server = spans.find((s) => s.kind === 'server');
      assert.equal(server.parentId, undefined, 'the server span is the root of the new trace');
      assert.deepEqual(
        server.links.map((link) => [link.traceID, link.spanID]),
        [[client.traceId, client.spanId]],
      );
      // The outbox still sends the message in the context it stored: one trace through all three services.
      assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [traceId]);
      assert.deepEqual([...new Set(spans.map((s) => s.service))].sort(), SERVICES);
      assert.equal(spans.find((s) => s.name === 'process student').parentId, spans.find((s) => s.name === 'send student').spanId);
    } finally {
      delete process.env.CLIENT_TRACEPARENT;
      await stop('api-service');
      await start('api-service');
    }
  });
});
