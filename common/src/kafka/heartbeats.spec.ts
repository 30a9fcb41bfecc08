import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { withHeartbeats } from './heartbeats.js';
import { HEARTBEAT_INTERVAL_MS } from './kafka-options.js';

Logger.overrideLogger(false);

describe('withHeartbeats', () => {
  it('heartbeats every interval while the work waits, and no more once it is done', async () => {
    let beats = 0;
    const result = await withHeartbeats(
      async () => {
        beats += 1;
      },
      async () => {
        await sleep(2 * HEARTBEAT_INTERVAL_MS + 200);
        return 'done';
      },
    );
    assert.equal(result, 'done');
    assert.equal(beats, 2);
    await sleep(HEARTBEAT_INTERVAL_MS + 100);
    assert.equal(beats, 2, 'no heartbeat after the work');
  });

  it('goes on with the work when a heartbeat fails (the group is rebalancing)', async () => {
    let beats = 0;
    const result = await withHeartbeats(
      async () => {
        beats += 1;
        throw new Error('The group is rebalancing, so a rejoin is needed');
      },
      async () => {
        await sleep(HEARTBEAT_INTERVAL_MS + 200);
        return 'done';
      },
    );
    assert.equal(beats, 1);
    assert.equal(result, 'done');
  });
});
