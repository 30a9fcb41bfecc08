/**
 * What a consumer span makes of the trace context in a Kafka message, in both settings of
 * KAFKA_CONSUMER_TRACE: by default the child of the send span and linked to it (one trace per POST);
 * with `link`, the root of a new trace linked to the send span (three traces per POST, one per
 * service). It restarts both consumers (with KAFKA_CONSUMER_TRACE=link, then as they were).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { env, fetchTrace, normalizeTrace, postStudent, start, stop, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const one = (spans, name) => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} span, found ${found.length}`);
  return found[0];
};

const linksOf = (span) => span.links.map((link) => [link.traceID, link.spanID]);

/** The spans of the trace in which `service` processed the message `messageId` (by `messaging.message.id`). */
async function traceOfMessage(service, messageId, isComplete) {
  const tags = encodeURIComponent(JSON.stringify({ 'messaging.message.id': messageId }));
  const traceId = await waitFor(`a ${service} trace of message ${messageId}`, async () => {
    const response = await fetch(`${env.jaegerUrl}/api/traces?service=${service}&tags=${tags}&lookback=1h&limit=5`);
    const { data } = await response.json();
    return data?.[0]?.traceID;
  });
  return (await waitForTrace(traceId, isComplete)).spans;
}

async function post(firstname) {
  const response = await postStudent({ firstname, lastname: 'Consumer trace' });
  assert.equal(response.status, 201);
  return traceIdOf(response);
}

describe('a consumer and the trace context of its message', () => {
  it('by default (KAFKA_CONSUMER_TRACE=parent): each process span is the child of its send span, and linked to it', async () => {
    const { spans } = await waitForTrace(await post('Parent'), (spans) => spans.some((s) => s.name === 'notify student'));
    for (const [send, process] of [
      ['send student', 'process student'],
      ['send student-billing', 'process student-billing'],
    ]) {
      const sendSpan = one(spans, send);
      const processSpan = one(spans, process);
      assert.equal(processSpan.parentId, sendSpan.spanId, `${process} is the child of ${send}`);
      assert.deepEqual(linksOf(processSpan), [[sendSpan.traceId, sendSpan.spanId]], `${process} is linked to ${send}`);
    }
  });

  describe('with KAFKA_CONSUMER_TRACE=link', () => {
    after(async () => {
      delete process.env.KAFKA_CONSUMER_TRACE;
      await stop('billing-consumer', 'notifier-consumer');
      await start('billing-consumer', 'notifier-consumer');
    });

    it('starts a new trace at each process span, linked to the send span in the trace before it', async () => {
      process.env.KAFKA_CONSUMER_TRACE = 'link';
      await stop('billing-consumer', 'notifier-consumer');
      await start('billing-consumer', 'notifier-consumer');

      const requestTraceId = await post('Link');
      const request = (
        await waitForTrace(requestTraceId, (spans) => spans.some((s) => s.name === 'send student'))
      ).spans;
      assert.deepEqual(
        request.filter((s) => s.kind === 'consumer').map((s) => s.name),
        [],
        'the request trace ends at send student',
      );
      const sendStudent = one(request, 'send student');

      const billing = await traceOfMessage('billing-consumer', sendStudent.tags['messaging.message.id'], (spans) =>
        spans.some((s) => s.name === 'send student-billing'),
      );
      const processStudent = one(billing, 'process student');
      assert.equal(processStudent.parentId, undefined, 'process student is the root of its trace');
      assert.notEqual(processStudent.traceId, requestTraceId);
      assert.deepEqual(linksOf(processStudent), [[requestTraceId, sendStudent.spanId]], 'linked to send student');
      assert.ok(billing.some((s) => s.name === 'bill student'), 'the billing is in the new trace');
      assert.deepEqual([...new Set(billing.map((s) => s.service))], ['billing-consumer']);

      const sendBilling = one(billing, 'send student-billing');
      const notifier = await traceOfMessage('notifier-consumer', sendBilling.tags['messaging.message.id'], (spans) =>
        spans.some((s) => s.name === 'notify student'),
      );
      const processBilling = one(notifier, 'process student-billing');
      assert.equal(processBilling.parentId, undefined, 'process student-billing is the root of its trace');
      assert.deepEqual(linksOf(processBilling), [[processStudent.traceId, sendBilling.spanId]], 'linked to send student-billing');
      assert.deepEqual([...new Set(notifier.map((s) => s.service))], ['notifier-consumer']);

      // Still one trace per request at the API: no span of another service arrived in it later.
      const settled = (await fetchTrace(requestTraceId)).flatMap(normalizeTrace);
      assert.deepEqual([...new Set(settled.map((s) => s.service))], ['api-service']);
    });
  });
});
