/**
 * Infrastructure that is down: the services start without it and come up with it, and the API says
 * plainly that Postgres is unavailable instead of failing with a 500. It stops and starts the
 * infrastructure, so scripts/e2e.mjs runs it after the trace tests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERVICES } from '../../scripts/stack/config.mjs';
import { env, postStudent, readiness, start, startNoWait, stop, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const serviceUrls = () => [env.apiUrl, env.billingUrl, env.notifierUrl];

describe('services started before Kafka and Postgres', () => {
  it('answer live but not ready, then become ready once both are up, and carry a whole trace', async () => {
    await stop(...SERVICES);
    await stop('kafka', 'postgres');
    try {
      await startNoWait(...SERVICES);
      for (const url of serviceUrls()) {
        await waitFor(`${url} to answer /health/live`, async () => (await fetch(`${url}/health/live`)).ok);
        assert.equal(await readiness(url), 503, `${url} is not ready without Kafka and Postgres`);
      }
      const early = await postStudent({ firstname: 'Early', lastname: 'Bird' });
      assert.equal(early.status, 503, 'a POST before Postgres was ever reached is a 503, not a 500');
      assert.equal(early.headers.get('retry-after'), '5');
    } finally {
      await start('postgres', 'kafka');
    }
    for (const url of serviceUrls()) {
      await waitFor(`${url} to become ready`, async () => (await readiness(url)) === 200, { timeoutMs: 60_000 });
    }

    const response = await postStudent({ firstname: 'Late', lastname: 'Starter' });
    assert.equal(response.status, 201);
    const { spans } = await waitForTrace(traceIdOf(response), (s) => s.some((span) => span.name === 'notify student'), 60_000);
    assert.deepEqual([...new Set(spans.map((span) => span.service))].sort(), [...SERVICES].sort());
  });
});

describe('Postgres down', () => {
  it('makes the API answer 503 with a plain message, and not ready; it recovers when Postgres is back', async () => {
    await stop('postgres');
    try {
      const response = await postStudent({ firstname: 'Olga', lastname: 'Offline' });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.deepEqual(await response.json(), {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Postgres is unavailable, try again in a moment',
      });
      const lookup = await fetch(`${env.apiUrl}/api/v1/students/6f1c1a7e-4a52-4c5e-9a55-0c9d2b3f1e11`);
      assert.equal(lookup.status, 503);
      assert.equal(await readiness(env.apiUrl), 503);
    } finally {
      await start('postgres');
    }
    await waitFor('a POST to succeed again', async () => (await postStudent({ firstname: 'Olga', lastname: 'Online' })).status === 201);
    await waitFor('api-service to be ready again', async () => (await readiness(env.apiUrl)) === 200);
  });
});
