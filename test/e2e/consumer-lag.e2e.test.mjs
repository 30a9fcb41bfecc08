/**
 * Consumer-group lag per partition, from the brokers: the collector's kafka_metrics receiver asks
 * Kafka every 5 s how far each group's committed offset is behind the end of each partition
 * (kafka.consumer_group.lag, in Prometheus kafka_consumer_group_lag_ratio: its unit is "1"). Billing
 * is restarted with BILLING_DELAY_MS so that students pile up in `student`, then as usual: the lag
 * rises above 0 and falls back to 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { partitionCount, postStudent, promql, restartBillingWithDelay, waitFor } from './support.mjs';

const DELAY_MS = 3000;
const STUDENTS = 24;
const LAG = 'kafka_consumer_group_lag_ratio{group="billing-consumer",topic="student"}';

describe(`consumer-group lag while billing takes ${DELAY_MS} ms a student`, () => {
  before(() => restartBillingWithDelay(DELAY_MS));
  after(() => restartBillingWithDelay(undefined));

  it('is reported per partition, rises while students wait, and falls back to 0', async (t) => {
    for (let index = 0; index < STUDENTS; index++) {
      const response = await postStudent({ firstname: 'Lagging', lastname: `Student ${index}` });
      assert.equal(response.status, 201, await response.text());
    }
    const peak = await waitFor(`the lag of billing-consumer on student to rise above 0 (sum(${LAG}))`, async () => {
      const [total] = await promql(`sum(${LAG})`);
      return total?.value > 0 ? total.value : undefined;
    }, { timeoutMs: 30_000, intervalMs: 1000 });
    assert.ok(peak <= STUDENTS, `lag ${peak} is at most the ${STUDENTS} students posted`);
    const risen = Date.now();

    await waitFor(`the lag of billing-consumer on student to fall back to 0 (sum(${LAG}))`, async () => {
      const [total] = await promql(`sum(${LAG})`);
      return total?.value === 0 ? true : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1000 });
    t.diagnostic(`lag first seen: ${peak} messages; back to 0 ${((Date.now() - risen) / 1000).toFixed(1)} s later`);

    // One series per partition the group has committed an offset on (the students' keys spread them).
    const partitions = await partitionCount('student');
    const reported = (await promql(LAG)).map((series) => Number(series.labels.partition));
    assert.ok(reported.length > 1, `lag reported for partitions ${reported.join(', ')}`);
    assert.equal(new Set(reported).size, reported.length, 'one series per partition');
    assert.ok(reported.every((partition) => partition >= 0 && partition < partitions), `partitions ${reported.join(', ')} of ${partitions}`);
  });
});
