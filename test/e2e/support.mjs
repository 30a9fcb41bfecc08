/**
 * What the end-to-end tests need to reach a running stack. Every address comes from an environment
 * variable, with the native stack's defaults, so the same tests run against `docker compose up`.
 */
import assert from 'node:assert/strict';
import { exec, execSync } from 'node:child_process';
import { promisify } from 'node:util';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { fetchTrace as fetchJaegerTrace, normalizeTrace } from '../../scripts/lib/jaeger-traces.mjs';
import { headersOf, readMessages, withAdmin } from '../../scripts/lib/kafka-messages.mjs';
import { queryOnce } from '../../scripts/lib/postgres.mjs';
import { poll } from '../../scripts/stack/readiness.mjs';

export { connectionProblem, normalizeTrace } from '../../scripts/lib/jaeger-traces.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export const env = {
  apiUrl: process.env.API_URL ?? 'http://127.0.0.1:3000',
  jaegerUrl: process.env.JAEGER_URL ?? 'http://127.0.0.1:16686',
  /** The collector's span metrics, in the Prometheus text format. */
  metricsUrl: process.env.METRICS_URL ?? 'http://127.0.0.1:8889/metrics',
  /** Prometheus, which scrapes those metrics and the services' own (its PromQL API under /api/v1). */
  prometheusUrl: process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://students:students@127.0.0.1:5432/students',
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  /** Prints a service's log, `{service}` standing for its name; compose: `docker compose logs --no-log-prefix {service}`. */
  serviceLogCommand: process.env.SERVICE_LOG_COMMAND,
  /** VictoriaLogs, the log store: the services' log records, by way of the collector. */
  logsUrl: process.env.LOGS_URL ?? 'http://127.0.0.1:9428',
  logsDir: path.join(ROOT, '.stack', 'logs'),
  /** Readiness of the consumers (their health endpoints). */
  billingUrl: process.env.BILLING_URL ?? 'http://127.0.0.1:3001',
  notifierUrl: process.env.NOTIFIER_URL ?? 'http://127.0.0.1:3002',
  /**
   * Stop and start components by name, `{components}` standing for them. compose:
   * `docker compose stop {components}`, `docker compose up -d --no-deps --wait {components}`,
   * `docker compose up -d --no-deps {components}`.
   */
  stopCommand: process.env.STOP_COMMAND ?? 'node scripts/stack.mjs stop {components}',
  startCommand: process.env.START_COMMAND ?? 'node scripts/stack.mjs start {components}',
  startNoWaitCommand: process.env.START_NO_WAIT_COMMAND ?? 'node scripts/stack.mjs start --no-wait {components}',
  /**
   * Starts the collector with the tail sampling overlay (TAIL_SAMPLING_* variables are set by the
   * test); compose: `docker compose -f docker-compose.yml -f otel/tail-sampling.compose.yml up -d
   * --no-deps {components}`. COLLECTOR_COMPONENT is the collector's name: `otel-collector` in compose.
   */
  tailSamplingStartCommand: process.env.TAIL_SAMPLING_START_COMMAND ?? 'TAIL_SAMPLING=on node scripts/stack.mjs start {components}',
  collector: process.env.COLLECTOR_COMPONENT ?? 'collector',
};

/** Polls `probe` until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs = 30_000, intervalMs = 250 } = {}) {
  const outcome = await poll(probe, { timeoutMs, intervalMs });
  if (!outcome.timedOut) return outcome.result;
  const detail = outcome.lastError ? ` (last error: ${outcome.lastError.message})` : '';
  assert.fail(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

export function run(command) {
  return execSync(command, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command without blocking the event loop (requests in flight go on); resolves to its output. */
async function runInBackground(command) {
  return (await promisify(exec)(command, { cwd: ROOT, encoding: 'utf8' })).stdout;
}

const withComponents = (command, components) => command.replaceAll('{components}', components.join(' '));
export const stop = (...components) => runInBackground(withComponents(env.stopCommand, components));
export const start = (...components) => runInBackground(withComponents(env.startCommand, components));
export const startNoWait = (...components) => runInBackground(withComponents(env.startNoWaitCommand, components));
export const startWithTailSampling = (...components) => runInBackground(withComponents(env.tailSamplingStartCommand, components));

