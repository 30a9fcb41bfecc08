// The benchmark's report: a table on the terminal, a verdict against each target, bench/RESULTS.md,
// bench/results.json and bench/latency.svg (p99 against request rate, tracing on and off).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadStackConfig, REPO_ROOT, SERVICES } from '../stack/config.mjs';

/** The targets the project holds itself to (docs/benchmark.md#the-targets). */
const TARGETS = {
  headlineRate: 200,
  at100: { p50: 10, p99: 40 },
  pipelineCpuMsPerRequest: 11,
  throughputRatio: 0.9,
  idleRssMb: 120,
  // Every service on the confluent client, outbox and idempotency kept.
  confluent: { headlineRate: 200, at100P99: 40, pipelineCpuMsPerRequest: 8 },
};

const f = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const table = (header, rows) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

/** The highest rate tried whose end to end p99 stayed within the limit (0 if none did). */
function headlineRate(r, measures = r) {
  return Math.max(0, ...measures.on.steps.filter((step) => step.endToEnd.total?.p99 <= r.headlineP99Ms).map((step) => step.rate));
}

/** The confluent client's targets, when the run measured it. */
function confluentVerdicts(r) {
  if (!r.confluent) return [];
  const { on } = r.confluent;
  const headline = headlineRate(r, r.confluent);
  const e2e = on.cost.endToEnd.total;
  const cpu = on.cost.pipelineCpuMsPerRequest;
  const target = TARGETS.confluent;
  return [
    [`confluent client: end to end p99 <= ${r.headlineP99Ms} ms up to ${headline}/s (target >= ${target.headlineRate}/s)`, headline >= target.headlineRate],
    [`confluent client: end to end p99 at ${on.cost.rate}/s ${f(e2e?.p99)} ms (target <= ${target.at100P99} ms)`, e2e?.p99 <= target.at100P99],
    [`confluent client: CPU per request at ${on.cost.rate}/s, services + Kafka + Postgres + collector ${f(cpu, 2)} ms (target <= ${target.pipelineCpuMsPerRequest} ms)`, cpu <= target.pipelineCpuMsPerRequest],
  ];
}

/** The clients side by side: each row a measure, a column per client (section 6 of the report). */
function clientsTable(r) {
  const clients = [['kafkajs', r], ['confluent', r.confluent]];
  const at = (measures, rate) => measures.steps.find((step) => step.rate === rate);
  const servicesCpu = (step) => (step ? f(SERVICES.reduce((sum, s) => sum + step.usage[s].cpuPercent, 0), 0) : 'n/a');
  const rows = [
    [`highest rate with end to end p99 <= ${r.headlineP99Ms} ms`, (m) => `${headlineRate(r, m)}/s`],
    [`end to end p50 / p99 at ${r.on.cost.rate}/s, ms`, (m) => `${f(m.on.cost.endToEnd.total?.p50)} / ${f(m.on.cost.endToEnd.total?.p99)}`],
    [`CPU ms per request at ${r.on.cost.rate}/s: services + Kafka + Postgres + collector`, (m) => f(m.on.cost.pipelineCpuMsPerRequest, 2)],
    ...[...SERVICES, 'kafka'].map((name) => [`  of which ${name}`, (m) => f(m.on.cost.cpuMsPerRequest[name], 2)]),
    [`CPU of the three services at 100/s, % of a core, tracing on / off`, (m) => `${servicesCpu(at(m.on, 100))} / ${servicesCpu(at(m.off, 100))}`],
    ['throughput, 32 in flight, req/s, tracing on / off', (m) => `${f(m.on.throughput.requestsPerSecond, 0)} / ${f(m.off.throughput.requestsPerSecond, 0)}`],
    ...SERVICES.map((s) => [`idle RSS of ${s}, MB, tracing on / off`, (m) => `${f(m.on.idle[s], 0)} / ${f(m.off.idle[s], 0)}`]),
  ];
  return table(['', ...clients.map(([name]) => name)], rows.map(([label, value]) => [label, ...clients.map(([, m]) => value(m))]));
}

