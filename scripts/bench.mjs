#!/usr/bin/env node
// The benchmark, on the native stack: what tracing costs, how long a student takes from the POST to
// the notifier, whether every span reaches Jaeger under load, and how much memory and CPU the services
// use. Every figure is measured in this run; bench/RESULTS.md and bench/latency.svg get the results.
//
//   npm run bench                        the full run (about 8 minutes)
//   npm run bench -- --quick             a short run to try it out (about 2 minutes; figures are rough)
//
// The load comes from this process (scripts/lib/load.mjs), over loopback only.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { writeResults } from './bench/report.mjs';
import { connectionProblem, fetchTrace, normalizeTrace } from './lib/jaeger-traces.mjs';
import { closedLoop, endProgressLine, openLoop, percentile, progressLine, summarize } from './lib/load.mjs';
import { queryOnce } from './lib/postgres.mjs';
import { databaseUrl, loadStackConfig, REPO_ROOT, SERVICES } from './stack/config.mjs';
import { readPid } from './stack/processes.mjs';
import { poll } from './stack/readiness.mjs';

const { values: options } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const PLAN = options.quick
  ? { rates: [50, 200, 500], seconds: 4, throughputSeconds: 4, completeness: { rate: 500, seconds: 10 } }
  : { rates: [50, 200, 500], seconds: 15, throughputSeconds: 10, completeness: { rate: 500, seconds: 60 } };
const FOOTPRINT_RATE = 200;

const config = loadStackConfig();
const apiUrl = `http://127.0.0.1:${config.ports.api}`;
const jaegerUrl = `http://127.0.0.1:${config.ports.jaegerUi}`;
const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers: [`127.0.0.1:${config.ports.kafka}`], logLevel: kafkajs.logLevel.NOTHING });

const log = (message) => console.log(`[bench] ${message}`);
function stack(args, env = process.env) {
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/stack.mjs'), ...args], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`stack ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
}

const query = (sql) => queryOnce(databaseUrl(config), sql);

/** Waits until the outboxes are empty and both consumer groups have caught up: the next run starts clean. */
async function drain() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lag = async (groupId, topic) => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.reduce((sum, { partition, high }) => sum + Number(high) - Math.max(0, Number(partitions.find((p) => p.partition === partition)?.offset ?? 0)), 0);
    };
    const outcome = await poll(
      async () =>
        (await query('SELECT count(*)::int AS unsent FROM outbox WHERE sent_at IS NULL'))[0].unsent === 0 &&
        (await lag('billing-consumer', 'student')) === 0 &&
        (await lag('notifier-consumer', 'student-billing')) === 0,
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    if (outcome.timedOut) throw new Error('the pipeline did not catch up within 180 s');
  } finally {
    await admin.disconnect();
  }
}

/** RSS (max) and CPU (average % of one core) of each service while `during` runs. */
async function footprint(during) {
  const ticksPerSecond = 100;
  const read = (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    return { cpuTicks: Number(stat[11]) + Number(stat[12]), rssMb: rssKb / 1024 };
  };
  const pids = Object.fromEntries(SERVICES.map((service) => [service, readPid(config, service)]));
  const first = Object.fromEntries(SERVICES.map((service) => [service, read(pids[service])]));
  const maxRss = Object.fromEntries(SERVICES.map((service) => [service, first[service].rssMb]));
  const started = performance.now();
  const sampler = setInterval(() => {
    for (const service of SERVICES) maxRss[service] = Math.max(maxRss[service], read(pids[service]).rssMb);
  }, 250);
  const result = await during();
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const usage = Object.fromEntries(
    SERVICES.map((service) => {
      const last = read(pids[service]);
      return [service, { rssMb: Math.max(maxRss[service], last.rssMb), cpuPercent: ((last.cpuTicks - first[service].cpuTicks) / ticksPerSecond / seconds) * 100 }];
    }),
  );
  return { result, usage };
}

/** Fetches the traces of `traceIds` from Jaeger, a few at a time. */
async function fetchTraces(traceIds) {
  const traces = new Map();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < traceIds.length) {
        const traceId = traceIds[next++];
        traces.set(traceId, ((await fetchTrace(jaegerUrl, traceId)) ?? []).flatMap(normalizeTrace));
      }
    }),
  );
  return traces;
}

const ms = (microseconds) => microseconds / 1000;

/**
 * The way of one student through the pipeline, from its spans, in ms: the whole of it (POST start to
 * the notifier's consumer span end) and each hop, back to back, so the hops add up to the whole.
 */
function hops(spans) {
  const find = (predicate) => spans.find(predicate);
  const server = find((s) => s.kind === 'server');
  const commit = find((s) => s.service === 'api-service' && /^COMMIT/i.test(String(s.tags['db.query.text'] ?? '')));
  const processStudent = find((s) => s.name === 'process student');
  const sendStudent = find((s) => s.spanId === processStudent?.parentId);
  const processBilling = find((s) => s.name === 'process student-billing');
  const sendBilling = find((s) => s.spanId === processBilling?.parentId);
  if (!server || !commit || !sendStudent || !sendBilling || !processBilling) return undefined;
  return {
    total: ms(processBilling.end - server.start),
    'POST + INSERT': ms(commit.end - server.start),
    'outbox relay': ms(sendStudent.start - commit.end),
    'in student': ms(processStudent.start - sendStudent.start),
    billing: ms(sendBilling.start - processStudent.start),
    'in student-billing': ms(processBilling.start - sendBilling.start),
    notifier: ms(processBilling.end - processBilling.start),
  };
}

