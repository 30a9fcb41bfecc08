/**
 * What a developer uses to look inside the pipeline: the header peek, the time a message waited in
 * its topic, and the load generator. It restarts billing-consumer (with BILLING_DELAY_MS), so
 * scripts/e2e.mjs runs it after the trace tests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { env, postStudent, query, run, sleep, start, stop, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const TIME_IN_QUEUE = 'app.messaging.time_in_queue_ms';

async function registerStudent(firstname) {
  const response = await postStudent({ firstname, lastname: 'Visible' });
  assert.equal(response.status, 201);
  const { id } = await response.json();
  return { id, traceId: traceIdOf(response) };
}

const isNotified = (spans) => spans.some((s) => s.name === 'notify student');

describe('npm run peek', () => {
  it('shows the traceparent header of the message a POST produced, with its Jaeger link', async () => {
    const { id, traceId } = await registerStudent('Peek');
    await waitForTrace(traceId, isNotified);
    const output = run('node --disable-warning=TimeoutNegativeWarning scripts/peek.mjs student --count 3');
    assert.match(output, new RegExp(`key ${id}`), output);
    assert.match(output, new RegExp(`traceparent: 00-${traceId}-[0-9a-f]{16}-01 +${env.jaegerUrl}/trace/${traceId}`), output);
  });

  it('answers a bad call with its usage', () => {
    assert.throws(() => run('node scripts/peek.mjs'), (error) => error.status === 2 && /usage: npm run peek/.test(error.stderr));
  });
});

describe('time in queue', () => {
  it('is on every consumer span, and shows billing falling behind when BILLING_DELAY_MS slows it', async () => {
    const delayMs = 1500;
    process.env.BILLING_DELAY_MS = String(delayMs);
    try {
      await stop('billing-consumer');
      await start('billing-consumer');
      // Four students on three partitions: at least two share one, and the second waits for the first.
      const students = await Promise.all(['Queue1', 'Queue2', 'Queue3', 'Queue4'].map(registerStudent));
      const traces = await Promise.all(students.map(({ traceId }) => waitForTrace(traceId, isNotified, 60_000)));
      const consumerSpans = traces.flatMap(({ spans }) => spans.filter((s) => s.kind === 'consumer'));
      assert.equal(consumerSpans.length, 8);
      for (const span of consumerSpans) assert.equal(typeof span.tags[TIME_IN_QUEUE], 'number', `${span.name} carries ${TIME_IN_QUEUE}`);
      const longest = Math.max(...consumerSpans.filter((s) => s.name === 'process student').map((s) => s.tags[TIME_IN_QUEUE]));
      assert.ok(longest >= delayMs, `a student waited ${longest} ms in \`student\`, at least the ${delayMs} ms billing took for the one before`);
    } finally {
      delete process.env.BILLING_DELAY_MS;
      await stop('billing-consumer');
      await start('billing-consumer');
    }
  });
});

/** The `traces_span_metrics_calls_total` counters, by service, span name and kind. */
async function spanCalls() {
  const text = await (await fetch(env.metricsUrl)).text();
  const calls = {};
  for (const [, labels, value] of text.matchAll(/^traces_span_metrics_calls_total\{(.*)\} (\S+)$/gm)) {
    const label = (name) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1];
    const key = `${label('service_name')} ${label('span_name')} ${label('span_kind')}`;
    calls[key] = (calls[key] ?? 0) + Number(value);
  }
  return calls;
}

describe('RED metrics from the spans', () => {
  it('count the calls of each service, at the collector, as many as the students posted', async () => {
    const spans = [
      'api-service POST /api/v1/students SPAN_KIND_SERVER',
      'billing-consumer process student SPAN_KIND_CONSUMER',
      'notifier-consumer process student-billing SPAN_KIND_CONSUMER',
    ];
    // Spans reach the metrics up to ~10 s late (the SDK's batch, then the connector's 5 s flush):
    // count from a moment when earlier requests are all in.
    let previous = await spanCalls();
    const before = await waitFor('the span metrics to settle', async () => {
      await sleep(6000);
      const calls = await spanCalls();
      const settled = JSON.stringify(calls) === JSON.stringify(previous);
      previous = calls;
      return settled ? calls : undefined;
    }, { timeoutMs: 60_000, intervalMs: 0 });
    const students = await Promise.all(['Metric1', 'Metric2', 'Metric3'].map(registerStudent));
    await Promise.all(students.map(({ traceId }) => waitForTrace(traceId, isNotified)));
    const after = await waitFor('the span metrics to count the three students', async () => {
      const calls = await spanCalls();
      return spans.every((span) => (calls[span] ?? 0) - (before[span] ?? 0) >= 3) ? calls : undefined;
    });
    for (const span of spans) assert.equal(after[span] - (before[span] ?? 0), 3, span);
  });
});

describe('npm run load', () => {
  it('posts students at the rate asked and sums up: all created', async () => {
    const [{ count: before }] = await query('SELECT count(*)::int AS count FROM students');
    const output = run('node --disable-warning=TimeoutNegativeWarning scripts/load.mjs --rate 10 --duration 2');
    assert.match(output, /load: 20 requests \(20 × 201\); latency p50 [\d.]+ ms, p99 [\d.]+ ms/, output);
    const [{ count: after }] = await query('SELECT count(*)::int AS count FROM students');
    assert.ok(after - before >= 20, `${after - before} students stored`);
  });
});
