// The benchmark's report: a table on the terminal, a verdict against the targets, bench/RESULTS.md
// and bench/latency.svg (latency percentiles against request rate, tracing on and off).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadStackConfig, REPO_ROOT, SERVICES } from '../stack/config.mjs';

const TARGETS = {
  throughputRatio: 0.9,
  endToEndRate: 200,
  endToEndP50: 25,
  endToEndP99: 100,
  rssMb: 150,
};

const f = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const table = (header, rows) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

function verdicts(r) {
  const ratio = r.on.throughput.requestsPerSecond / r.off.throughput.requestsPerSecond;
  const e2e = r.endToEnd[TARGETS.endToEndRate]?.total;
  const rss = SERVICES.map((s) => r.on.rates[r.footprintRate].usage[s].rssMb);
  const { lost } = r.spans;
  return [
    [`tracing on/off throughput ${f(ratio, 2)} (target >= ${TARGETS.throughputRatio})`, ratio >= TARGETS.throughputRatio],
    [
      `end to end at ${TARGETS.endToEndRate}/s p50 ${f(e2e?.p50)} ms, p99 ${f(e2e?.p99)} ms (target <= ${TARGETS.endToEndP50} / ${TARGETS.endToEndP99} ms)`,
      e2e?.p50 <= TARGETS.endToEndP50 && e2e?.p99 <= TARGETS.endToEndP99,
    ],
    [`spans lost ${lost}, traces not connected ${r.spans.notConnected} (target 0 / 0)`, lost === 0 && r.spans.notConnected === 0],
    [`max RSS traced at ${r.footprintRate}/s ${rss.map((v) => f(v, 0)).join(' / ')} MB (target < ${TARGETS.rssMb} MB each)`, rss.every((v) => v < TARGETS.rssMb)],
  ];
}

function markdown(r) {
  const { versions } = loadStackConfig();
  const modes = [['off', r.off], ['on', r.on]];
  const httpRows = modes.flatMap(([mode, m]) => [
    [`tracing ${mode}`, 'max (32 in flight)', f(m.throughput.requestsPerSecond, 0), f(m.throughput.p50), f(m.throughput.p99), `${m.throughput.ok}/${m.throughput.count}`],
    ...r.plan.rates.map((rate) => {
      const h = m.rates[rate].http;
      return [`tracing ${mode}`, `${rate}/s`, f(h.perSecond, 0), f(h.p50), f(h.p99), `${h.ok}/${h.count}`];
    }),
  ]);
  const hopNames = Object.keys(r.endToEnd[r.plan.rates[0]] ?? {});
  const e2eRows = r.plan.rates.flatMap((rate) =>
    hopNames.map((hop) => {
      const p = r.endToEnd[rate][hop];
      return [`${rate}/s`, hop === 'total' ? '**total**' : hop, f(p.p50), f(p.p95), f(p.p99), f(p.max)];
    }),
  );
  const usageRows = modes.flatMap(([mode, m]) =>
    SERVICES.map((s) => [
      s,
      `tracing ${mode}`,
      f(m.idle[s].rssMb, 0),
      f(m.idle[s].cpuPercent, 0),
      f(m.rates[r.footprintRate].usage[s].rssMb, 0),
      f(m.rates[r.footprintRate].usage[s].cpuPercent, 0),
    ]),
  );
  const verdictLines = verdicts(r).map(([text, met]) => `- ${met ? 'met' : '**missed**'}: ${text}`);
  return `# Benchmark results

${r.quick ? '> A `--quick` run: short, rough figures.\n\n' : ''}Measured by \`npm run bench\` on ${r.date.slice(0, 10)}, on ${r.machine}; load average
${f(r.loadAverageBefore, 2)} before the run. Everything runs on this one machine, over loopback: Kafka ${versions.kafka} (KRaft),
PostgreSQL ${versions.postgres}, the OpenTelemetry Collector ${versions.otelcol}, Jaeger (Go module ${versions.jaegerGoModule}), the three
services (tracing as in \`common/src/tracing.ts\`) and the load.

![latency percentiles against request rate](latency.svg)

## Verdict

${verdictLines.join('\n')}

## 1. What tracing costs: POST /api/v1/students

Open loop at a fixed rate for ${r.plan.seconds} s (latency from the moment each request was due), and
a closed loop of 32 requests in flight for ${r.plan.throughputSeconds} s for the maximum throughput. Tracing off is the
same build started with \`OTEL_SDK_DISABLED=true\`.

${table(['', 'load', 'req/s', 'p50 ms', 'p99 ms', '201s'], httpRows)}

## 2. End to end: from the POST to the notifier

From the spans of every traced request: the server span's start to the end of the notifier's
\`process student-billing\` span, and the hops in between (they add up to the total).

${table(['rate', 'hop', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], e2eRows)}

## 3. Span completeness

${r.plan.completeness.rate}/s for ${r.plan.completeness.seconds} s with tracing on: ${r.spans.answered201} of ${r.spans.requests} POSTs answered 201,
${r.spans.expected} spans expected (${r.spans.perTrace} per trace: those of a whole trace, less the pool's connection
spans, which only appear when a connection is opened), **${r.spans.lost} lost**, ${r.spans.notConnected} traces not connected end to end.
Jaeger holds ${r.spans.spansHeld} spans of these traces in all, connection spans included.

## 4. Footprint

Max RSS and average CPU (% of one core) of each service, idle for 5 s and at ${r.footprintRate}/s.

${table(['service', '', 'idle RSS MB', 'idle CPU %', `RSS MB at ${r.footprintRate}/s`, `CPU % at ${r.footprintRate}/s`], usageRows)}

Warm start of the native stack (\`npm run stack\` with its build cache filled): up in ${f(r.start.upSeconds)} s, first
complete trace ${f(r.start.firstTraceSeconds)} s after the start.
`;
}

