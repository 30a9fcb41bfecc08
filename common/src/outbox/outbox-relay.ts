import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { EventPublisher } from '../kafka/event-publisher.js';
import { backoffMs } from '../resilience/backoff.js';
import { APP_ATTRIBUTES } from '../telemetry/attributes.js';
import { withSendSpanAttributes } from '../telemetry/send-span-attributes.js';
import { type OutboxMessage, OutboxTable } from './outbox-table.js';

export const OUTBOX_TOPICS = Symbol('OUTBOX_TOPICS');

const BATCH_SIZE = 100;
const SWEEP_EVERY_MS = 1_000;
/** Messages sent from memory are marked in one UPDATE at most this often, instead of one each. */
const MARK_EVERY_MS = 100;
const RETRY_BACKOFF = { firstMs: 500, maxMs: 5_000 };
/** Beyond this, new messages are left in the table for the sweep. */
const MAX_IN_MEMORY = 10 * BATCH_SIZE;
/** Unsent for this long, a message was not sent by the process that wrote it: the sweep takes it. */
const STRANDED_AFTER_SECONDS = 5;
/** Failed attempts in a row after which the relay logs errors, not warnings. */
const FAILURES_BEFORE_ERROR = 12;

/**
 * Sends the outbox's messages to Kafka, at least once (consumers deduplicate by `eventId`).
 *
 * | state   | each step                                                          | next                   |
 * |---------|--------------------------------------------------------------------|------------------------|
 * | sending | sends what this process committed, marks it sent (one UPDATE per   | failing on any error   |
 * |         | 100 ms); every second, marks, then sweeps messages stranded > 5 s  |                        |
 * | failing | after 0.5 s, 1 s... 5 s: asks a broker, then sends every unsent    | sending once the table |
 * |         | message, oldest first, a batch at a time; memory is forgotten      | holds less than a batch|
 *
 * Each message is sent in the trace context it was written in, so its `send` span joins the trace
 * of the request or message that caused it, however late it is sent. The relay stops after HTTP and
 * the Kafka consumers (Nest closes them before `onApplicationShutdown`), so what they committed last
 * is sent, and before the producer and Postgres, which close deeper in the module tree.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Outbox relay');
  private state: 'sending' | 'failing' = 'sending';
  private failures = 0;
  private stopping = false;
  /** Committed by this process, not sent yet, oldest first. */
  private committed: OutboxMessage[] = [];
  /** Sent from memory, not marked yet. */
  private sentUnmarked: string[] = [];
  private lastMark = Date.now();
  private lastSweep = -Infinity;
  private wake?: () => void;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly table: OutboxTable,
    private readonly publisher: EventPublisher,
    @Inject(OUTBOX_TOPICS) private readonly topics: string[],
  ) {}

  /** A message whose row has committed: sent at once, unless failing or overloaded (the table keeps it). */
  sendAfterCommit(message: OutboxMessage): void {
    if (this.state === 'failing' || this.committed.length >= MAX_IN_MEMORY) return;
    this.committed.push(message);
    this.wake?.();
  }

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const waitMs = await this.step();
      if (waitMs > 0) await this.sleep(waitMs);
    }
    if (this.state === 'sending') {
      await this.sendCommitted(Infinity)
        .then(() => this.markSent())
        .catch((error: Error) => this.logger.warn(`${error.message}; the next start sends the rest`));
    }
  }

  /** One step of the table above; returns how long to wait before the next. */
  async step(): Promise<number> {
    try {
      return this.state === 'sending' ? await this.stepSending() : await this.stepFailing();
    } catch (error) {
      this.state = 'failing';
      this.failures += 1;
      this.committed = [];
      this.sentUnmarked = [];
      const level = this.failures >= FAILURES_BEFORE_ERROR ? 'error' : 'warn';
      this.logger[level](`${(error as Error).message}; the messages stay in the outbox`, { attempt: this.failures, stack: (error as Error).stack });
      return backoffMs(this.failures, RETRY_BACKOFF);
    }
  }

  private async stepSending(): Promise<number> {
    if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS && this.table.connected) {
      // Marked first: a message sent but not marked would look stranded and go twice.
      await this.markSent();
      this.lastSweep = Date.now();
      const swept = await this.table.sendUnsent(
        { topics: this.topics, limit: BATCH_SIZE, olderThanSeconds: STRANDED_AFTER_SECONDS },
        (messages) => this.send(messages),
      );
      const sweptIds = new Set(swept.map((message) => message.id));
      this.committed = this.committed.filter((message) => !sweptIds.has(message.id));
    }
    await this.sendCommitted(BATCH_SIZE);
    if (this.sentUnmarked.length >= BATCH_SIZE || Date.now() - this.lastMark >= MARK_EVERY_MS) await this.markSent();
    if (this.committed.length > 0) return 0;
    if (this.sentUnmarked.length > 0) return MARK_EVERY_MS;
    return SWEEP_EVERY_MS;
  }

  private async stepFailing(): Promise<number> {
    await this.publisher.checkBroker(this.topics);
    const sent = await this.table.sendUnsent({ topics: this.topics, limit: BATCH_SIZE }, (messages) => this.send(messages));
    if (sent.length === BATCH_SIZE) return 0;
    this.logger.log(`sending again after ${this.failures} failed attempts`);
    this.state = 'sending';
    this.failures = 0;
    return 0;
  }

  private async sendCommitted(limit: number): Promise<void> {
    const messages = this.committed.splice(0, limit);
    await this.send(messages);
    this.sentUnmarked.push(...messages.map((message) => message.id));
  }

  private async markSent(): Promise<void> {
    this.lastMark = Date.now();
    await this.table.markSent(this.sentUnmarked.splice(0));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wake = undefined));
  }

  /** Messages of one key one after the other, oldest first; different keys side by side. */
  private async send(messages: OutboxMessage[]): Promise<void> {
    const byKey = Map.groupBy(messages, (message) => message.key);
    await Promise.all([...byKey.values()].map((sameKey) => this.sendInOrder(sameKey)));
  }

  /**
   * One `publish` per message, in the context it was written in: the kafkajs instrumentation starts
   * the spans of one `send()` from the context active at the call, so a batch would put every
   * message in the first one's trace.
   */
  private async sendInOrder(messages: OutboxMessage[]): Promise<void> {
    const attempts = this.failures > 0 ? { [APP_ATTRIBUTES.outboxAttempts]: this.failures + 1 } : {};
    for (const message of messages) {
      const writer = withSendSpanAttributes(propagation.extract(ROOT_CONTEXT, message.traceContext), attempts);
      await context.with(writer, () => this.publisher.publish(message.topic, message.key, message.payload, message.eventId));
    }
  }
}
