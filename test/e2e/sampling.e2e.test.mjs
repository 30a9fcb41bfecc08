/**
 * Tail sampling (otel/collector-tail-sampling.yaml): the collector is restarted with the overlay
 * and its share of healthy traces set to 0 %, so that what Jaeger receives is exactly what the
 * policies keep. It restarts the collector twice, so scripts/e2e.mjs runs it last.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  env, fetchTrace, postStudent, produce, settledSpanCalls, sleep, spanCalls, start, startWithTailSampling, stop, traceIdOf, waitFor, waitForTrace,
} from './support.mjs';
import { SYNTHETIC_BAGGAGE } from '../../scripts/lib/load.mjs';

const SAMPLING = { TAIL_SAMPLING_PERCENTAGE: '0', TAIL_SAMPLING_DECISION_WAIT: '2s' };
const HEALTHY = 10;
const SERVER_SPAN = 'api-service POST /api/v1/students SPAN_KIND_SERVER';

/** Resolves once the restarted collector takes spans: its span metrics answer. */
const metricsAnswer = () => waitFor('the collector\'s span metrics to answer', async () => (await fetch(env.metricsUrl)).ok);

describe('tail sampling', () => {
  before(async () => {
    Object.assign(process.env, SAMPLING);
    await stop(env.collector);
    await startWithTailSampling(env.collector);
    await metricsAnswer();
  });

  after(async () => {
    for (const name of Object.keys(SAMPLING)) delete process.env[name];
    await stop(env.collector);
    await start(env.collector);
    await metricsAnswer();
  });

  it('keeps the error trace, drops the healthy ones, and the RED metrics still count every request', async () => {
    // Spans of earlier tests may still reach the restarted collector: count from when they are in.
    const before = (await settledSpanCalls())[SERVER_SPAN] ?? 0;
    const healthy = [];
    for (let i = 0; i < HEALTHY; i += 1) {
      const response = await postStudent({ firstname: `Sampled${i}`, lastname: 'Healthy' });
      assert.equal(response.status, 201);
      healthy.push(traceIdOf(response));
    }
    // An error trace: a message billing cannot process (its consumer span ends in ERROR).
    const errorTraceId = randomBytes(16).toString('hex');
    await produce('student', {
      key: randomUUID(),
      value: 'this is not a student',
      headers: { traceparent: `00-${errorTraceId}-${randomBytes(8).toString('hex')}-01` },
    });

    const { spans } = await waitForTrace(errorTraceId, (s) => s.some((span) => span.name === 'send student-dlt'));
    assert.equal(spans.find((span) => span.name === 'process student').tags['otel.status_code'], 'ERROR', 'kept: it has an error');

    // The healthy traces began before the error trace, so their 2 s decision came first: were any
    // kept, Jaeger would hold them by now. One more decision period, for certainty.
    await sleep(3000);
    const kept = [];
    for (const traceId of healthy) if (await fetchTrace(traceId)) kept.push(traceId);
    assert.deepEqual(kept, [], `healthy traces kept at TAIL_SAMPLING_PERCENTAGE=0: ${kept.join(', ')}`);

    // The metrics come from a pipeline in front of the sampler: every request counts.
    const counted = await waitFor(`the span metrics to count the ${HEALTHY} requests`, async () => {
      const calls = ((await spanCalls())[SERVER_SPAN] ?? 0) - before;
      return calls >= HEALTHY ? calls : undefined;
    });
    assert.equal(counted, HEALTHY, 'each POST counted once');
  });

  it('drops synthetic traffic (baggage app.synthetic=true), even a trace in error', async () => {
    /** A message billing cannot process, in a trace of its own: an error trace, kept unless dropped. */
    const poisonMessage = async (headers) => {
      const traceId = randomBytes(16).toString('hex');
      await produce('student', {
        key: randomUUID(),
        value: 'this is not a student',
        headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, ...headers },
      });
      return traceId;
    };
    const synthetic = await poisonMessage({ baggage: SYNTHETIC_BAGGAGE });
    const real = await poisonMessage({});

    // The real one was produced after the synthetic one: once it is kept, the synthetic one was decided.
    await waitForTrace(real, (s) => s.some((span) => span.name === 'send student-dlt'));
    await sleep(3000);
    assert.equal(await fetchTrace(synthetic), undefined, `synthetic error trace ${synthetic} dropped`);
  });
});
