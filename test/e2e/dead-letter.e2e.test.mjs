/**
 * A message the consumer cannot process lands in the dead-letter topic with its trace context and
 * the error, its consumer span is an error in Jaeger, and the consumer goes on with the next message.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { findMessage, postStudent, produce, query, run, serviceLogLines, waitFor, waitForTrace } from './support.mjs';

describe('a poison message on `student`', () => {
  it('goes to student-dlt with its traceparent and the error; the next student is billed', async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const key = randomUUID();
    await produce('student', { key, value: 'this is not a student', headers: { traceparent } });

    const deadLetter = await findMessage('student-dlt', (message) => message.key === key);
    assert.equal(deadLetter.value, 'this is not a student', 'the original value');
    assert.equal(deadLetter.headers['dlt-original-traceparent'], traceparent);
    assert.match(deadLetter.headers.traceparent, new RegExp(`^00-${traceId}-`), 'still in the same trace');
    assert.equal(deadLetter.headers['dlt-original-topic'], 'student');
    assert.equal(deadLetter.headers['dlt-consumer-group'], 'billing-consumer', 'the group that failed it');
    assert.equal(deadLetter.headers['dlt-error-type'], 'InvalidEventError');
    assert.match(deadLetter.headers['dlt-error'], /expected a JSON object/);

    const { spans } = await waitForTrace(traceId, (s) => s.some((span) => span.name === 'send student-dlt'));
    const consumerSpan = spans.find((span) => span.name === 'process student');
    assert.equal(consumerSpan.tags['otel.status_code'], 'ERROR');
    assert.equal(consumerSpan.tags['error.type'], 'InvalidEventError', 'error.type, required on a failed operation');
    assert.ok(spans.some((span) => span.name === 'send student-dlt' && span.parentId === consumerSpan.spanId));

    const response = await postStudent({ firstname: 'Next', lastname: 'InLine' });
    assert.equal(response.status, 201);
    const { id } = await response.json();
    await waitFor('the next student to be billed', async () => (await query('SELECT fee_cents FROM students WHERE id = $1', [id]))[0]?.fee_cents > 0);

    // The tool lists it, and replays it to `student` with its original headers, for billing's group
    // only: still invalid, it comes back to the dead-letter topic, in the same trace.
    const listing = run('node --disable-warning=TimeoutNegativeWarning scripts/dead-letters.mjs list student-dlt');
    const position = new RegExp(`(\\d+:\\d+) +\\S+ +key ${key}`).exec(listing)?.[1];
    assert.ok(position, `the listing shows the dead letter:\n${listing}`);
    assert.match(listing, /InvalidEventError: StudentRegisteredEvent: expected a JSON object/);
    run(`node --disable-warning=TimeoutNegativeWarning scripts/dead-letters.mjs replay student-dlt ${position}`);
    const replayed = await findMessage('student', (message) => message.key === key && message.headers['replayed-for-group'] !== undefined);
    assert.equal(replayed.headers['replayed-for-group'], 'billing-consumer');
    const again = await findMessage('student-dlt', (message) => message.key === key && message.headers['dlt-original-offset'] !== deadLetter.headers['dlt-original-offset']);
    assert.equal(again.headers['dlt-original-traceparent'], traceparent);
  });

  it('is logged as one ERROR record with its stack, in its trace, whatever text it holds', async () => {
    const traceId = randomBytes(16).toString('hex');
    const key = randomUUID();
    const value = 'not a student\n{"level":"INFO","msg":"forged record"}\u001b[2J';
    await produce('student', { key, value, headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    await findMessage('student-dlt', (message) => message.key === key);
    const line = await waitFor('billing\'s log line of the dead letter', () =>
      serviceLogLines('billing-consumer').find((l) => l.trace_id === traceId && l.msg === 'message sent to the dead-letter topic'));
    assert.equal(line.level, 'ERROR');
    assert.equal(line.err.type, 'InvalidEventError');
    assert.ok(line.err.stack.startsWith(`InvalidEventError: StudentRegisteredEvent: expected a JSON object, got ${JSON.stringify(value)}\n    at `), line.err.stack);
    assert.deepEqual(serviceLogLines('billing-consumer').filter((l) => l.msg === 'forged record'), [], 'no record forged by the text');
  });
});
