/**
 * Span timing under load, read back as the Jaeger UI reads it (/api/traces/<id>, whose answer carries
 * the warnings of Jaeger's clock-skew check, cmd/query/app/querysvc/internal/adjuster/clockskew.go in
 * Jaeger 1.76). That check compares each child with its parent when the two come from different
 * machines, a machine being the process's `ip` tag: a child no longer than its parent must lie within
 * it, a longer one must not start before it; any other child gets the warning "clock skew adjustment
 * disabled; not applying calculated delta of ...". The collector names the machine
 * (otel/collector.yaml, resource/machine), so the Kafka hops, which run after their parent in real
 * time, are not warned about.
 */
import assert from 'node:assert/strict';
import { openLoop } from '../../scripts/lib/load.mjs';
import { connectionProblem, env, fetchTrace, normalizeTrace, sleep, waitFor } from './support.mjs';
import { SERVICES } from '../../scripts/stack/config.mjs';

const RATE_PER_SECOND = 20;
const SECONDS = 8;
/** How many traces tracesUnderLoad takes. */
export const TRACES_UNDER_LOAD = RATE_PER_SECOND * SECONDS;

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

/** Traces taken under load, once every one reached the notifier: one entry per trace, its spans. */
export async function tracesUnderLoad() {
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
  const traces = [];
  for (const traceId of traceIds) traces.push((await fetchTrace(traceId)).flatMap(normalizeTrace));
  return traces;
}

export function assertNoWarning(t, traces) {
  const spans = traces.flat();
  const warned = spans.filter((span) => span.warnings.length > 0);
  t.diagnostic(`${spans.length} spans, ${warned.length} with a warning`);
  assert.deepEqual(
    warned.map((span) => `${span.name} (${span.service}, trace ${span.traceId}): ${span.warnings.join('; ')}`),
    [],
    `${warned.length} of ${spans.length} spans carry a warning`,
  );
}

/** Children that start before their parent (across processes too: one machine, one clock), and synchronous children of one process that end after it. */
export function outOfParent(traces) {
  const pairs = parentChildPairs(traces);
  const sameProcess = pairs.filter(({ span, parent }) => parent.processId === span.processId);
  return {
    pairs: pairs.length,
    startsEarly: pairs.filter(({ span, parent }) => span.start < parent.start).map(({ span, parent }) => describeSpan(span, parent)),
    // The relay's send outlasts the request that wrote the outbox row; everything else is awaited by its parent.
    endsLate: sameProcess.filter(({ span, parent }) => !isMessaging(span) && span.end > parent.end).map(({ span, parent }) => describeSpan(span, parent)),
  };
}

