/**
 * What api-service's server span makes of a client's `traceparent` header with CLIENT_TRACEPARENT=link:
 * a real HTTP server in this process, instrumented as in the services.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useInMemoryTracing, useTracedHttpServer } from '../testing.js';

const tracing = useInMemoryTracing();

const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';
const sampled = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;
const notSampled = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-00`;

describe('CLIENT_TRACEPARENT=link: a new trace at the API, linked to the client', () => {
  const request = useTracedHttpServer(tracing, { CLIENT_TRACEPARENT: 'link' });

  it('starts a new trace with a root server span, linked to the client span', async () => {
    const span = await request(sampled);
    assert.ok(span, 'a server span');
    assert.notEqual(span.spanContext().traceId, CLIENT_TRACE_ID);
    assert.equal(span.parentSpanContext, undefined, 'a root span');
    assert.deepEqual(
      span.links.map(({ context }) => [context.traceId, context.spanId]),
      [[CLIENT_TRACE_ID, CLIENT_SPAN_ID]],
    );
  });

  it('samples the new trace by its own sampler: a not-sampled traceparent is recorded all the same', async () => {
    const span = await request(notSampled);
    assert.ok(span, 'a server span');
    assert.equal(span.parentSpanContext, undefined);
    assert.equal(span.links[0]?.context.spanId, CLIENT_SPAN_ID);
  });

  it('starts a trace without a link when the client sends no traceparent', async () => {
    const span = await request();
    assert.ok(span, 'a server span');
    assert.equal(span.parentSpanContext, undefined);
    assert.deepEqual(span.links, []);
  });
});
