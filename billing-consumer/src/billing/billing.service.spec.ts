import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { StudentBilledEvent, StudentRegisteredEvent } from '@demo/common/contracts';
import { useInMemoryTracing } from '@demo/common/testing';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { type BillingOutcome, BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';

const tracing = useInMemoryTracing();
const noHeartbeat = async () => {};

/** Records each billing, and the span active meanwhile: the outbox stores that span's context. */
class RecordingBillingRepository {
  billed: { eventId: string; billed: Omit<StudentBilledEvent, 'eventId'>; activeSpanId?: string }[] = [];
  outcome: BillingOutcome = 'billed';
  async billOnce(eventId: string, billed: Omit<StudentBilledEvent, 'eventId'>): Promise<BillingOutcome> {
    this.billed.push({ eventId, billed, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
    return this.outcome;
  }
}

const registered: StudentRegisteredEvent = {
  eventId: '5d0e3c1a-7f5e-4f8e-9a55-2b7c9d1e0f11',
  id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  firstname: 'Ada',
  lastname: 'Lovelace',
  createdAt: new Date('2026-11-20T10:00:00.000Z'),
};

/** What the kafkajs instrumentation does around each message: a CONSUMER span, active meanwhile. */
async function inConsumerSpan(work: () => Promise<void>): Promise<Span> {
  const consumerSpan = trace.getTracer('test').startSpan('process student', { kind: SpanKind.CONSUMER });
  await context.with(trace.setSpan(context.active(), consumerSpan), work).finally(() => consumerSpan.end());
  return consumerSpan;
}

const finished = async (span: Span) =>
  (await tracing.finishedSpans()).find((each) => each.spanContext().spanId === span.spanContext().spanId)!;

describe('BillingService', () => {
  let service: BillingService;
  let repository: RecordingBillingRepository;

  beforeEach(async () => {
    tracing.reset();
    repository = new RecordingBillingRepository();
    const moduleRef = await Test.createTestingModule({
      providers: [BillingService, { provide: BillingRepository, useValue: repository }, { provide: ConfigService, useValue: new ConfigService({}) }],
    }).compile();
    moduleRef.useLogger(false);
    service = moduleRef.get(BillingService);
  });

  it('bills inside a child span of the consumer span, which the billed message will be sent from', async () => {
    const consumerSpan = await inConsumerSpan(() => service.bill(registered, noHeartbeat));

    const billSpan = (await tracing.finishedSpans()).find((span) => span.name === 'bill student');
    assert.ok(billSpan, 'a `bill student` span');
    assert.equal(billSpan.spanContext().traceId, consumerSpan.spanContext().traceId);
    assert.equal(billSpan.parentSpanContext?.spanId, consumerSpan.spanContext().spanId);
    assert.equal(billSpan.attributes['app.student.id'], registered.id);
    assert.equal(billSpan.attributes['app.student.fee_cents'], 120_000);
    assert.equal((await finished(consumerSpan)).attributes['app.billing.duplicate'], false);

    assert.equal(repository.billed.length, 1);
    const [{ eventId, billed, activeSpanId }] = repository.billed;
    assert.equal(eventId, registered.eventId);
    assert.equal(billed.id, registered.id);
    assert.equal(billed.feeCents, 120_000);
    assert.equal(activeSpanId, billSpan.spanContext().spanId, 'the `send student-billing` span will be a child of `bill student`');
  });

  it('acknowledges a duplicate delivery and says so on the consumer span', async () => {
    repository.outcome = 'duplicate';
    const consumerSpan = await inConsumerSpan(() => service.bill(registered, noHeartbeat));
    assert.equal((await finished(consumerSpan)).attributes['app.billing.duplicate'], true);
    const billSpan = (await tracing.finishedSpans()).find((span) => span.name === 'bill student');
    assert.equal(billSpan?.status.code, SpanStatusCode.UNSET);
    assert.equal(billSpan?.attributes['app.student.fee_cents'], undefined);
  });
});
