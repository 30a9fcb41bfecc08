/**
 * The service graph Jaeger draws (System Architecture) from its dependencies API: an edge for every
 * span whose parent is in another service. The consumers continue the producer's trace as children
 * of its `send` span, so one POST gives api-service -> billing-consumer -> notifier-consumer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { env, postStudent, waitFor } from './support.mjs';

const STUDENTS = 3;
const EDGES = [
  ['api-service', 'billing-consumer'],
  ['billing-consumer', 'notifier-consumer'],
];

/** Jaeger's calls between services, by `parent -> child`, over the last hour. */
async function dependencies() {
  const params = new URLSearchParams({ endTs: String(Date.now()), lookback: String(3_600_000) });
  const response = await fetch(`${env.jaegerUrl}/api/dependencies?${params}`);
  if (!response.ok) throw new Error(`Jaeger answered ${response.status}: ${await response.text()}`);
  const { data } = await response.json();
  return Object.fromEntries(data.map(({ parent, child, callCount }) => [`${parent} -> ${child}`, callCount]));
}

describe('the service graph', () => {
  it(`Jaeger's dependencies API shows api-service -> billing-consumer -> notifier-consumer, ${STUDENTS} calls more each`, async () => {
    const before = await dependencies();
    for (let index = 0; index < STUDENTS; index++) {
      const response = await postStudent({ firstname: 'Graph', lastname: `Student ${index}` });
      assert.equal(response.status, 201, await response.text());
    }
    for (const [parent, child] of EDGES) {
      const edge = `${parent} -> ${child}`;
      const calls = await waitFor(`Jaeger's dependencies (${env.jaegerUrl}/dependencies) to count ${STUDENTS} more calls ${edge}`, async () => {
        const now = (await dependencies())[edge] ?? 0;
        return now - (before[edge] ?? 0) >= STUDENTS ? now : undefined;
      }, { timeoutMs: 30_000, intervalMs: 1000 });
      assert.ok(calls >= STUDENTS, `${edge}: ${calls}`);
    }
    // The notifier calls no other service: nothing leaves it but to itself.
    const fromNotifier = Object.keys(await dependencies()).filter((edge) => edge.startsWith('notifier-consumer -> ') && edge !== 'notifier-consumer -> notifier-consumer');
    assert.deepEqual(fromNotifier, []);
  });
});
