import type { Context } from '@opentelemetry/api';
import { hrTimeToMilliseconds, millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** How often the clock compares itself with the wall clock. */
const CHECK_INTERVAL_MS = 10_000;

/**
 * Starts every span of the process on one sub-millisecond clock, so that a child lies inside its
 * parent and spans sort in the order they ran.
 *
 * The SDK starts a span at `Date.now()`, a whole millisecond, and measures its duration on the
 * monotonic clock (`performance.now()`) from there (sdk-trace 3.1, Span.ts): two spans begun in the
 * same millisecond get the same start, and a child begun just after a millisecond boundary is put up
 * to 1 ms later than its parent, relative to it, so it can end after it. Jaeger then warns ("clock
 * skew adjustment disabled; not applying calculated delta") and orders such spans at random.
 * Upstream: opentelemetry-js issues #5019 and #6816 (no clock option yet), pull request #5804.
 *
 * The SDK has no clock to replace, but it hands every span to the span processors' `onStart` before
 * anyone else sees it, and computes a span's end from `startTime` plus the monotonic time since the
 * span was created. So this processor, run first, moves the start to the same instant read on a
 * clock anchored once per process: `performance.timeOrigin` (the wall-clock time, in microseconds,
 * at which `performance.now()` is 0) plus `performance.now()`. Durations stay the SDK's, on the
 * monotonic clock; the whole span moves by the microseconds `onStart` runs after the SDK read its
 * clock. Works for every instrumentation, since it needs no help from the code that starts spans.
 *
 * A start the caller gave (`startTime`: an `hrTime()`, a time from before) is kept. The SDK does not
 * say whether it chose the start itself; its own start is the current whole millisecond, so that is
 * what is moved. A caller that passes exactly `Date.now()` is taken for the SDK: the SDK then ends
 * that span at `Date.now()` too (unless given an end), so it may end up to 1 ms early, at worst at
 * its start. None of the instrumentations used here passes a start.
 * The monotonic clock does not follow the wall clock when it is stepped (by NTP, or a virtual machine
 * resumed), so every 10 s the clock checks itself against `Date.now()` and, when they disagree by
 * more than the millisecond that `Date.now()` truncates, takes the wall clock's time again. (core's
 * `AnchoredClock` anchors on `Date.now()`: each re-anchoring would move the basis by up to 1 ms.)
 */
export class SpanStartClock implements SpanProcessor {
  /** The wall-clock time, in ms since the epoch, at which `performance.now()` was 0. */
  private origin = performance.timeOrigin;
  private readonly check = setInterval(() => this.followWallClock(), CHECK_INTERVAL_MS).unref();

  /** Now, in ms since the epoch, with the monotonic clock's precision. */
  now(): number {
    return this.origin + performance.now();
  }

  /** Re-anchors when the wall clock moved; returns by how much, in ms (0 when it did not). */
  followWallClock(): number {
    // Date.now() is this instant truncated to the millisecond: while both clocks agree, the
    // difference lies in (-1, 0]; a little more slack keeps timer jitter from moving the basis.
    const difference = Date.now() - this.now();
    if (difference > -2 && difference <= 1) return 0;
    const moved = difference + 0.5;
    this.origin += moved;
    return moved;
  }

  onStart(span: Span, _parentContext: Context): void {
    const now = this.now();
    const start = hrTimeToMilliseconds(span.startTime);
    const startedBySdk = Number.isInteger(start) && now - start > -1 && now - start < 2;
    if (startedBySdk) (span as { startTime: Span['startTime'] }).startTime = millisToHrTime(now);
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
