import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { StudentBilledEvent } from '@demo/common/contracts';
import { SeverityNumber } from '@opentelemetry/api';
import { useInMemoryTracing, withServiceLogger } from '@demo/common/testing';
import { NotificationsService } from './notifications.service.js';

const tracing = useInMemoryTracing();

const billed: StudentBilledEvent = {
  eventId: '9a1f4c2e-3b5d-4e6f-8a7b-1c2d3e4f5a6b',
  id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  firstname: 'Ada',
  lastname: 'Lovelace',
  createdAt: new Date('2026-11-20T10:00:00.000Z'),
  feeCents: 120_000,
  billedAt: new Date('2026-11-20T10:00:01.000Z'),
};

describe('NotificationsService', () => {
  let service: NotificationsService;

  beforeEach(async () => {
    // The service's real logger: each line is also an OpenTelemetry log record, read here from memory.
    const moduleRef = await withServiceLogger({ providers: [NotificationsService] });
    service = moduleRef.get(NotificationsService);
    tracing.reset();
  });

  it('logs "notification sent" as a record of the `notify student` span, with the student id and fee', async () => {
    await service.notify(billed);
    const notifySpan = (await tracing.finishedSpans()).find((span) => span.name === 'notify student');
    assert.ok(notifySpan);
    assert.equal(notifySpan.attributes['app.student.id'], billed.id);
    const records = (await tracing.finishedLogRecords()).filter((record) => record.body === 'notification sent');
    assert.equal(records.length, 1);
    assert.equal(records[0].spanContext?.spanId, notifySpan.spanContext().spanId);
    assert.equal(records[0].spanContext?.traceId, notifySpan.spanContext().traceId);
    assert.equal(records[0].severityNumber, SeverityNumber.INFO);
    assert.equal(records[0].severityText, 'info');
    assert.deepEqual(records[0].attributes, { context: 'NotificationsService', studentId: billed.id, feeCents: 120_000 });
  });

  it('never writes the name into a log record or a span', async () => {
    await service.notify(billed);
    const written = JSON.stringify([
      (await tracing.finishedLogRecords()).map((record) => [record.body, record.attributes]),
      (await tracing.finishedSpans()).map((span) => [span.name, span.attributes, span.events]),
    ]);
    assert.ok(written.includes(billed.id), 'the student is there, by id');
    assert.doesNotMatch(written, /Ada|Lovelace/);
  });
});
