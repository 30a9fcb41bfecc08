import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { EventPublisher, InvalidEventError, Student, STUDENT_BILLING_TOPIC } from '@demo/common';
import { useInMemoryTracing } from '@demo/common/testing';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { BillingService } from './billing.service.js';

const tracing = useInMemoryTracing();

class FakeStudentRepository {
  updates: { id: string; feeCents: number }[] = [];
  async update(criteria: { id: string }, values: { feeCents: number }) {
    this.updates.push({ id: criteria.id, feeCents: values.feeCents });
    return { affected: 1 };
  }
}

class RecordingPublisher {
  published: { topic: string; key: string; value: object; activeSpanId?: string }[] = [];
  async publish(topic: string, key: string, value: object) {
    this.published.push({ topic, key, value, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
  }
}

const registered = {
  id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  firstname: 'Ada',
  lastname: 'Lovelace',
  createdAt: '2026-11-20T10:00:00.000Z',
};

/** What the kafkajs instrumentation does around each message: a CONSUMER span, active meanwhile. */
async function inConsumerSpan(work: () => Promise<void>): Promise<Span> {
  const consumerSpan = trace.getTracer('test').startSpan('process student', { kind: SpanKind.CONSUMER });
  await context.with(trace.setSpan(context.active(), consumerSpan), work).finally(() => consumerSpan.end());
  return consumerSpan;
}

describe('BillingService', () => {
  let service: BillingService;
  let students: FakeStudentRepository;
  let publisher: RecordingPublisher;

  beforeEach(async () => {
    tracing.reset();
    students = new FakeStudentRepository();
    publisher = new RecordingPublisher();
    const moduleRef = await Test.createTestingModule({
      providers: [
        BillingService,
        { provide: getRepositoryToken(Student), useValue: students },
        { provide: EventPublisher, useValue: publisher },
      ],
    }).compile();
    moduleRef.useLogger(false);
    service = moduleRef.get(BillingService);
  });

  it('bills inside a child span of the consumer span, and publishes from within it', async () => {
    const consumerSpan = await inConsumerSpan(() => service.bill(registered));

    const billSpan = (await tracing.finishedSpans()).find((span) => span.name === 'bill student');
    assert.ok(billSpan, 'a `bill student` span');
    assert.equal(billSpan.spanContext().traceId, consumerSpan.spanContext().traceId);
    assert.equal(billSpan.parentSpanContext?.spanId, consumerSpan.spanContext().spanId);
    assert.equal(billSpan.attributes['student.fee_cents'], 120_000);

    assert.deepEqual(students.updates, [{ id: registered.id, feeCents: 120_000 }]);
    assert.equal(publisher.published.length, 1);
    const [sent] = publisher.published;
    assert.equal(sent.topic, STUDENT_BILLING_TOPIC);
    assert.equal(sent.key, registered.id);
    assert.equal(sent.activeSpanId, billSpan.spanContext().spanId, 'the producer span will be a child of `bill student`');
    assert.equal((sent.value as { feeCents: number }).feeCents, 120_000);
  });

  for (const [what, message] of [
    ['not an object', 'hello'],
    ['a missing id', { ...registered, id: undefined }],
    ['a wrong type', { ...registered, createdAt: 'yesterday' }],
  ] as const) {
    it(`rejects a message with ${what}: no update, no event, an error span`, async () => {
      await inConsumerSpan(() =>
        assert.rejects(
          () => service.bill(message),
          (error) => error instanceof InvalidEventError,
        ),
      );
      assert.deepEqual(students.updates, []);
      assert.deepEqual(publisher.published, []);
      const billSpan = (await tracing.finishedSpans()).find((span) => span.name === 'bill student');
      assert.equal(billSpan?.status.code, SpanStatusCode.ERROR);
      assert.equal(billSpan?.events[0]?.name, 'exception');
    });
  }
});
