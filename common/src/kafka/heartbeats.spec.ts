import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { setImmediate as settled } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { withHeartbeats } from './heartbeats.js';
import { HEARTBEAT_INTERVAL_MS } from './kafka-options.js';

Logger.overrideLogger(false);

/** Work that waits until the test ends it. */
function pendingWork() {
  let finish!: (value: string) => void;
  const done = new Promise<string>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

describe('withHeartbeats', () => {
  // Only setInterval: setImmediate stays real, to let a heartbeat's promise settle between ticks.
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  /** Moves the clock on by `ms`, then lets the heartbeats it started settle. */
  const elapse = async (ms: number) => {
    mock.timers.tick(ms);
    await settled();
  };

  it('heartbeats every interval while the work waits, and no more once it is done', async () => {
    let beats = 0;
    const { work, finish } = pendingWork();
    const running = withHeartbeats(async () => {
      beats += 1;
    }, work);

    await elapse(HEARTBEAT_INTERVAL_MS - 1);
    assert.equal(beats, 0, 'none before the first interval');
    await elapse(1);
    assert.equal(beats, 1);
    await elapse(HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 2);

    finish('done');
    assert.equal(await running, 'done');
    await elapse(3 * HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 2, 'no heartbeat after the work');
  });

  it('goes on with the work when a heartbeat fails (the group is rebalancing)', async () => {
    let beats = 0;
    const { work, finish } = pendingWork();
    const running = withHeartbeats(async () => {
      beats += 1;
      throw new Error('The group is rebalancing, so a rejoin is needed');
    }, work);

    await elapse(HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 1);
    await elapse(HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 2, 'the next interval tries again');
    finish('done');
    assert.equal(await running, 'done');
  });

  it('sends no heartbeat while the previous one is still waiting for the broker', async () => {
    let beats = 0;
    let answer!: () => void;
    const { work, finish } = pendingWork();
    const running = withHeartbeats(() => {
      beats += 1;
      return new Promise<void>((resolve) => (answer = resolve));
    }, work);

    await elapse(3 * HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 1);
    answer();
    await settled();
    await elapse(HEARTBEAT_INTERVAL_MS);
    assert.equal(beats, 2);
    finish('done');
    assert.equal(await running, 'done');
  });
});
