#!/usr/bin/env node
// Posts one student and prints the Jaeger link of its trace and the link of its log records in
// VictoriaLogs, then the trace as a tree once it is complete. Works against compose and the native
// stack alike (API_URL, JAEGER_URL and LOGS_URL override).
//
//   npm run demo                     a random student
//   npm run demo -- Ada Lovelace     this one

const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
const jaegerUrl = process.env.JAEGER_URL ?? 'http://127.0.0.1:16686';
const logsUrl = process.env.LOGS_URL ?? 'http://127.0.0.1:9428';
const [firstname = 'Ada', lastname = `Lovelace-${Math.floor(Math.random() * 1000)}`] = process.argv.slice(2);

let response;
try {
  response = await fetch(`${apiUrl}/api/v1/students`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ firstname, lastname }),
  });
} catch (error) {
  console.error(`Cannot reach api-service at ${apiUrl} (${error.cause?.code ?? error.message}): is the stack up?`);
  process.exit(1);
}
const body = await response.json();
console.log(`POST /api/v1/students -> ${response.status}`, body);
if (!response.ok) process.exit(1);

const traceId = response.headers.get('traceresponse')?.split('-')[1];
console.log(`\ntrace id  ${traceId}\nJaeger    ${jaegerUrl}/trace/${traceId}\nlogs      ${logsUrl}/select/vmui/#/?query=trace_id%3A${traceId}\n`);

// The trace is complete once the notifier's consumer span has arrived (a few seconds at most).
const deadline = Date.now() + 20_000;
while (Date.now() < deadline) {
  const found = await fetch(`${jaegerUrl}/api/traces/${traceId}`).then((r) => (r.ok ? r.json() : undefined), () => undefined);
  const trace = found?.data?.[0];
  if (trace?.spans.some((span) => span.operationName === 'process student-billing')) {
    printTree(trace);
    process.exit(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
console.error('The trace was not complete in Jaeger within 20 s: are the consumers and the collector up?');
process.exit(1);

function printTree(trace) {
  const children = new Map();
  for (const span of trace.spans) {
    // A consumer span's parent is also its link: Jaeger then keeps one FOLLOWS_FROM reference, and
    // draws the span under it, as here.
    const inTrace = span.references.filter((reference) => reference.traceID === trace.traceID);
    const parent = (inTrace.find((reference) => reference.refType === 'CHILD_OF') ?? inTrace[0])?.spanID ?? 'root';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const tag = (span, key) => span.tags.find((each) => each.key === key)?.value;
  // pg span names end with the database, not the table: the statement's writes say more. A
  // data-modifying CTE makes several in one statement: `INSERT INTO students + INSERT INTO outbox`.
  const statement = (span) => {
    const text = tag(span, 'db.query.text') ?? '';
    const writes = [...text.matchAll(/\b(INSERT INTO|UPDATE|DELETE FROM)\s+("?\w+"?)/gi)].map((match) => `${match[1]} ${match[2]}`);
    return writes.length > 0 ? writes.join(' + ') : /^\s*\w+(\s+\w+)?/.exec(text)?.[0];
  };
  const visit = (parent, depth) => {
    // Spans can share a start (the SDK's own clock starts them on a whole millisecond): among those, the first to end comes first.
    const byStart = (a, b) => a.startTime - b.startTime || a.duration - b.duration;
    for (const span of (children.get(parent) ?? []).sort(byStart)) {
      const service = trace.processes[span.processID].serviceName;
      const ms = (span.duration / 1000).toFixed(1).padStart(6);
      const name = `${'  '.repeat(depth)}${span.operationName}`.padEnd(36);
      const detail = statement(span) ? `  ${statement(span).trim()}` : '';
      console.log(`${ms} ms  ${name}[${tag(span, 'span.kind') ?? 'internal'}, ${service}]${detail}`);
      visit(span.spanID, depth + 1);
    }
  };
  visit('root', 0);
}
