import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Controller, Logger, UseInterceptors } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { type CustomTransportStrategy, EventPattern, KafkaContext, Payload, Server } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { isObservable, lastValueFrom } from 'rxjs';
import type { ConsumerEnvironment } from '../config/environment.js';
import { useInMemoryTracing } from '../testing.js';
import { DeadLetterInterceptor } from './dead-letters.js';
import { StudentRegisteredEvent } from '../contracts/student.events.js';
import { EventPublisher as EventPublisherToken } from './event-publisher.js';
import { InvalidEventError, ParseEventPipe } from './parse-event.js';

const tracing = useInMemoryTracing();
Logger.overrideLogger(false);
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

class RecordingPublisher {
  sent: { topic: string; message: { key: string | null; value: unknown; headers?: Record<string, string> } }[] = [];
  failing = false;
  delayMs = 0;
  async publishRaw(topic: string, message: { key: string | null; value: unknown; headers?: Record<string, string> }) {
    await sleep(this.delayMs);
    if (this.failing) throw new Error('broker not available');
    this.sent.push({ topic, message });
  }
}

let heartbeats = 0;
const heartbeat = async () => {
  heartbeats += 1;
};

/** A message as Nest hands it to a handler: headers and value already decoded, and its heartbeat. */
function kafkaContext(value: unknown, headers: Record<string, string> = {}) {
  const message = { key: 'student-1', value, offset: '42', timestamp: '0', headers: { traceparent: TRACEPARENT, ...headers }, attributes: 0, size: 0 };
  return new KafkaContext([message, 1, 'student', undefined, heartbeat, undefined] as never);
}

/** Runs `work` inside a consumer span, as the kafkajs instrumentation does. */
async function inConsumerSpan(work: () => Promise<void>) {
  const span = trace.getTracer('test').startSpan('process student', { kind: SpanKind.CONSUMER });
  try {
    await context.with(trace.setSpan(context.active(), span), work);
  } finally {
    span.end();
  }
  return (await tracing.finishedSpans()).find((finished) => finished.spanContext().spanId === span.spanContext().spanId)!;
}

describe('DeadLetterInterceptor', () => {
  let publisher: RecordingPublisher;
  let deadLetters: DeadLetterInterceptor;

  beforeEach(() => {
    tracing.reset();
    heartbeats = 0;
    publisher = new RecordingPublisher();
    const config = { get: (name: string) => (name === 'KAFKA_CONSUMER_GROUP' ? 'billing-consumer' : undefined) };
    deadLetters = new DeadLetterInterceptor(publisher as unknown as EventPublisherToken, config as unknown as ConfigService<ConsumerEnvironment, true>);
  });

  it('sends an invalid message to <topic>-dlt at once, with its headers and the error, and marks the consumer span', async () => {
    let attempts = 0;
    const span = await inConsumerSpan(() =>
      deadLetters.processOrDeadLetter(kafkaContext('not json'), async () => {
        attempts += 1;
        throw new InvalidEventError('StudentRegisteredEvent: expected a JSON object, got "not json"');
      }),
    );
    assert.equal(attempts, 1, 'an invalid message is not retried');
    assert.equal(publisher.sent.length, 1);
    const [{ topic, message }] = publisher.sent;
    assert.equal(topic, 'student-dlt');
    assert.equal(message.key, 'student-1');
    assert.equal(message.value, 'not json');
    assert.deepEqual(message.headers, {
      traceparent: TRACEPARENT,
      'dlt-original-traceparent': TRACEPARENT,
      'dlt-original-topic': 'student',
      'dlt-original-partition': '1',
      'dlt-original-offset': '42',
      'dlt-consumer-group': 'billing-consumer',
      'dlt-error-type': 'InvalidEventError',
      'dlt-error': 'StudentRegisteredEvent: expected a JSON object, got "not json"',
      'dlt-attempts': '1',
    });
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'InvalidEventError');
    assert.equal(span.events[0]?.name, 'exception');
  });

  it('retries a failure, and sends nothing when a retry succeeds', async () => {
    let attempts = 0;
    await inConsumerSpan(() =>
      deadLetters.processOrDeadLetter(kafkaContext({ id: 'student-1' }), async () => {
        attempts += 1;
        if (attempts < 3) throw new Error('connection terminated');
      }),
    );
    assert.equal(attempts, 3);
    assert.deepEqual(publisher.sent, []);
  });

  it('gives up after 3 attempts and sends the message, JSON-encoded again, to the dead-letter topic', async () => {
    await inConsumerSpan(() =>
      deadLetters.processOrDeadLetter(kafkaContext({ id: 'student-1' }), async () => {
        throw new Error('Student student-1 does not exist');
      }),
    );
    assert.equal(publisher.sent.length, 1);
    assert.equal(publisher.sent[0].message.value, '{"id":"student-1"}');
    assert.equal(publisher.sent[0].message.headers?.['dlt-attempts'], '3');
    assert.equal(publisher.sent[0].message.headers?.['dlt-error'], 'Student student-1 does not exist');
  });

  it('heartbeats while a dead-letter write takes longer than a heartbeat interval (a broker that is down)', async () => {
    publisher.delayMs = 1_200;
    await inConsumerSpan(() =>
      deadLetters.processOrDeadLetter(kafkaContext('not json'), async () => {
        throw new InvalidEventError('bad');
      }),
    );
    assert.equal(publisher.sent.length, 1);
    assert.equal(heartbeats, 1);
  });

  it('throws when the dead letter cannot be written, so that Kafka delivers the message again', async () => {
    publisher.failing = true;
    await assert.rejects(
      inConsumerSpan(() =>
        deadLetters.processOrDeadLetter(kafkaContext('not json'), async () => {
          throw new InvalidEventError('bad');
        }),
      ),
      /broker not available/,
    );
  });

  it('processes a message replayed for its own group, and skips one replayed for another group', async () => {
    const processed: string[] = [];
    for (const group of ['billing-consumer', 'notifier-consumer']) {
      await deadLetters.processOrDeadLetter(kafkaContext({ id: 'student-1' }, { 'replayed-for-group': group }), async () => {
        processed.push(group);
      });
    }
    assert.deepEqual(processed, ['billing-consumer']);
    assert.deepEqual(publisher.sent, []);
  });
});