function verdicts(r) {
  const headline = headlineRate(r);
  const e2e = r.on.cost.endToEnd.total;
  const cpu = r.on.cost.pipelineCpuMsPerRequest;
  const ratio = r.on.throughput.requestsPerSecond / r.off.throughput.requestsPerSecond;
  const rss = r.on.idle;
  const notifier = rss['notifier-consumer'];
  const others = SERVICES.filter((s) => s !== 'notifier-consumer').map((s) => rss[s]);
  return [
    [`headline: end to end p99 <= ${r.headlineP99Ms} ms up to ${headline}/s (target >= ${TARGETS.headlineRate}/s)`, headline >= TARGETS.headlineRate],
    [`end to end at ${r.on.cost.rate}/s p50 ${f(e2e?.p50)} ms, p99 ${f(e2e?.p99)} ms (target <= ${TARGETS.at100.p50} / ${TARGETS.at100.p99} ms)`, e2e?.p50 <= TARGETS.at100.p50 && e2e?.p99 <= TARGETS.at100.p99],
    [`CPU per request at ${r.on.cost.rate}/s, services + Kafka + Postgres + collector ${f(cpu, 2)} ms (target <= ${TARGETS.pipelineCpuMsPerRequest} ms)`, cpu <= TARGETS.pipelineCpuMsPerRequest],
    [`tracing on/off throughput ${f(ratio, 2)} (target >= ${TARGETS.throughputRatio})`, ratio >= TARGETS.throughputRatio],
    [`spans lost at ${r.plan.completeness.rate}/s ${r.spans.lost}, traces not connected ${r.spans.notConnected} (target 0 / 0)`, r.spans.lost === 0 && r.spans.notConnected === 0],
    [
      `idle RSS ${SERVICES.map((s) => `${s} ${f(rss[s], 0)}`).join(', ')} MB (target <= ${TARGETS.idleRssMb} MB each, the notifier less than the others)`,
      SERVICES.every((s) => rss[s] <= TARGETS.idleRssMb) && others.every((v) => notifier < v),
    ],
    ...confluentVerdicts(r),
  ];
}

/** What one request costs (the `--cost` run, and section 2 of the report). */
function costTables(cost, idle) {
  const components = Object.keys(cost.cpuMsPerRequest);
  const cpuRows = [...components.map((name) => [name, f(cost.cpuMsPerRequest[name], 2)]), ['**services + Kafka + Postgres + collector**', `**${f(cost.pipelineCpuMsPerRequest, 2)}**`]];
  const statementRows = cost.statements.map(({ sql, perStudent }) => [f(perStudent, 2), `\`${sql.replace(/\|/g, '\\|')}\``]);
  const spanRows = Object.entries(cost.spanNames).map(([name, perTrace]) => [f(perTrace, 2), name]);
  const e2e = cost.endToEnd;
  const hopRows = Object.entries(e2e).map(([hop, p]) => [hop === 'total' ? '**total**' : hop, f(p.p50), f(p.p95), f(p.p99), f(p.max)]);
  return `${cost.students} students at ${cost.rate}/s for ${cost.seconds} s (POST p50 ${f(cost.http.p50)} ms, p99 ${f(cost.http.p99)} ms).

CPU ms per request (from /proc, over the run and until the pipeline had caught up):

${table(['component', 'CPU ms per request'], cpuRows)}

${f(cost.statementsPerStudent, 2)} SQL statements per student (pg_stat_statements, the relay's sweeps and the readiness checks included):

${table(['per student', 'statement'], statementRows)}

${f(cost.spansPerTrace, 2)} spans per trace, of which statements: api-service ${f(cost.pgSpansPerTrace['api-service'], 2)}, billing-consumer ${f(cost.pgSpansPerTrace['billing-consumer'], 2)}:

${table(['per trace', 'service and span'], spanRows)}

End to end (from the spans: the POST's server span start to the end of the notifier's \`process student-billing\`), hop by hop:

${table(['hop', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], hopRows)}
${idle ? `\nIdle RSS: ${SERVICES.map((s) => `${s} ${f(idle[s], 0)} MB`).join(', ')}.\n` : ''}`;
}