async function warmStart() {
  log('warm start: stopping the stack, then timing `npm run stack` to the first complete trace');
  stack(['down']);
  const begin = performance.now();
  // Jaeger keeps 10k traces by default; the span completeness run needs all of its 30k.
  stack(['up'], { ...process.env, JAEGER_MAX_TRACES: '40000' });
  const upSeconds = (performance.now() - begin) / 1000;
  const [{ traceId }] = await openLoop({ apiUrl, rate: 1, seconds: 1 });
  const outcome = await poll(async () => (await fetchTraces([traceId])).get(traceId).some((s) => s.name === 'notify student'), { timeoutMs: 60_000, intervalMs: 200 });
  if (outcome.timedOut) throw new Error('the first trace did not complete within 60 s');
  await sleep(6000); // every service's batch has been exported: take the spans of a whole trace
  const wholeTrace = (await fetchTraces([traceId])).get(traceId);
  return { upSeconds, firstTraceSeconds: (performance.now() - begin) / 1000, expectedSpans: spanCensus(wholeTrace) };
}

/**
 * How many spans of each service and name a trace holds. Connecting to Postgres makes spans only
 * when the pool opens a connection, so those are left out: every trace must hold all the others.
 */
function spanCensus(spans) {
  const census = {};
  for (const { service, name } of spans.filter((s) => !/^pg(-pool)?\.connect$/.test(s.name))) {
    census[`${service} ${name}`] = (census[`${service} ${name}`] ?? 0) + 1;
  }
  return census;
}

async function restartServices(tracing) {
  stack(['stop', ...SERVICES]);
  stack(['start', ...SERVICES], { ...process.env, OTEL_SDK_DISABLED: tracing ? 'false' : 'true' });
  await sleep(3000);
}

async function measureMode(tracing) {
  const mode = tracing ? 'on' : 'off';
  log(`tracing ${mode}: restarting the services`);
  await restartServices(tracing);
  const idle = (await footprint(() => sleep(5000))).usage;
  await openLoop({ apiUrl, rate: 100, seconds: 3 }); // warm-up: JIT, connection pools
  await drain();

  log(`tracing ${mode}: throughput, 32 requests in flight for ${PLAN.throughputSeconds} s`);
  const { results: saturated, requestsPerSecond } = await closedLoop({ apiUrl, concurrency: 32, seconds: PLAN.throughputSeconds });
  const throughput = { ...summarize(saturated, PLAN.throughputSeconds), requestsPerSecond };
  await drain();

  const rates = {};
  for (const rate of PLAN.rates) {
    const { result: results, usage } = await footprint(() =>
      openLoop({ apiUrl, rate, seconds: PLAN.seconds, onProgress: progressLine(`[bench] tracing ${mode}, ${rate}/s for ${PLAN.seconds} s`) }),
    );
    endProgressLine();
    await drain();
    rates[rate] = { http: summarize(results, PLAN.seconds), usage };
    if (tracing) {
      await sleep(6000); // the last spans are exported every few seconds
      const traces = await fetchTraces(results.map((r) => r.traceId).filter(Boolean));
      rates[rate].hops = [...traces.values()].map(hops).filter(Boolean);
    }
  }
  return { idle, throughput, rates };
}

async function completeness(expectedSpans) {
  const { rate, seconds } = PLAN.completeness;
  const results = await openLoop({ apiUrl, rate, seconds, onProgress: progressLine(`[bench] span completeness, ${rate}/s for ${seconds} s`) });
  endProgressLine();
  await drain();
  await sleep(10_000); // every exporter has sent its last batch
  log(`span completeness: fetching ${results.length} traces from Jaeger`);
  const traces = [...(await fetchTraces(results.map((r) => r.traceId).filter(Boolean))).values()];
  // A span is missing when a trace holds fewer spans of a service and name than a whole trace does.
  const missing = traces.map((spans) => {
    const census = spanCensus(spans);
    return Object.entries(expectedSpans).reduce((sum, [key, count]) => sum + Math.max(0, count - (census[key] ?? 0)), 0);
  });
  const perTrace = Object.values(expectedSpans).reduce((a, b) => a + b, 0);
  const answered201 = results.filter((r) => r.status === 201).length;
  return {
    requests: results.length,
    answered201,
    perTrace,
    expected: answered201 * perTrace,
    lost: missing.reduce((a, b) => a + b, 0) + (answered201 - traces.length) * perTrace,
    spansHeld: traces.reduce((sum, spans) => sum + spans.length, 0),
    notConnected: traces.filter((spans) => spans.length === 0 || connectionProblem(spans, SERVICES)).length,
  };
}

function hopPercentiles(allHops) {
  const names = Object.keys(allHops[0] ?? {});
  return Object.fromEntries(
    names.map((name) => {
      const values = allHops.map((h) => h[name]);
      return [name, { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: Math.max(...values) }];
    }),
  );
}

const started = new Date();
const loadAverageBefore = os.loadavg()[0];
const start = await warmStart();
log(`warm start: stack up in ${start.upSeconds.toFixed(1)} s, first complete trace at ${start.firstTraceSeconds.toFixed(1)} s`);
const off = await measureMode(false);
const on = await measureMode(true);
log(`span completeness: ${PLAN.completeness.rate}/s for ${PLAN.completeness.seconds} s, tracing on`);
const spans = await completeness(start.expectedSpans);

const results = {
  date: started.toISOString(),
  quick: options.quick,
  plan: PLAN,
  machine: `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.versions.node}`,
  loadAverageBefore,
  start,
  off,
  on,
  endToEnd: Object.fromEntries(PLAN.rates.map((rate) => [rate, hopPercentiles(on.rates[rate].hops)])),
  footprintRate: FOOTPRINT_RATE,
  spans,
};
writeResults(results);
