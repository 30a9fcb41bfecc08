import { setTimeout as sleep } from 'node:timers/promises';
import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { KafkaContext } from '@nestjs/microservices';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { ConsumerEnvironment } from '../config/environment.js';
import { backoffMs } from '../resilience/backoff.js';
import { EventPublisher } from './event-publisher.js';
import { withHeartbeats } from './heartbeats.js';
import { InvalidEventError } from './parse-event.js';

/**
 * Where a consumer of `topic` puts the messages it cannot process. A hyphen, so that the name mixes
 * no '.' with '-' or '_': such names can collide in Kafka's metric names, and Kafka warns about them.
 */
export const deadLetterTopic = (topic: string) => `${topic}-dlt`;

/**
 * Set by `npm run dead-letters -- replay` to the group that dead-lettered the message: every group
 * reads the original topic, and only that one processes the replay.
 */
const REPLAYED_FOR_GROUP_HEADER = 'replayed-for-group';

const MAX_ATTEMPTS = 3;
const RETRY_BACKOFF = { firstMs: 200, maxMs: 400 };

/**
 * `@UseInterceptors(DeadLetterInterceptor)` on a consumer's controller: a message that cannot be
 * processed must neither block its partition (kafkajs would deliver it again and again) nor be lost.
 * It goes to the dead-letter topic, and the consumer goes on.
 */
@Injectable()
export class DeadLetterInterceptor implements NestInterceptor {
  private readonly logger = new Logger(DeadLetterInterceptor.name);
  private readonly group: string;

  constructor(
    private readonly events: EventPublisher,
    config: ConfigService<ConsumerEnvironment, true>,
  ) {
    this.group = config.get('KAFKA_CONSUMER_GROUP', { infer: true });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // Each `next.handle()` runs the payload's pipes and the handler again: one attempt.
    const attempt = () => lastValueFrom(next.handle(), { defaultValue: undefined });
    return from(this.processOrDeadLetter(context.switchToRpc().getContext<KafkaContext>(), attempt));
  }

  /**
   * Runs `work` for the message in `context`. A failure is retried (200 ms, then 400 ms) unless the
   * message itself is invalid; the last failure sends the message to the dead-letter topic, with its
   * original headers (its trace context included) and the error, and marks the consumer span as an
   * error. Only a failure to write the dead letter is thrown: Kafka then delivers the message again.
   * The consumer heartbeats during the pauses and the dead-letter write, which take longer than a
   * session when the broker is down. A replay meant for another group is acknowledged unprocessed.
   */
  async processOrDeadLetter(context: KafkaContext, work: () => Promise<unknown>): Promise<void> {
    const replayedFor = context.getMessage().headers?.[REPLAYED_FOR_GROUP_HEADER];
    if (replayedFor !== undefined && String(replayedFor) !== this.group) {
      this.logger.debug(`skipped a dead letter replayed for ${String(replayedFor)}`);
      return;
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        await work();
        return;
      } catch (error) {
        if (!(error instanceof InvalidEventError) && attempt < MAX_ATTEMPTS) {
          this.logger.warn(`processing failed (${(error as Error).message}), attempt ${attempt} of ${MAX_ATTEMPTS}`);
          await withHeartbeats(context.getHeartbeat(), () => sleep(backoffMs(attempt, RETRY_BACKOFF)));
          continue;
        }
        return this.deadLetter(context, error as Error, attempt);
      }
    }
  }

  private async deadLetter(context: KafkaContext, error: Error, attempts: number): Promise<void> {
    // The active span is the Kafka instrumentation's `process <topic>` consumer span.
    const consumerSpan = trace.getActiveSpan();
    consumerSpan?.recordException(error);
    consumerSpan?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    // Conditionally required on a failed operation; the instrumentation sets it only when the handler
    // throws, and this one acknowledges the message instead.
    consumerSpan?.setAttribute(ATTR_ERROR_TYPE, error.name);

    const message = context.getMessage();
    const topic = context.getTopic();
    const originalHeaders = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    const headers: Record<string, string> = {
      ...originalHeaders,
      // Producing writes a traceparent of its own (same trace, the dead-letter send's span).
      ...(originalHeaders.traceparent ? { 'dlt-original-traceparent': originalHeaders.traceparent } : {}),
      'dlt-original-topic': topic,
      'dlt-original-partition': String(context.getPartition()),
      'dlt-original-offset': message.offset,
      'dlt-consumer-group': this.group,
      'dlt-error-type': error.name,
      'dlt-error': error.message,
      'dlt-attempts': String(attempts),
    };
    const value = message.value;
    await withHeartbeats(context.getHeartbeat(), () =>
      this.events.publishRaw(deadLetterTopic(topic), {
        key: message.key === null || message.key === undefined ? null : String(message.key),
        value: typeof value === 'string' || Buffer.isBuffer(value) || value === null ? value : JSON.stringify(value),
        headers,
      }),
    );
    this.logger.error('message sent to the dead-letter topic', {
      topic,
      partition: context.getPartition(),
      offset: message.offset,
      err: error,
    });
  }
}
