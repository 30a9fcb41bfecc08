/**
 * receipt-consumer, the opt-in Go consumer (docs/go-consumer.md): started for this test (natively
 * GO_CONSUMER=on, which builds it; in compose its `go` profile), it consumes `student-billing` in a
 * group of its own and joins the trace of the POST: its `process student-billing` span is the child
 * of billing's `send student-billing` span and linked to it, with the attributes of the notifier's
 * span of the same name, and follows the semantic conventions. Stopped again afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deprecatedAttributes, missingRequiredAttributes, unregisteredAttributes, unregisteredResourceAttributes } from './conventions.mjs';
import { postStudent, serviceLogLines, start, stop, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const GO_CONSUMER = 'receipt-consumer';

/** What only the Node consumers' instrumentation sets: its scope, and what kafkajs alone knows. */
const NODE_ONLY = new Set(['otel.scope.name', 'otel.scope.version', 'messaging.kafka.cluster.id']);

const processSpanOf = (spans, service) => spans.find((s) => s.service === service && s.name === 'process student-billing');

describe('receipt-consumer, the Go consumer of student-billing', () => {
  let traces;
  let spans;
  let studentId;
  let traceId;

  before(async () => {
    process.env.GO_CONSUMER = 'on';
    await start(GO_CONSUMER);
    const response = await postStudent({ firstname: 'Ada', lastname: 'Receipt' });
    assert.equal(response.status, 201);
    ({ id: studentId } = await response.json());
    traceId = traceIdOf(response);
    ({ traces, spans } = await waitForTrace(traceId, (all) => ['notifier-consumer', GO_CONSUMER].every((service) => processSpanOf(all, service)), 60_000));
  });
  after(async () => {
    await stop(GO_CONSUMER);
    delete process.env.GO_CONSUMER;
  });

  it('joins the trace of the POST: its process span is the child of the send span, and linked to it', () => {
    assert.equal(traces.length, 1);
    const send = spans.find((s) => s.name === 'send student-billing');
    const receipt = processSpanOf(spans, GO_CONSUMER);
    assert.equal(receipt.kind, 'consumer');
    assert.equal(receipt.parentId, send.spanId, 'the child of `send student-billing`');
    assert.deepEqual(receipt.links.map((link) => link.spanID), [send.spanId], 'linked to it');
  });

  it('names the same attributes as the notifier\'s span of the same name, with its own consumer group', () => {
    const receipt = processSpanOf(spans, GO_CONSUMER);
    const notifier = processSpanOf(spans, 'notifier-consumer');
    const names = (span) => Object.keys(span.tags).filter((key) => !NODE_ONLY.has(key)).sort();
    assert.deepEqual(names(receipt), names(notifier));
    assert.equal(receipt.tags['messaging.consumer.group.name'], GO_CONSUMER);
    for (const key of ['messaging.destination.name', 'messaging.message.id', 'messaging.kafka.message.key', 'messaging.destination.partition.id', 'messaging.kafka.offset']) {
      // As text: instrumentation-kafkajs gives the offset as a string, the conventions an int (as Go does).
      assert.equal(String(receipt.tags[key]), String(notifier.tags[key]), key);
    }
  });

  it('follows the semantic conventions', () => {
    const receipt = [processSpanOf(spans, GO_CONSUMER)];
    assert.deepEqual(unregisteredAttributes(receipt), []);
    assert.deepEqual(deprecatedAttributes(receipt), []);
    assert.deepEqual(missingRequiredAttributes(receipt), []);
    assert.deepEqual(unregisteredResourceAttributes(traces), []);
  });

  it('logs "receipt issued" with the student id and the trace id of its span, and no name', async () => {
    const receipt = processSpanOf(spans, GO_CONSUMER);
    const line = await waitFor('the receipt log line', () =>
      serviceLogLines(GO_CONSUMER).find((entry) => entry.msg === 'receipt issued' && entry.studentId === studentId));
    assert.equal(line.trace_id, traceId);
    assert.equal(line.span_id, receipt.spanId);
    assert.doesNotMatch(JSON.stringify(line), /Receipt|Ada/);
  });
});
