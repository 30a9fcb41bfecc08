/**
 * Span timing under load, read back as the Jaeger UI reads it (/api/traces/<id>, whose answer carries
 * the warnings of Jaeger's clock-skew check, cmd/query/app/querysvc/internal/adjuster/clockskew.go in
 * Jaeger 1.76). That check compares each child with its parent when the two come from different
 * machines, a machine being the process's `ip` tag: a child no longer than its parent must lie within
 * it, a longer one must not start before it; any other child gets the warning "clock skew adjustment
 * disabled; not applying calculated delta of ...".
 *
 * Two things used to trip it. Within one process, a timestamp error: the OpenTelemetry JS SDK starts
 * spans on a whole millisecond, which puts a child up to 1 ms outside its parent
 * (telemetry/span-start-clock.ts in common fixes it). Across processes, the Kafka hops: a send runs after
 * the request that caused it ended (the outbox relay, after the commit), a consumer's `process` after the
 * send, so they lie outside their parent in real time; OpenTelemetry resources carry no `ip`, so every
 * pair counted as two machines and every hop was warned about. The collector now names the machine
 * (otel/collector.yaml, resource/machine), and what stays checked here is what the clocks guarantee.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { openLoop } from '../../scripts/lib/load.mjs';
import { connectionProblem, env, fetchTrace, normalizeTrace, sleep, waitFor } from './support.mjs';
import { SERVICES } from '../../scripts/stack/config.mjs';

const RATE_PER_SECOND = 20;
const SECONDS = 15;

const isMessaging = (span) => span.kind === 'producer' || span.kind === 'consumer';
const describeSpan = (span, parent) =>
  `${span.name} (${span.service}, trace ${span.traceId}): starts ${span.start - parent.start} µs after ${parent.name}, ends ${span.end - parent.end} µs after it`;

/** Every parent/child pair of the traces. */
function parentChildPairs(traces) {
  return traces.flatMap((spans) => {
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    return spans.map((span) => ({ span, parent: byId.get(span.parentId) })).filter(({ parent }) => parent);
  });
}

describe(`span timing in Jaeger, ${RATE_PER_SECOND * SECONDS} traces taken under load`, () => {
  /** One entry per trace: its spans. */
  let traces;

  before(async () => {
    const results = await openLoop({ apiUrl: env.apiUrl, rate: RATE_PER_SECOND, seconds: SECONDS });
    const traceIds = results.filter((result) => result.status === 201).map((result) => result.traceId);
    assert.equal(traceIds.length, RATE_PER_SECOND * SECONDS, 'every POST answered 201 with a traceresponse');
    // Each service exports in its own batches: wait until every trace reached the notifier, then let
    // the last batches land.
    const isComplete = (spans) => connectionProblem(spans, SERVICES) === undefined && spans.some((s) => s.name === 'notify student');
    await waitFor(
      `all ${traceIds.length} traces to be complete in Jaeger`,
      async () => {
        for (const traceId of traceIds) {
          const data = await fetchTrace(traceId);
          if (!data?.length || !isComplete(data.flatMap(normalizeTrace))) return false;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    await sleep(2000);
    traces = [];
    for (const traceId of traceIds) traces.push((await fetchTrace(traceId)).flatMap(normalizeTrace));
  });

  it('no span carries a Jaeger warning', (t) => {
    const spans = traces.flat();
    const warned = spans.filter((span) => span.warnings.length > 0);
    t.diagnostic(`${spans.length} spans, ${warned.length} with a warning`);
    assert.deepEqual(
      warned.map((span) => `${span.name} (${span.service}, trace ${span.traceId}): ${span.warnings.join('; ')}`),
      [],
      `${warned.length} of ${spans.length} spans carry a warning`,
    );
  });

  it('every child starts at or after its parent, and a synchronous one ends within it', (t) => {
    const pairs = parentChildPairs(traces);
    const sameProcess = pairs.filter(({ span, parent }) => parent.processId === span.processId);
    t.diagnostic(`${pairs.length} parent/child pairs, ${sameProcess.length} of them in one process`);
    // Across processes too: the stack runs on one machine, and each process anchors its spans to its clock.
    const startsEarly = pairs.filter(({ span, parent }) => span.start < parent.start);
    assert.deepEqual(startsEarly.map(({ span, parent }) => describeSpan(span, parent)), [], 'children that start before their parent');
    // The relay's send outlasts the request that wrote the outbox row; everything else is awaited by its parent.
    const endsLate = sameProcess.filter(({ span, parent }) => !isMessaging(span) && span.end > parent.end);
    assert.deepEqual(endsLate.map(({ span, parent }) => describeSpan(span, parent)), [], 'children that end after their parent');
  });

  it('starts spans with sub-millisecond precision', () => {
    const spans = traces.flat();
    const wholeMillisecond = spans.filter((span) => span.start % 1000 === 0);
    // On a whole millisecond by chance: about one start in a thousand.
    assert.ok(wholeMillisecond.length <= spans.length / 100, `${wholeMillisecond.length} of ${spans.length} spans start on a whole millisecond`);
  });
});
