// Load on POST /api/v1/students, from its own process, for the benchmark and `npm run load`.
//
// Open loop: requests leave on a fixed schedule whether or not earlier ones have been answered, and
// each latency is measured from the moment its request was DUE. A closed-loop tool (a fixed number
// of connections, each waiting for its answer) sends less when the server slows down and so hides
// the queueing it should measure ("coordinated omission").

import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'John'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Backus'];

export function studentBody(index) {
  return JSON.stringify({
    firstname: FIRST_NAMES[index % FIRST_NAMES.length],
    lastname: `${LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length]} ${index}`,
  });
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Marks every request as load, not real traffic: a W3C baggage entry that travels with the trace
 * through the outbox and both Kafka hops, is copied onto every span as `app.synthetic`, and lets
 * the tail sampling overlay drop these traces (docs/trace-shape.md).
 */
export const SYNTHETIC_BAGGAGE = 'app.synthetic=true';

// node's HTTP client over kept-alive connections, not fetch(): it costs the load half the CPU per
// request (9 % against 20 % of a core at 200/s), and leaves that much more of the machine to the
// stack being measured.
const clients = {
  'http:': { module: http, agent: new http.Agent({ keepAlive: true }) },
  'https:': { module: https, agent: new https.Agent({ keepAlive: true }) },
};

/** Resolves to the status and headers once the whole answer is in; rejects when none comes. */
function post(url, body) {
  const { module, agent } = clients[url.protocol] ?? clients['http:'];
  return new Promise((resolve, reject) => {
    const request = module.request(
      url,
      { method: 'POST', agent, timeout: REQUEST_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), baggage: SYNTHETIC_BAGGAGE } },
      (response) => {
        response.on('error', reject).on('end', () => resolve(response)).resume();
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    request.on('error', reject).end(body);
  });
}

async function postOne(apiUrl, index, dueAt) {
  try {
    const response = await post(new URL('/api/v1/students', apiUrl), studentBody(index));
    const traceId = /^00-([0-9a-f]{32})-/.exec(response.headers.traceresponse ?? '')?.[1];
    return { status: response.statusCode, latencyMs: performance.now() - dueAt, traceId };
  } catch (error) {
    return { status: 0, latencyMs: performance.now() - dueAt, error: error.code ?? error.name };
  }
}

/**
 * POSTs `rate` students a second for `seconds`, open loop. `onProgress` is called about once a second
 * with the results so far. Resolves to every result: status (0 when no answer), latency, trace id.
 */
export async function openLoop({ apiUrl, rate, seconds, onProgress = () => {} }) {
  const total = Math.round(rate * seconds);
  const results = [];
  const pending = [];
  const begin = performance.now();
  const progress = setInterval(() => onProgress(results, total), 1000);
  try {
    for (let index = 0; index < total; index += 1) {
      const dueAt = begin + (index * 1000) / rate;
      const wait = dueAt - performance.now();
      if (wait > 1) await sleep(wait);
      pending.push(postOne(apiUrl, index, dueAt).then((result) => results.push(result)));
    }
    await Promise.all(pending);
  } finally {
    clearInterval(progress);
  }
  return results;
}

/** POSTs as fast as `concurrency` requests in flight allow, for `seconds`: the maximum throughput. */
export async function closedLoop({ apiUrl, concurrency, seconds }) {
  const results = [];
  const end = performance.now() + seconds * 1000;
  let index = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        results.push(await postOne(apiUrl, index++, performance.now()));
      }
    }),
  );
  return { results, requestsPerSecond: results.filter((r) => r.status === 201).length / seconds };
}

/** An `onProgress` that rewrites one line on a terminal, and prints a line every 10 s elsewhere. */
export function progressLine(label) {
  let printedAt = performance.now();
  return (done, total) => {
    const line = `${label}: ${done.length}/${total} answered, ${done.filter((r) => r.status === 201).length} created`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${line}   `);
    } else if (performance.now() - printedAt >= 10_000) {
      printedAt = performance.now();
      console.log(line);
    }
  };
}

/** Ends the line `progressLine` rewrote. */
export const endProgressLine = () => process.stdout.isTTY && process.stdout.write('\n');

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Count, statuses, achieved rate and latency percentiles of a run, for a table or a summary line. */
export function summarize(results, seconds) {
  const statuses = {};
  for (const { status, error } of results) statuses[status || error] = (statuses[status || error] ?? 0) + 1;
  const latencies = results.map((r) => r.latencyMs);
  return {
    count: results.length,
    ok: results.filter((r) => r.status === 201).length,
    statuses,
    perSecond: results.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
  };
}
