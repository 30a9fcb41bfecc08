import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { DataSource, type EntityManager } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher.js';
import { OutboxMessage } from './outbox-message.entity.js';

export const OUTBOX_TOPICS = Symbol('OUTBOX_TOPICS');

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;

/**
 * The transactional outbox. A service that changes a row and announces it on Kafka writes both in
 * one Postgres transaction (`add`), so that neither exists without the other, even if Kafka is down
 * or the process dies right after the commit. The relay then sends the messages, oldest first, and
 * marks them sent.
 *
 * The message keeps the trace context of the span that wrote it, and the relay sends it inside that
 * context: the `send <topic>` span is still a child of the request (or message) that caused it, even
 * when it is sent a minute later, after Kafka came back.
 *
 * Delivery is at least once (a crash between the send and the commit of `sent_at` sends a message
 * again): consumers deduplicate by the `eventId` every message carries.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private stopping = false;
  /** Consecutive failed batches: while Kafka or Postgres is down the relay backs off, and ignores `wake`. */
  private failures = 0;
  /** A message was added since the relay last looked: look again instead of sleeping. */
  private woken = false;
  private interruptSleep?: () => void;
  private relayDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventPublisher,
    @Inject(OUTBOX_TOPICS) private readonly topics: string[],
  ) {}

  /** Adds a message to `manager`'s transaction; returns the event id it carries (in `payload.eventId`). */
  async add(manager: EntityManager, topic: string, key: string, payload: object): Promise<string> {
    const eventId = randomUUID();
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    await manager.insert(OutboxMessage, { eventId, topic, key, payload: { ...payload, eventId }, traceContext });
    return eventId;
  }

  /** Call after the commit: the relay sends at once instead of at its next poll. */
  wake(): void {
    this.woken = true;
    if (this.failures === 0) this.interruptSleep?.();
  }

  onApplicationBootstrap(): void {
    this.relayDone = this.relay();
  }

  /** Before Kafka and Postgres close: the batch in hand is finished, the rest waits in the table. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.interruptSleep?.();
    await this.relayDone;
  }

  private async relay(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      let sent = 0;
      try {
        // DatabaseModule connects in the background: until it has, there is nothing to read.
        if (this.dataSource.isInitialized) sent = await this.sendBatch();
        if (this.failures > 0) this.logger.log(`relay: sending again after ${this.failures} failed attempts`);
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.logger.warn(`relay: ${(error as Error).message}; the messages stay in the outbox (attempt ${this.failures})`);
      }
      if (this.failures === 0 && (sent === BATCH_SIZE || this.woken)) continue;
      await this.sleep(this.failures > 0 ? Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures) : POLL_INTERVAL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interruptSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.interruptSleep = undefined));
  }

  /**
   * Sends the oldest unsent messages and marks them sent, in one transaction. Rows another replica is
   * sending are skipped (SKIP LOCKED), and a failed send rolls the batch back: it is sent again later.
   */
  private sendBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const messages: OutboxMessage[] = await manager
        .createQueryBuilder(OutboxMessage, 'message')
        .where('message.sent_at IS NULL AND message.topic IN (:...topics)', { topics: this.topics })
        .orderBy('message.id')
        .limit(BATCH_SIZE)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      await Promise.all(inKeyOrder(messages).map((sameKey) => this.sendInOrder(sameKey)));
      if (messages.length > 0) {
        await manager.update(OutboxMessage, messages.map((message) => message.id), { sentAt: new Date() });
      }
      return messages.length;
    });
  }

  /** Each message is sent in the trace context it was written in: its `send` span joins that trace. */
  private async sendInOrder(messages: OutboxMessage[]): Promise<void> {
    for (const message of messages) {
      const writer = propagation.extract(ROOT_CONTEXT, message.traceContext);
      await context.with(writer, () => this.events.publish(message.topic, message.key, message.payload));
    }
  }
}

/** Messages of different keys are sent side by side; those of one key one after the other, oldest first. */
function inKeyOrder(messages: OutboxMessage[]): OutboxMessage[][] {
  const byKey = new Map<string, OutboxMessage[]>();
  for (const message of messages) byKey.set(message.key, [...(byKey.get(message.key) ?? []), message]);
  return [...byKey.values()];
}
