/**
 * The trace of one POST, read back from Jaeger, against the OpenTelemetry semantic conventions: every
 * attribute of every span is in the conventions' registry (as the installed
 * `@opentelemetry/semantic-conventions` package lists it) or one of the project's own, declared in
 * common/src/telemetry/attributes.ts; none is deprecated; and each kind of span carries what the
 * conventions require of it.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  REQUIRED,
  conventionOf,
  deprecatedAttributes,
  missingRequiredAttributes,
  unregisteredAttributes,
  unregisteredResourceAttributes,
} from './conventions.mjs';
import { postStudent, traceIdOf, waitForTrace } from './support.mjs';

const isComplete = (spans) =>
  ['bill student', 'notify student', 'process student', 'process student-billing'].every((name) => spans.some((s) => s.name === name));

describe('the trace of one POST follows the semantic conventions', () => {
  let traces;
  let spans;

  before(async () => {
    const response = await postStudent({ firstname: 'Grace', lastname: 'Conventions' });
    assert.equal(response.status, 201);
    ({ traces, spans } = await waitForTrace(traceIdOf(response), isComplete));
  });

  it('names no attribute on any span that is neither in the registry nor declared in attributes.ts', () => {
    assert.deepEqual(unregisteredAttributes(spans), []);
  });

  it('names no deprecated attribute but those instrumentation-kafkajs still sets', () => {
    assert.deepEqual(deprecatedAttributes(spans), []);
  });

  it('describes each service with resource attributes of the registry only', () => {
    // Jaeger shows the resource as the process: service.name becomes its serviceName, the rest its tags.
    assert.ok(traces.some((trace) => Object.values(trace.processes).some((process) => process.tags.length > 0)), 'the processes carry resource attributes');
    assert.deepEqual(unregisteredResourceAttributes(traces), []);
  });

  it('gives each kind of span the attributes the conventions require of it', () => {
    assert.deepEqual(missingRequiredAttributes(spans), []);
    assert.deepEqual([...new Set(spans.map(conventionOf))].sort(), Object.keys(REQUIRED).sort(), 'the trace has a span of every kind');
  });
});
