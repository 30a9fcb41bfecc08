/**
 * The opt-in SPAN_START_CLOCK=precise (common/src/alternatives/span-start-clock.ts), under load: it
 * restarts the three services with it, then as they were. Besides what span-timing.e2e checks, a
 * synchronous child ends within its parent and starts are sub-millisecond.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TRACES_UNDER_LOAD, assertNoWarning, outOfParent, tracesUnderLoad } from './span-timing.mjs';
import { start, stop } from './support.mjs';
import { SERVICES } from '../../scripts/stack/config.mjs';

describe(`span timing in Jaeger, ${TRACES_UNDER_LOAD} traces taken under load, with SPAN_START_CLOCK=precise`, () => {
  let traces;
  before(async () => {
    process.env.SPAN_START_CLOCK = 'precise';
    await stop(...SERVICES);
    await start(...SERVICES);
    traces = await tracesUnderLoad();
  });
  after(async () => {
    delete process.env.SPAN_START_CLOCK;
    await stop(...SERVICES);
    await start(...SERVICES);
  });

  it('no span carries a Jaeger warning', (t) => assertNoWarning(t, traces));

  it('every child starts at or after its parent, and a synchronous one ends within it', (t) => {
    const { pairs, startsEarly, endsLate } = outOfParent(traces);
    t.diagnostic(`${pairs} parent/child pairs`);
    assert.deepEqual(startsEarly, [], 'children that start before their parent');
    assert.deepEqual(endsLate, [], 'children that end after their parent');
  });

  it('starts spans with sub-millisecond precision', () => {
    const spans = traces.flat();
    const wholeMillisecond = spans.filter((span) => span.start % 1000 === 0);
    // On a whole millisecond by chance: about one start in a thousand.
    assert.ok(wholeMillisecond.length <= spans.length / 100, `${wholeMillisecond.length} of ${spans.length} spans start on a whole millisecond`);
  });
});
