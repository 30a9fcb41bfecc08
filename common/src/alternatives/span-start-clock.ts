import type { Context } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** How often the clock compares itself with the wall clock. */
const CHECK_INTERVAL_MS = 10_000;
/** The longest a comparison may take to count; a longer one was interrupted and is read again. */
const MAX_READ_MS = 0.1;

/**
 * An alternative, with SPAN_START_CLOCK=precise: starts every span of the process on one
 * sub-millisecond clock, so that a child lies inside its parent and spans sort in the order they ran.
 * It reads and writes fields of the SDK's span outside its typings, so it is not on the default path.
 *
 * The SDK starts a span at `Date.now()`, a whole millisecond, and measures its duration on the
 * monotonic clock (`performance.now()`) from there (sdk-trace 3.1, Span.ts): two spans begun in the
 * same millisecond get the same start, and a child begun just after a millisecond boundary is put up
 * to 1 ms later than its parent, relative to it, so it can end after it. Jaeger then warns ("clock
 * skew adjustment disabled; not applying calculated delta") and orders such spans at random.
 * Upstream: opentelemetry-js issues #5019 and #6816 (no clock option yet), pull request #5804.
 *
 * The SDK has no clock to replace, but it hands every span to the span processors' `onStart` before
 * anyone else sees it, and computes a span's end from `startTime` plus the monotonic time elapsed
 * since the span's own monotonic start reading. So this processor sets `startTime` to that same
 * reading on a clock anchored once per process: `performance.timeOrigin` (the wall-clock time, in
 * microseconds, at which `performance.now()` is 0) plus `performance.now()`. Start and end are then
 * both that clock read when the span started and ended, and a child that lay inside its parent in
 * real time lies inside it in the trace; durations stay the SDK's. It works for every
 * instrumentation, since it needs no help from the code that starts spans.
 *
 * The SDK keeps that reading, and whether the caller gave a start (`startTime`, which is kept), on
 * the span, outside its typings (`_performanceStartTime`, `_startTimeProvided`); they are only read
 * here. Reading the clock in `onStart` instead would shift a span by the time between the SDK's
 * reading and `onStart`, a few microseconds, or milliseconds when the process is descheduled in
 * between, enough to push a child past its parent's end. Without those fields (another SDK version)
 * spans keep the SDK's start, and span-start-clock.spec.ts fails.
 *
 * The monotonic clock does not follow the wall clock when it is stepped (by NTP, or a virtual machine
 * resumed), so every 10 s the clock checks itself against `Date.now()` and, when they disagree by
 * more than the millisecond that `Date.now()` truncates, takes the wall clock's time again; a span
 * open across such a step keeps the old basis for its end. (core's `AnchoredClock` anchors on
 * `Date.now()`: each re-anchoring would move the basis by up to 1 ms.)
 */
export class SpanStartClock implements SpanProcessor {
  /** The wall-clock time, in ms since the epoch, at which `performance.now()` was 0. */
  private origin = performance.timeOrigin;
  private readonly check = setInterval(() => this.followWallClock(), CHECK_INTERVAL_MS).unref();

  /** Re-anchors when the wall clock moved; returns by how much, in ms (0 when it did not). */
  followWallClock(): number {
    for (let attempt = 0; attempt < 5; attempt++) {
      // Read between two monotonic readings: a process paused between the two clock reads (it
      // happens on a busy machine, for milliseconds) would look like a wall clock that moved.
      const before = performance.now();
      const wall = Date.now();
      const after = performance.now();
      if (after - before > MAX_READ_MS) continue;
      // Date.now() is this instant truncated to the millisecond: while both clocks agree, the
      // difference lies in (-1, 0]; a little more slack keeps rounding from moving the basis.
      const difference = wall - (this.origin + (before + after) / 2);
      if (difference > -2 && difference <= 1) return 0;
      const moved = difference + 0.5;
      this.origin += moved;
      return moved;
    }
    return 0;
  }

  onStart(span: Span, _parentContext: Context): void {
    const recorded = span as Span & { _performanceStartTime?: number; _startTimeProvided?: boolean };
    if (recorded._startTimeProvided !== false || typeof recorded._performanceStartTime !== 'number') return;
    (span as { startTime: Span['startTime'] }).startTime = millisToHrTime(this.origin + recorded._performanceStartTime);
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    clearInterval(this.check);
    return Promise.resolve();
  }
}
