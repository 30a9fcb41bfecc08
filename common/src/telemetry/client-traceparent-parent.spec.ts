/**
 * What api-service's server span makes of a client's `traceparent` header by default
 * (CLIENT_TRACEPARENT unset or `parent`): a real HTTP server in this process, instrumented as in the
 * services. client-traceparent-link.spec.ts tests the other setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useInMemoryTracing, useTracedHttpServer } from '../testing.js';

const tracing = useInMemoryTracing();

const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';
const sampled = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;
const notSampled = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-00`;

describe('CLIENT_TRACEPARENT=parent (the default): the client continues its trace', () => {
  const request = useTracedHttpServer(tracing, {});

  it('makes the server span the child of the client span, in the client trace', async () => {
    const span = await request(sampled);
    assert.ok(span, 'a server span');
    assert.equal(span.spanContext().traceId, CLIENT_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, CLIENT_SPAN_ID);
    assert.deepEqual(span.links, []);
  });

  it('lets the client turn sampling off: nothing is recorded for a not-sampled traceparent', async () => {
    assert.equal(await request(notSampled), undefined);
  });
});