/** Restarts billing-consumer with BILLING_DELAY_MS (a billing that takes `delayMs` per student), or without it (`undefined`). */
export async function restartBillingWithDelay(delayMs) {
  if (delayMs === undefined) delete process.env.BILLING_DELAY_MS;
  else process.env.BILLING_DELAY_MS = String(delayMs);
  await stop('billing-consumer');
  await start('billing-consumer');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The HTTP status of a service's readiness endpoint, or 0 when nothing answers. */
export async function readiness(baseUrl) {
  try {
    return (await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(3000) })).status;
  } catch {
    return 0;
  }
}

export function postStudent(body) {
  return fetch(`${env.apiUrl}/api/v1/students`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * POSTs `count` students at a fixed rate, open loop: a slow answer does not hold back the next POST,
 * so an outage shows in the latencies instead of in fewer requests.
 */
export async function postStudentsAtRate(count, perSecond, lastname) {
  const begin = performance.now();
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      await sleep(Math.max(0, (index * 1000) / perSecond - (performance.now() - begin)));
      const sentAt = Date.now();
      const started = performance.now();
      const response = await postStudent({ firstname: `Student ${index}`, lastname });
      const latencyMs = performance.now() - started;
      const body = await response.text();
      assert.equal(response.status, 201, `POST ${index} of ${count} answered ${response.status}: ${body}`);
      return { id: JSON.parse(body).id, traceId: traceIdOf(response), sentAt, latencyMs };
    }),
  );
}

/** The trace id of a response, from its W3C `traceresponse` header. */
export function traceIdOf(response) {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(response.headers.get('traceresponse') ?? '');
  assert.ok(match, `a traceresponse header, got ${response.headers.get('traceresponse')}`);
  return match[1];
}

// ---------------------------------------------------------------------------------------------
// Jaeger

/** The root spans of the last traces Jaeger holds for `service`. */
export async function rootSpans(service) {
  const response = await fetch(`${env.jaegerUrl}/api/traces?service=${service}&limit=200&lookback=6h`);
  assert.equal(response.status, 200, `Jaeger answered ${response.status} to a search for ${service}`);
  const { data } = await response.json();
  return data.flatMap(normalizeTrace).filter((span) => span.parentId === undefined);
}

export const fetchTrace = (traceId) => fetchJaegerTrace(env.jaegerUrl, traceId);

