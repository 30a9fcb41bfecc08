/**
 * Logs beside traces: the services' log records reach VictoriaLogs by way of the collector, each
 * with the trace and span it was written in, its severity and its service; they survive a restart
 * of the store; text from outside cannot forge a record (docs/observability.md#logs-beside-traces).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { findMessage, postStudent, produce, start, stop, storedLogRecords, traceIdOf, waitFor } from './support.mjs';

/** The store's records of a trace, once `isComplete(records)` holds. */
const recordsOfTrace = (traceId, what, isComplete) =>
  waitFor(what, async () => {
    const records = await storedLogRecords(`trace_id:${traceId}`);
    return isComplete(records) ? records : undefined;
  });

describe('the log records in VictoriaLogs', () => {
  let traceId;
  let studentId;

  it('hold a POST\'s records of the three services under its trace id, at INFO, with the student by id only', async () => {
    const response = await postStudent({ firstname: 'Grace', lastname: 'Logbook' });
    assert.equal(response.status, 201);
    traceId = traceIdOf(response);
    studentId = (await response.json()).id;
    const records = await recordsOfTrace(traceId, 'a record of each service', (found) => new Set(found.map((record) => record['service.name'])).size === 3);
    const bodies = Object.fromEntries(records.map((record) => [record['service.name'], record]));
    for (const [service, message] of [['api-service', 'student registered'], ['billing-consumer', 'student billed'], ['notifier-consumer', 'notification sent']]) {
      const record = bodies[service];
      assert.equal(record._msg, message, service);
      assert.equal(record.severity_text, 'info', `${service}: pino's level name`);
      assert.equal(record.severity_number, '9', `${service}: INFO`);
      assert.equal(record.studentId, studentId, `${service}: the student's id`);
      assert.match(record.span_id, /^[0-9a-f]{16}$/, `${service}: the span it was written in`);
      assert.equal(record._stream, `{service.name="${service}"}`, `${service}: one log stream per service, whatever its process`);
    }
    assert.doesNotMatch(JSON.stringify(records), /Grace|Logbook/, 'never the name');
  });

  it('hold a poison message\'s ERROR record with its stack, in the message\'s trace, and no record forged by its text', async () => {
    const poisonTrace = randomBytes(16).toString('hex');
    const key = randomUUID();
    await produce('student', {
      key,
      value: 'not a student\n{"level":"INFO","msg":"forged record"}\u001b[2J',
      headers: { traceparent: `00-${poisonTrace}-${randomBytes(8).toString('hex')}-01` },
    });
    await findMessage('student-dlt', (message) => message.key === key);
    const records = await recordsOfTrace(poisonTrace, 'billing\'s ERROR record of the dead letter', (found) =>
      found.some((record) => record._msg === 'message sent to the dead-letter topic'));
    const record = records.find((each) => each._msg === 'message sent to the dead-letter topic');
    assert.equal(record['service.name'], 'billing-consumer');
    assert.equal(record.severity_text, 'error');
    assert.equal(record.severity_number, '17', 'ERROR');
    assert.equal(record['exception.type'], 'InvalidEventError');
    assert.match(record['exception.stacktrace'], /^InvalidEventError: StudentRegisteredEvent: expected a JSON object[^\n]*\n {4}at /);
    assert.deepEqual(await storedLogRecords('_msg:"forged record"'), []);
  });

  it('keep the records through a restart of the store', async () => {
    assert.ok(traceId, 'the first test stored a trace\'s records');
    await stop('victorialogs');
    await start('victorialogs');
    const records = await recordsOfTrace(traceId, 'the records after the restart', (found) => found.length >= 3);
    assert.deepEqual(records.map((record) => record._msg).sort(), ['notification sent', 'student billed', 'student registered']);
  });
});
