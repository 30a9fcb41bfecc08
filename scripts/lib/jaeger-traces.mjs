// Reading traces back from Jaeger's HTTP API (the query service on 16686), shared by the end-to-end
// tests and the benchmark: both judge a trace by the same rules.

/** The spans of a Jaeger trace, each with its tags as an object, its kind, service and parent span id. */
export function normalizeTrace(trace) {
  return trace.spans.map((span) => {
    const tags = Object.fromEntries(span.tags.map((tag) => [tag.key, tag.value]));
    // A consumer span is the child of its send span and linked to it: Jaeger folds such a link into
    // the parent reference and types it FOLLOWS_FROM. A reference within the trace is the parent all
    // the same, as in Jaeger's UI and its dependencies (a root span's links are to other traces).
    const parent =
      span.references.find((reference) => reference.refType === 'CHILD_OF') ??
      span.references.find((reference) => reference.refType === 'FOLLOWS_FROM' && reference.traceID === span.traceID);
    return {
      name: span.operationName,
      traceId: span.traceID,
      spanId: span.spanID,
      parentId: parent?.spanID,
      parentTraceId: parent?.traceID,
      service: trace.processes[span.processID].serviceName,
      /** The process's resource attributes: service.instance.id, host.name, app.collector.gateway... */
      resource: Object.fromEntries(trace.processes[span.processID].tags.map((tag) => [tag.key, tag.value])),
      /** One per process that reported spans: the same service restarted is another process. */
      processId: span.processID,
      kind: tags['span.kind'] ?? 'internal',
      start: span.startTime,
      end: span.startTime + span.duration,
      tags,
      links: span.references.filter((reference) => reference.refType === 'FOLLOWS_FROM'),
      /** What Jaeger's query service found wrong with the span (its clock-skew check, for one). */
      warnings: span.warnings ?? [],
    };
  });
}

/** The traces Jaeger holds under `traceId` (normally one), or undefined when it has none. */
export async function fetchTrace(jaegerUrl, traceId) {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} for trace ${traceId}`);
  return (await response.json()).data;
}

/**
 * Why the spans of one trace are not one connected pipeline, or undefined when they are: all share
 * one trace id, they come from every one of `services`, and every consumer span is the child of a
 * producer span of its topic.
 */
export function connectionProblem(spans, services) {
  if (new Set(spans.map((s) => s.traceId)).size !== 1) return 'more than one trace id';
  const present = [...new Set(spans.map((s) => s.service))].sort();
  if (present.join() !== [...services].sort().join()) return `services ${present.join(', ')}`;
  for (const consumer of spans.filter((s) => s.kind === 'consumer')) {
    const parent = spans.find((s) => s.spanId === consumer.parentId);
    const topic = consumer.tags['messaging.destination.name'];
    if (parent?.kind !== 'producer' || parent.tags['messaging.destination.name'] !== topic) {
      return `${consumer.name} (${consumer.service}) is not the child of a send ${topic} span`;
    }
  }
  return undefined;
}
