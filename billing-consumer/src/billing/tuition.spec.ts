import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tuitionFeeCents, YEARLY_TUITION_CENTS } from './tuition.js';

describe('tuitionFeeCents', () => {
  it('gives 10% off to students registered from the 1st to the 15th of a month (UTC)', () => {
    assert.equal(tuitionFeeCents(new Date('2026-11-01T00:00:00Z')), 108_000);
    assert.equal(tuitionFeeCents(new Date('2026-11-15T23:59:59Z')), 108_000);
  });

  it('charges the full year from the 16th on', () => {
    assert.equal(tuitionFeeCents(new Date('2026-11-16T00:00:00Z')), YEARLY_TUITION_CENTS);
    assert.equal(tuitionFeeCents(new Date('2026-02-28T12:00:00Z')), 120_000);
  });

  it('decides by the UTC day, whatever the local time zone says', () => {
    // 15 Nov 23:30 in New York is already the 16th in UTC.
    assert.equal(tuitionFeeCents(new Date('2026-11-15T23:30:00-05:00')), 120_000);
  });
});
