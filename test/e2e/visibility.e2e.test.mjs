/**
 * What a developer uses to look inside the pipeline: the header peek, the time a message waited in
 * its topic, and the load generator. It restarts billing-consumer (with BILLING_DELAY_MS), so
 * scripts/e2e.mjs runs it after the trace tests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { APP_ATTRIBUTES } from '@demo/common/telemetry';
import { env, partitionCount, postStudent, query, restartBillingWithDelay, run, settledSpanCalls, spanCalls, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TIME_IN_QUEUE = APP_ATTRIBUTES.timeInQueueMs;

async function registerStudent(firstname) {
  const response = await postStudent({ firstname, lastname: 'Visible' });
  assert.equal(response.status, 201);
  const { id } = await response.json();
  return { id, traceId: traceIdOf(response) };
}

const isNotified = (spans) => spans.some((s) => s.name === 'notify student');
// Each service exports its spans on its own schedule: the notifier's may reach Jaeger before billing's.
const hasEveryConsumerSpan = (spans) => ['process student', 'process student-billing'].every((name) => spans.some((s) => s.name === name));

describe('npm run peek', () => {
  it('shows the traceparent header of the message a POST produced, with its Jaeger link', async () => {
    const { id, traceId } = await registerStudent('Peek');
    await waitForTrace(traceId, isNotified);
    const output = run('node --disable-warning=TimeoutNegativeWarning scripts/peek.mjs student --count 3');
    assert.match(output, new RegExp(`key ${id}`), output);
    assert.match(output, new RegExp(`traceparent: 00-${traceId}-[0-9a-f]{16}-01 +${env.jaegerUrl}/trace/${traceId}`), output);
  });

  it('runs as in the compose tools image: `npm run --silent peek`, addresses from the environment, no .env', async () => {
    const { traceId } = await registerStudent('Tools');
    await waitForTrace(traceId, isNotified);
    // The image's layout: package.json, scripts/ and node_modules, nothing else (.dockerignore).
    const image = mkdtempSync(path.join(tmpdir(), 'tools-image-'));
    try {
      cpSync(path.join(ROOT, 'package.json'), path.join(image, 'package.json'));
      cpSync(path.join(ROOT, 'scripts'), path.join(image, 'scripts'), { recursive: true });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(image, 'node_modules'));
      const output = execFileSync('npm', ['run', '--silent', 'peek', '--', 'student', '--count', '3'], {
        cwd: image,
        encoding: 'utf8',
        env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(','), JAEGER_URL: 'http://localhost:16686' },
      });
      assert.match(output, new RegExp(`traceparent: 00-${traceId}-[0-9a-f]{16}-01 +http://localhost:16686/trace/${traceId}`), output);
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });

  it('answers a bad call with its usage', () => {
    assert.throws(() => run('node scripts/peek.mjs'), (error) => error.status === 2 && /usage: npm run peek/.test(error.stderr));
  });
});

describe('time in queue', () => {
  it('is on every consumer span, and shows billing falling behind when BILLING_DELAY_MS slows it', async () => {
    const delayMs = 1500;
    try {
      await restartBillingWithDelay(delayMs);
      // One student more than `student` has partitions: two share one, and the second waits for the first.
      const names = Array.from({ length: (await partitionCount('student')) + 1 }, (_, i) => `Queue${i + 1}`);
      const students = await Promise.all(names.map(registerStudent));
      const traces = await Promise.all(students.map(({ traceId }) => waitForTrace(traceId, (spans) => isNotified(spans) && hasEveryConsumerSpan(spans), 60_000)));
      const consumerSpans = traces.flatMap(({ spans }) => spans.filter((s) => s.kind === 'consumer'));
      assert.equal(consumerSpans.length, 2 * students.length);
      for (const span of consumerSpans) assert.equal(typeof span.tags[TIME_IN_QUEUE], 'number', `${span.name} carries ${TIME_IN_QUEUE}`);
      const longest = Math.max(...consumerSpans.filter((s) => s.name === 'process student').map((s) => s.tags[TIME_IN_QUEUE]));
      assert.ok(longest >= delayMs, `a student waited ${longest} ms in \`student\`, at least the ${delayMs} ms billing took for the one before`);
    } finally {
      await restartBillingWithDelay(undefined);
    }
  });
});

describe('RED metrics from the spans', () => {
  it('count the calls of each service, at the collector, as many as the students posted', async () => {
    const spans = [
      'api-service POST /api/v1/students SPAN_KIND_SERVER',
      'billing-consumer process student SPAN_KIND_CONSUMER',
      'notifier-consumer process student-billing SPAN_KIND_CONSUMER',
    ];
    const before = await settledSpanCalls();
    const students = await Promise.all(['Metric1', 'Metric2', 'Metric3'].map(registerStudent));
    await Promise.all(students.map(({ traceId }) => waitForTrace(traceId, isNotified)));
    const after = await waitFor('the span metrics to count the three students', async () => {
      const calls = await spanCalls();
      return spans.every((span) => (calls[span] ?? 0) - (before[span] ?? 0) >= 3) ? calls : undefined;
    });
    for (const span of spans) assert.equal(after[span] - (before[span] ?? 0), 3, span);
  });

  it('reach Jaeger\'s Monitor tab through Prometheus: a call rate for each service', async () => {
    // What the Monitor tab asks: Jaeger turns it into PromQL for its metric backend (Prometheus),
    // which scrapes the collector. Entry spans: the server span, the consumer spans.
    const entries = { 'api-service': 'server', 'billing-consumer': 'consumer', 'notifier-consumer': 'consumer' };
    for (const [service, spanKind] of Object.entries(entries)) {
      const rates = await waitFor(`Jaeger's Monitor API to show calls of ${service} (${env.jaegerUrl}/monitor)`, async () => {
        const params = new URLSearchParams({ service, spanKind, endTs: String(Date.now()), lookback: '300000', step: '5000', ratePer: '60000' });
        const response = await fetch(`${env.jaegerUrl}/api/metrics/calls?${params}`);
        if (!response.ok) throw new Error(`Jaeger answered ${response.status}: ${await response.text()}`);
        const { metrics } = await response.json();
        const values = metrics.flatMap((metric) => metric.metricPoints.map((point) => Number(point.gaugeValue.doubleValue)));
        return values.some((value) => value > 0) ? values : undefined;
      }, { timeoutMs: 60_000, intervalMs: 2000 });
      assert.ok(Math.max(...rates) > 0, `${service}: ${rates}`);
    }
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
