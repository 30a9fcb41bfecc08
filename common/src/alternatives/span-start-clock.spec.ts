import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds, millisToHrTime } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { SpanStartClock } from './span-start-clock.js';

const clock = new SpanStartClock();
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [clock, new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');
after(() => provider.shutdown());

const ms = (span: ReadableSpan, time: 'startTime' | 'endTime') => hrTimeToMilliseconds(span[time]);

/** Busy-waits until `Date.now()` moves to the next millisecond, then `extraMs` more. */
function nextMillisecond(extraMs = 0): void {
  const now = Date.now();
  while (Date.now() === now);
  const tick = performance.now();
  while (performance.now() - tick < extraMs);
}

/**
 * A parent and a child, started `between` (a function that may wait) apart and ended child first;
 * `sameMillisecond` says whether `Date.now()` stayed the same from the parent's start to the child's.
 */
async function parentAndChild(between: () => void) {
  exporter.reset();
  const before = Date.now();
  const parent = tracer.startSpan('parent');
  between();
  tracer.startSpan('child', {}, trace.setSpan(context.active(), parent)).end();
  const sameMillisecond = Date.now() === before;
  parent.end();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  return { parent: spans.find((s) => s.name === 'parent')!, child: spans.find((s) => s.name === 'child')!, sameMillisecond };
}

describe('SpanStartClock', () => {
  it('starts a child begun in the same millisecond as its parent after it, with sub-millisecond precision', async () => {
    let spans;
    // Retried in the rare case the millisecond ticks between the two starts.
    for (let attempt = 0; attempt < 10 && !spans?.sameMillisecond; attempt++) {
      nextMillisecond();
      spans = await parentAndChild(() => {});
    }
    assert.ok(spans?.sameMillisecond, 'both started in one millisecond');
    const { parent, child } = spans;
    assert.ok(ms(child, 'startTime') > ms(parent, 'startTime'), `child starts at ${ms(child, 'startTime')}, parent at ${ms(parent, 'startTime')}`);
    assert.ok(!Number.isInteger(ms(parent, 'startTime')) || !Number.isInteger(ms(child, 'startTime')), 'sub-millisecond starts');
    assert.ok(ms(child, 'endTime') <= ms(parent, 'endTime'), 'the child ends inside its parent');
  });

  it('keeps a child begun just after a millisecond boundary inside its parent', async () => {
    // The parent starts late in a millisecond, the child early in the next one.
    nextMillisecond(0.6);
    const { parent, child } = await parentAndChild(() => nextMillisecond());
    assert.ok(ms(child, 'startTime') >= ms(parent, 'startTime'), 'the child starts after its parent');
    assert.ok(
      ms(child, 'endTime') <= ms(parent, 'endTime'),
      `the child ends ${(ms(child, 'endTime') - ms(parent, 'endTime')).toFixed(3)} ms after its parent`,
    );
  });

  it('measures durations on the monotonic clock, from the precise start', async () => {
    const { parent } = await parentAndChild(() => nextMillisecond(2));
    const duration = hrTimeToMilliseconds(parent.duration);
    assert.ok(duration >= 2 && duration < 50, `a parent of ${duration} ms`);
    assert.ok(Math.abs(ms(parent, 'endTime') - ms(parent, 'startTime') - duration) < 0.001, 'end = start + duration');
  });

  it('keeps a start and an end the caller gives, even the current millisecond', async () => {
    exporter.reset();
    const startTime = millisToHrTime(Date.now() - 5.25);
    const endTime = millisToHrTime(Date.now() - 1.5);
    tracer.startSpan('backdated', { startTime }).end(endTime);
    const now = Date.now();
    tracer.startSpan('now', { startTime: now }).end();
    await provider.forceFlush();
    const [backdated, started] = exporter.getFinishedSpans();
    assert.deepEqual(backdated!.startTime, startTime);
    assert.deepEqual(backdated!.endTime, endTime);
    assert.deepEqual(started!.startTime, millisToHrTime(now));
  });

  it('follows the wall clock when it is stepped, and only then', async (t) => {
    assert.equal(clock.followWallClock(), 0, 'no change while both clocks agree');
    const realNow = Date.now.bind(Date);
    t.mock.method(Date, 'now', () => realNow() + 5000);
    const moved = clock.followWallClock();
    assert.ok(Math.abs(moved - 5000) <= 2, `moved by ${moved} ms`);
    exporter.reset();
    const wallBefore = Date.now();
    tracer.startSpan('after the step').end();
    const wallAfter = Date.now();
    await provider.forceFlush();
    const start = ms(exporter.getFinishedSpans()[0]!, 'startTime');
    // Date.now() truncates to the millisecond: the start lies within [wallBefore, wallAfter + 1).
    assert.ok(start >= wallBefore - 0.5 && start < wallAfter + 1.5, `a span started at ${start}, the wall clock read ${wallBefore} before and ${wallAfter} after`);
  });
});