/** A transport that only collects the handlers, so that a test can deliver messages to them. */
class HandOverTransport extends Server implements CustomTransportStrategy {
  listen(callback: () => void) {
    callback();
  }
  close() {}
  on() {}
  unwrap<T>(): T {
    throw new Error('no client');
  }
  /** As Nest's Kafka server does: the handler's result, awaited to the end of its stream. */
  async deliver(topic: string, value: unknown) {
    const result = await this.getHandlerByPattern(topic)!(value, kafkaContext(value));
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}

describe('DeadLetterInterceptor and ParseEventPipe on a consumer controller', () => {
  const student = { eventId: '5d0e3c1a-7f5e-4f8e-9a55-2b7c9d1e0f11', id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10', firstname: 'Ada', lastname: 'Lovelace', createdAt: '2026-11-20T10:00:00.000Z' };
  let publisher: RecordingPublisher;
  let transport: HandOverTransport;
  let handled: StudentRegisteredEvent[];
  let failuresLeft: number;

  @Controller()
  @UseInterceptors(DeadLetterInterceptor)
  class StudentController {
    @EventPattern('student')
    async onStudent(@Payload(ParseEventPipe) event: StudentRegisteredEvent) {
      if (failuresLeft-- > 0) throw new Error('connection terminated');
      handled.push(event);
    }
  }

  beforeEach(async () => {
    publisher = new RecordingPublisher();
    transport = new HandOverTransport();
    handled = [];
    failuresLeft = 0;
    const moduleRef = await Test.createTestingModule({
      controllers: [StudentController],
      providers: [
        { provide: EventPublisherToken, useValue: publisher },
        { provide: ConfigService, useValue: new ConfigService({ KAFKA_CONSUMER_GROUP: 'billing-consumer' }) },
      ],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: transport, logger: false });
    await app.listen();
  });

  it('hands the handler an instance of its event class', async () => {
    await transport.deliver('student', student);
    assert.equal(handled.length, 1);
    assert.ok(handled[0] instanceof StudentRegisteredEvent);
    assert.ok(handled[0].createdAt instanceof Date);
    assert.deepEqual(publisher.sent, []);
  });

  it('sends an invalid message to the dead-letter topic without calling the handler', async () => {
    await transport.deliver('student', { ...student, id: 'not-a-uuid' });
    assert.deepEqual(handled, []);
    assert.equal(publisher.sent.length, 1);
    assert.equal(publisher.sent[0].topic, 'student-dlt');
    assert.equal(publisher.sent[0].message.headers?.['dlt-error-type'], 'InvalidEventError');
    assert.match(publisher.sent[0].message.headers?.['dlt-error'] ?? '', /^StudentRegisteredEvent: id must be a UUID/);
  });

  it('runs the handler again on each retry', async () => {
    failuresLeft = 2;
    await transport.deliver('student', student);
    assert.equal(handled.length, 1, 'the third attempt succeeds');
    assert.deepEqual(publisher.sent, []);
  });
});