/** Waits until Jaeger holds the trace with every span `isComplete` asks for, then returns its spans. */
export async function waitForTrace(traceId, isComplete, timeoutMs = 30_000) {
  const traces = await waitFor(
    `trace ${traceId} to be complete in Jaeger (${env.jaegerUrl}/trace/${traceId})`,
    async () => {
      const data = await fetchTrace(traceId);
      return data?.length && isComplete(data.flatMap(normalizeTrace)) ? data : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
  // Spans of a trace arrive in batches: wait one more moment and take the settled trace.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const settled = await fetchTrace(traceId);
  return { traces: settled, spans: settled.flatMap(normalizeTrace) };
}

export function isAncestor(spans, ancestor, span) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let current = byId.get(span.parentId); current; current = byId.get(current.parentId)) {
    if (current.spanId === ancestor.spanId) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Postgres, Kafka, logs

export const query = (sql, params = []) => queryOnce(env.databaseUrl, sql, params);

const kafka = new kafkajs.Kafka({
  clientId: 'e2e-test',
  brokers: env.kafkaBrokers,
  logLevel: kafkajs.logLevel.NOTHING,
});

/** The end offset of each partition of `topic`, as one string to compare. */
export function topicEndOffsets(topic) {
  return withAdmin(kafka, async (admin) =>
    (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => `${partition}:${high}`).sort().join(','),
  );
}

/** How many partitions `topic` has. */
export function partitionCount(topic) {
  return withAdmin(kafka, async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length);
}

/** The headers of the message at `partition`/`offset` of `topic`, decoded as strings. */
export async function messageHeaders(topic, partition, offset) {
  const [message] = await readMessages(kafka, topic, { at: { partition, offset } });
  assert.ok(message, `a message at ${topic}/${partition}@${offset}`);
  return headersOf(message);
}

/** What a test looks for was logged during the run: a stack that ran for days has logs of gigabytes. */
const LOG_TAIL_BYTES = 64 * 2 ** 20;

function logText(command, file) {
  if (command) return run(command);
  const fd = openSync(path.join(env.logsDir, file), 'r');
  try {
    const { size } = fstatSync(fd);
    const start = Math.max(0, size - LOG_TAIL_BYTES);
    const tail = Buffer.alloc(size - start);
    const text = tail.subarray(0, readSync(fd, tail, 0, tail.length, start)).toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1); // from the first whole line
  } finally {
    closeSync(fd);
  }
}

/** Produces one raw message, as any producer might (no instrumentation: headers are as given). */
export async function produce(topic, message) {
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}

/** Reads `topic` from the beginning until a message satisfies `matches`; its headers decoded. */
export async function findMessage(topic, matches, timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: `e2e-finder-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          const decoded = {
            key: message.key?.toString(),
            value: message.value?.toString(),
            headers: headersOf(message),
          };
          if (matches(decoded)) {
            clearTimeout(timer);
            resolve(decoded);
          }
        },
      }).catch((error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** The JSON log lines of a service. */
export function serviceLogLines(service) {
  return logText(env.serviceLogCommand?.replaceAll('{service}', service), `${service}.log`)
    .split('\n')
    .flatMap((line) => {
      try {
        return line.startsWith('{') ? [JSON.parse(line)] : [];
      } catch {
        return [];
      }
    });
}

/**
 * The log records the store holds for a LogsQL query (https://docs.victoriametrics.com/victorialogs/logsql/),
 * e.g. `trace_id:<id>`: each a flat object, the body as `_msg`, the OTLP attributes and resource
 * attributes as fields (`service.name`, `severity_text`, `span_id`, `studentId`...).
 */
export async function storedLogRecords(query, logsUrl = env.logsUrl) {
  const response = await fetch(`${logsUrl}/select/logsql/query?${new URLSearchParams({ query })}`);
  if (!response.ok) throw new Error(`VictoriaLogs (${logsUrl}) answered ${response.status} to ${query}: ${await response.text()}`);
  return (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** The series of a PromQL instant query, as { labels, value }. */
export async function promql(query) {
  const response = await fetch(`${env.prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = await response.json();
  if (body.status !== 'success') throw new Error(`Prometheus answered ${response.status} to ${query}: ${JSON.stringify(body)}`);
  return body.data.result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
}

/**
 * A counter of the collector's Prometheus endpoint, its series summed by `keyOf(label)`, where
 * `label(name)` reads one label of a series.
 */
export async function collectorCounter(metric, keyOf) {
  const response = await fetch(env.metricsUrl);
  if (!response.ok) throw new Error(`the collector's metrics (${env.metricsUrl}) answered ${response.status}`);
  const sums = {};
  for (const [, labels, value] of (await response.text()).matchAll(new RegExp(`^${metric}\\{(.*)\\} (\\S+)$`, 'gm'))) {
    const key = keyOf((name) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1]);
    sums[key] = (sums[key] ?? 0) + Number(value);
  }
  return sums;
}

/** The `traces_span_metrics_calls_total` counters, by service, span name and kind. */
export const spanCalls = () =>
  collectorCounter('traces_span_metrics_calls_total', (label) => `${label('service_name')} ${label('span_name')} ${label('span_kind')}`);

/**
 * The span call counters once earlier requests are all in: spans reach the metrics up to ~10 s
 * late (the SDK's batch, then the connector's 5 s flush), so two reads 6 s apart must agree.
 */
export async function settledSpanCalls() {
  let previous = await spanCalls();
  return waitFor('the span metrics to settle', async () => {
    await sleep(6000);
    const calls = await spanCalls();
    const settled = JSON.stringify(calls) === JSON.stringify(previous);
    previous = calls;
    return settled ? calls : undefined;
  }, { timeoutMs: 60_000, intervalMs: 0 });
}
