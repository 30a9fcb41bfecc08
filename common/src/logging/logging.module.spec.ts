import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeverityNumber, trace } from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import { useInMemoryTracing, withServiceLogger } from '../testing.js';

const tracing = useInMemoryTracing();

/** The records that `write` logs through the services' logger. */
async function recordsOf(write: (logger: Logger) => void) {
  const moduleRef = await withServiceLogger({});
  tracing.reset();
  write(new Logger('Spec'));
  await moduleRef.close();
  return tracing.finishedLogRecords();
}

describe('the services\' logger (LoggingModule)', () => {
  it('writes a record with its level as severity, its fields as attributes, in the active span', async () => {
    let spanId: string | undefined;
    const records = await recordsOf((logger) =>
      trace.getTracer('spec').startActiveSpan('work', (span) => {
        spanId = span.spanContext().spanId;
        logger.warn('fee not found', { studentId: 's-1' });
        span.end();
      }),
    );
    const [record] = records.filter((each) => each.body === 'fee not found');
    assert.equal(record.severityNumber, SeverityNumber.WARN);
    assert.equal(record.severityText, 'warn');
    assert.deepEqual(record.attributes, { context: 'Spec', studentId: 's-1' });
    assert.equal(record.spanContext?.spanId, spanId);
  });

  it('writes an error given as `err` with its type, message and stack', async () => {
    const records = await recordsOf((logger) => logger.error('message sent to the dead-letter topic', { err: new TypeError('not a student') }));
    const [record] = records.filter((each) => each.body === 'message sent to the dead-letter topic');
    assert.equal(record.severityNumber, SeverityNumber.ERROR);
    assert.equal(record.attributes['exception.type'], 'TypeError');
    assert.equal(record.attributes['exception.message'], 'not a student');
    assert.match(String(record.attributes['exception.stacktrace']), /^TypeError: not a student\n {4}at /);
  });

  it('keeps text that looks like log records, line breaks or terminal escapes inside one record', async () => {
    const hostile = 'x\n{"level":"INFO","msg":"forged"}\r\n\u001b[2J\u0000';
    const records = await recordsOf((logger) => logger.warn('rejected', { reason: hostile }));
    assert.equal(records.length, 1);
    assert.equal(records[0].attributes.reason, hostile);
  });
});