export function printCost(cost, idle) {
  console.log(`\n${costTables(cost, idle)}`);
}

function markdown(r) {
  const { versions } = loadStackConfig();
  const stepRows = r.on.steps.map((step, index) => {
    const off = r.off.steps[index];
    const e2e = step.endToEnd.total ?? {};
    return [`${step.rate}/s`, f(e2e.p50), f(e2e.p99), f(step.http.p50), f(step.http.p99), f(off?.http.p50), f(off?.http.p99), `${step.http.ok}/${step.http.count}`];
  });
  const throughputRows = [['on', r.on], ['off', r.off]].map(([mode, m]) => [`tracing ${mode}`, f(m.throughput.requestsPerSecond, 0), f(m.throughput.p50), f(m.throughput.p99), `${m.throughput.ok}/${m.throughput.count}`]);
  const rssRows = SERVICES.map((s) => [s, f(r.on.idle[s], 0), f(r.off.idle[s], 0)]);
  const verdictLines = verdicts(r).map(([text, met]) => `- ${met ? 'met' : '**missed**'}: ${text}`);
  return `# Benchmark results

${r.quick ? '> A `--quick` run: short, rough figures.\n\n' : ''}Measured by \`npm run bench\` on ${r.date.slice(0, 10)}, on ${r.machine}; load average
${f(r.loadAverageBefore, 2)} before the run. Everything runs on this one machine, over loopback: Kafka ${versions.kafka} (KRaft),
PostgreSQL ${versions.postgres}, the OpenTelemetry Collector ${versions.otelcol}, Jaeger (Go module ${versions.jaegerGoModule}), the three
services (tracing as in \`common/src/tracing.ts\`) and the load.

![p99 against request rate, tracing on and off](latency.svg)

## Verdict

${verdictLines.join('\n')}

## 1. The highest rate within ${r.headlineP99Ms} ms at p99

Open loop at each rate for ${r.plan.seconds} s (latency from the moment each request was due), rate after rate until end to
end p99 exceeds ${r.headlineP99Ms} ms at two rates in a row (200/s at least) with tracing on; tracing off runs the same rates. End to end comes from the spans, so
tracing off has the POST's latency only.

${table(['rate', 'end to end p50 ms', 'end to end p99 ms', 'POST p50 ms (on)', 'POST p99 ms (on)', 'POST p50 ms (off)', 'POST p99 ms (off)', '201s (on)'], stepRows)}

## 2. What one request costs, at ${r.on.cost.rate}/s, tracing on

${costTables(r.on.cost)}
## 3. What tracing costs: maximum throughput

A closed loop of 32 requests in flight for ${r.plan.throughputSeconds} s. Tracing off is the same build started with
\`OTEL_SDK_DISABLED=true\`.

${table(['', 'req/s', 'p50 ms', 'p99 ms', '201s'], throughputRows)}

## 4. Span completeness

${r.plan.completeness.rate}/s for ${r.plan.completeness.seconds} s with tracing on: ${r.spans.answered201} of ${r.spans.requests} POSTs answered 201,
${r.spans.expected} spans expected (${r.spans.perTrace} per trace: those of a whole trace), **${r.spans.lost} lost**, ${r.spans.notConnected} traces not
connected end to end.
Jaeger holds ${r.spans.spansHeld} spans of these traces in all.

## 5. Idle memory

Max RSS of each service over 5 s idle, after a restart.

${table(['service', 'RSS MB, tracing on', 'RSS MB, tracing off'], rssRows)}

Warm start of the native stack (\`npm run stack\` with its build cache filled): up in ${f(r.start.upSeconds)} s, first
complete trace ${f(r.start.firstTraceSeconds)} s after the start.
${r.confluent ? `
## 6. The Kafka clients side by side

Sections 1 to 5 run every service on kafkajs, the default. The same measures again with every service
on the confluent client (\`KAFKA_CLIENT=confluent\`), outbox and idempotency kept:

${clientsTable(r)}
` : ''}`;
}

/** p99 against request rate: end to end (tracing on), the POST with tracing on and off; the limit. */
function chart(r) {
  const width = 640;
  const height = 360;
  const margin = { left: 60, right: 190, top: 30, bottom: 50 };
  const rates = r.on.steps.map((step) => step.rate);
  const series = [
    ['end to end p99, tracing on', '#2ca02c', '', r.on.steps.map((step) => step.endToEnd.total?.p99)],
    ['POST p99, tracing on', '#d62728', '6 3', r.on.steps.map((step) => step.http.p99)],
    ['POST p99, tracing off', '#1f77b4', '2 3', r.off.steps.map((step) => step.http.p99)],
  ];
  const values = series.flatMap(([, , , v]) => v).filter((v) => v > 0);
  const [low, high] = [Math.max(0.5, Math.min(...values) / 1.5), Math.max(r.headlineP99Ms * 2, ...values) * 1.2];
  const x = (index) => margin.left + (rates.length === 1 ? 0 : index / (rates.length - 1)) * (width - margin.left - margin.right);
  const y = (v) => margin.top + (1 - (Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * (height - margin.top - margin.bottom);
  const ticks = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000].filter((t) => t >= low && t <= high);
  const lines = series.map(([label, color, dash, points], index) => {
    const drawn = points.map((v, i) => [x(i), v]).filter(([, v]) => Number.isFinite(v));
    const legendY = margin.top + index * 20;
    const dashes = dash ? ` stroke-dasharray="${dash}"` : '';
    return `<polyline points="${drawn.map(([px, v]) => `${px.toFixed(1)},${y(v).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dashes}/>
  ${drawn.map(([px, v]) => `<circle cx="${px.toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`).join('')}
  <line x1="${width - margin.right + 15}" y1="${legendY}" x2="${width - margin.right + 40}" y2="${legendY}" stroke="${color}" stroke-width="2"${dashes}/>
  <text x="${width - margin.right + 45}" y="${legendY + 4}">${label}</text>`;
  });
  const limitY = y(r.headlineP99Ms).toFixed(1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${margin.left}" y="18" font-size="13">p99 latency against request rate (ms, log scale)</text>
  ${ticks.map((t) => `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${margin.left - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`).join('\n  ')}
  <line x1="${margin.left}" x2="${width - margin.right}" y1="${limitY}" y2="${limitY}" stroke="#999" stroke-dasharray="1 2"/>
  <text x="${width - margin.right - 4}" y="${Number(limitY) - 4}" text-anchor="end" fill="#666">${r.headlineP99Ms} ms</text>
  ${rates.map((rate, i) => `<text x="${x(i)}" y="${height - margin.bottom + 18}" text-anchor="middle">${rate}/s</text>`).join('')}
  <text x="${(margin.left + width - margin.right) / 2}" y="${height - 12}" text-anchor="middle">POST /api/v1/students per second</text>
  ${lines.join('\n  ')}
</svg>
`;
}

export function writeResults(results) {
  const dir = path.join(REPO_ROOT, 'bench');
  mkdirSync(dir, { recursive: true });
  const text = markdown(results);
  writeFileSync(path.join(dir, 'RESULTS.md'), text);
  writeFileSync(path.join(dir, 'latency.svg'), chart(results));
  writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${text}`);
  const all = verdicts(results);
  for (const [text, met] of all) console.log(`${met ? 'MET   ' : 'MISSED'} ${text}`);
  const missed = all.filter(([, met]) => !met).length;
  console.log(missed === 0 ? `VERDICT: all ${all.length} targets met` : `VERDICT: ${all.length - missed} of ${all.length} targets met`);
}

// `node scripts/bench/report.mjs [bench/results.json]` writes the report and the chart again from a
// run's results, without running the benchmark.
if (import.meta.filename === process.argv[1]) {
  const { readFileSync } = await import('node:fs');
  writeResults(JSON.parse(readFileSync(process.argv[2] ?? path.join(REPO_ROOT, 'bench/results.json'), 'utf8')));
}
