import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './backoff.js';

describe('backoffMs', () => {
  it('starts at the first delay and doubles it at each retry, up to the maximum', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, { firstMs: 500, maxMs: 5_000 }));
    assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });
});
