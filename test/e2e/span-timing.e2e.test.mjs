/**
 * Span timing with the SDK's clock, under load (span-timing.mjs says what Jaeger checks). By default
 * the OpenTelemetry JS SDK starts spans on a whole millisecond: starts stay in order, but a child may
 * end up to 1 ms after its parent in one process, and spans begun in the same millisecond sort at
 * random. The opt-in SPAN_START_CLOCK=precise makes that exact (span-start-clock.e2e.test.mjs).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TRACES_UNDER_LOAD, assertNoWarning, outOfParent, tracesUnderLoad } from './span-timing.mjs';

describe(`span timing in Jaeger, ${TRACES_UNDER_LOAD} traces taken under load (the SDK starts spans on a whole millisecond)`, () => {
  let traces;
  before(async () => {
    traces = await tracesUnderLoad();
  });

  it('no span carries a Jaeger warning', (t) => assertNoWarning(t, traces));

  it('every child starts at or after its parent', (t) => {
    const { pairs, startsEarly, endsLate } = outOfParent(traces);
    t.diagnostic(`${pairs} parent/child pairs; ${endsLate.length} synchronous children end after their parent (by less than 1 ms)`);
    assert.deepEqual(startsEarly, [], 'children that start before their parent');
  });
});