/** Latency percentiles against request rate: HTTP p50/p99 with tracing on and off, end to end p50/p99. */
function chart(r) {
  const width = 640;
  const height = 360;
  const margin = { left: 60, right: 170, top: 30, bottom: 50 };
  const series = [
    ['HTTP p50, tracing off', '#1f77b4', '6 3', (rate) => r.off.rates[rate].http.p50],
    ['HTTP p99, tracing off', '#1f77b4', '2 3', (rate) => r.off.rates[rate].http.p99],
    ['HTTP p50, tracing on', '#d62728', '6 3', (rate) => r.on.rates[rate].http.p50],
    ['HTTP p99, tracing on', '#d62728', '2 3', (rate) => r.on.rates[rate].http.p99],
    ['end to end p50', '#2ca02c', '', (rate) => r.endToEnd[rate].total.p50],
    ['end to end p99', '#2ca02c', '4 2 1 2', (rate) => r.endToEnd[rate].total.p99],
  ];
  const rates = r.plan.rates;
  const values = series.flatMap(([, , , value]) => rates.map(value)).filter((v) => v > 0);
  const [low, high] = [Math.max(0.1, Math.min(...values) / 1.5), Math.max(...values) * 1.5];
  const x = (rate) => margin.left + (rates.indexOf(rate) / (rates.length - 1)) * (width - margin.left - margin.right);
  const y = (v) => margin.top + (1 - (Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * (height - margin.top - margin.bottom);
  const ticks = [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000].filter((t) => t >= low && t <= high);
  const lines = series.map(([label, color, dash, value], index) => {
    const points = rates.map((rate) => `${x(rate).toFixed(1)},${y(value(rate)).toFixed(1)}`).join(' ');
    const legendY = margin.top + index * 20;
    return `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/>
  ${rates.map((rate) => `<circle cx="${x(rate).toFixed(1)}" cy="${y(value(rate)).toFixed(1)}" r="3" fill="${color}"/>`).join('')}
  <line x1="${width - margin.right + 15}" y1="${legendY}" x2="${width - margin.right + 40}" y2="${legendY}" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/>
  <text x="${width - margin.right + 45}" y="${legendY + 4}">${label}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${margin.left}" y="18" font-size="13">Latency against request rate (ms, log scale)</text>
  ${ticks.map((t) => `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${margin.left - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`).join('\n  ')}
  ${rates.map((rate) => `<text x="${x(rate)}" y="${height - margin.bottom + 18}" text-anchor="middle">${rate}/s</text>`).join('')}
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
  writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, (key, value) => (key === 'hops' ? undefined : value), 2)}\n`);
  console.log(`\n${text}`);
  const all = verdicts(results);
  const missed = all.filter(([, met]) => !met).map(([t]) => t);
  console.log(missed.length === 0 ? `VERDICT: all ${all.length} targets met` : `VERDICT: ${all.length - missed.length} of ${all.length} targets met; missed: ${missed.join('; ')}`);
}
