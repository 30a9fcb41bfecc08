import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEventError } from '@demo/common/kafka';
import { TraceAwareLogger } from '@demo/common/telemetry';
import { useInMemoryTracing } from '@demo/common/testing';
import { Test } from '@nestjs/testing';
import { NotificationsService } from './notifications.service.js';

const tracing = useInMemoryTracing();

const billed = {
  eventId: '9a1f4c2e-3b5d-4e6f-8a7b-1c2d3e4f5a6b',
  id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  firstname: 'Ada',
  lastname: 'Lovelace',
  createdAt: '2026-11-20T10:00:00.000Z',
  feeCents: 120_000,
  billedAt: '2026-11-20T10:00:01.000Z',
};

/** The JSON lines the service logs while `work` runs. */
async function loggedLines(work: (service: NotificationsService) => Promise<void>): Promise<Record<string, unknown>[]> {
  const moduleRef = await Test.createTestingModule({ providers: [NotificationsService] }).compile();
  moduleRef.useLogger(new TraceAwareLogger('info'));
  const service = moduleRef.get(NotificationsService);
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stdout.write;
  try {
    await work(service);
  } finally {
    process.stdout.write = write;
  }
  return lines.flatMap((chunk) => chunk.split('\n')).filter(Boolean).map((line) => JSON.parse(line));
}

describe('NotificationsService', () => {
  it('logs one JSON "notification sent" line carrying the trace and span of `notify student`', async () => {
    const lines = await loggedLines((service) => service.notify(billed));
    const notifySpan = (await tracing.finishedSpans()).find((span) => span.name === 'notify student');
    assert.ok(notifySpan);
    const sent = lines.filter((line) => line.message === 'notification sent');
    assert.equal(sent.length, 1);
    assert.deepEqual(
      { ...sent[0], timestamp: undefined, pid: undefined },
      {
        level: 'log',
        pid: undefined,
        timestamp: undefined,
        message: 'notification sent',
        context: 'NotificationsService',
        studentId: billed.id,
        name: 'Ada Lovelace',
        feeCents: 120_000,
        trace_id: notifySpan.spanContext().traceId,
        span_id: notifySpan.spanContext().spanId,
      },
    );
  });

  it('emits the same line as an OpenTelemetry log record of the `notify student` span', async () => {
    tracing.reset();
    await loggedLines((service) => service.notify(billed));
    const notifySpan = (await tracing.finishedSpans()).find((span) => span.name === 'notify student');
    const records = (await tracing.finishedLogRecords()).filter((record) => record.body === 'notification sent');
    assert.equal(records.length, 1);
    assert.equal(records[0].spanContext?.spanId, notifySpan?.spanContext().spanId);
    assert.equal(records[0].spanContext?.traceId, notifySpan?.spanContext().traceId);
    assert.equal(records[0].severityText, 'log');
    assert.deepEqual(records[0].attributes, {
      'log.context': 'NotificationsService',
      studentId: billed.id,
      name: 'Ada Lovelace',
      feeCents: 120_000,
    });
  });

  it('refuses a billed student without a fee', async () => {
    const lines = await loggedLines((service) =>
      assert.rejects(() => service.notify({ ...billed, feeCents: -1 }), InvalidEventError),
    );
    assert.equal(lines.filter((line) => line.message === 'notification sent').length, 0);
  });
});
