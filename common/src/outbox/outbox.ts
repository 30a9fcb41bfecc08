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
/** A message this old and still unsent was not sent by the process that wrote it: the sweep takes it. */
const STRANDED_AFTER = '5 seconds';

/**
 * The transactional outbox. A service that changes a row and announces it on Kafka writes both in
 * one Postgres transaction (`add`), so that neither exists without the other, even if Kafka is down
 * or the process dies right after the commit.
 *
 * The relay sends them two ways. Once the transaction has committed, the service hands its messages
 * over (`afterCommit`): the relay sends them and marks them sent in one UPDATE, without reading them
 * back (a read-lock-update transaction per batch cost Postgres and the service four round trips, and
 * each student a few milliseconds). Every second, and while Kafka or Postgres is failing, it sweeps
 * the table for the messages nobody sent: those of a process that died, or that failed to send. The
 * sweep takes them oldest first, locked so that two sweeps never take the same row, and leaves the
 * messages of the last few seconds to the process that wrote them.
 *
 * The message keeps the trace context of the span that wrote it, and the relay sends it inside that
 * context: the `send <topic>` span is still a child of the request (or message) that caused it, even
 * when it is sent a minute later, after Kafka came back.
 *
 * Delivery is at least once (a crash between the send and the UPDATE of `sent_at` sends a message
 * again): consumers deduplicate by the `eventId` every message carries.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private stopping = false;
  /** Consecutive failed batches: while Kafka or Postgres is down the relay backs off and only sweeps. */
  private failures = 0;
  /** Committed by this process and not sent yet, oldest first. */
  private committed: OutboxMessage[] = [];
  private lastSweep = 0;
  private interruptSleep?: () => void;
  private relayDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventPublisher,
    @Inject(OUTBOX_TOPICS) private readonly topics: string[],
  ) {}

  /** Adds a message to `manager`'s transaction; its `payload.eventId` identifies it to consumers. */
  async add(manager: EntityManager, topic: string, key: string, payload: object): Promise<OutboxMessage> {
    const eventId = randomUUID();
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const message = manager.create(OutboxMessage, { eventId, topic, key, payload: { ...payload, eventId }, traceContext });
    await manager.insert(OutboxMessage, message); // INSERT ... RETURNING fills in id
    return message;
  }

  /** Call once the transaction that added `messages` has committed: the relay sends them at once. */
  afterCommit(...messages: OutboxMessage[]): void {
    // While sends fail, the sweep sends everything, oldest first, once they work again.
    if (this.failures > 0 || this.stopping) return;
    this.committed.push(...messages);
    this.interruptSleep?.();
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
      let sent = 0;
      try {
        // Under steady traffic the sweep still runs every POLL_INTERVAL_MS, not only when idle.
        const sweepDue = performance.now() - this.lastSweep >= POLL_INTERVAL_MS;
        if (this.committed.length > 0 && !sweepDue) sent = await this.sendCommitted();
        // DatabaseModule connects in the background: until it has, there is nothing to read.
        else if (this.dataSource.isInitialized) {
          this.lastSweep = performance.now();
          const swept = new Set((await this.sweep()).map((message) => message.id));
          // Overloaded, this process may still hold messages old enough to be swept: send them once.
          this.committed = this.committed.filter((message) => !swept.has(message.id));
          sent = swept.size;
        }
        if (this.failures > 0) this.logger.log(`relay: sending again after ${this.failures} failed attempts`);
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.committed = []; // still unsent in the table: the sweep takes them
        this.logger.warn(`relay: ${(error as Error).message}; the messages stay in the outbox (attempt ${this.failures})`);
      }
      if (this.failures === 0 && (sent === BATCH_SIZE || this.committed.length > 0)) continue;
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

  /** Sends what this process committed (those that arrived meanwhile go in the next batch). */
  private async sendCommitted(): Promise<number> {
    const messages = this.committed.splice(0, BATCH_SIZE);
    await this.sendAll(messages);
    await markSent(this.dataSource.manager, messages);
    return messages.length;
  }

  /**
   * Sends the oldest unsent messages and marks them sent, in one transaction. Rows another replica is
   * sweeping are skipped (SKIP LOCKED), and a failed send rolls the batch back: it is sent again later.
   * While sends fail, this process hands nothing to `sendCommitted`, so the sweep takes every row.
   */
  private sweep(): Promise<OutboxMessage[]> {
    return this.dataSource.transaction(async (manager) => {
      const unsent = manager
        .createQueryBuilder(OutboxMessage, 'message')
        .where('message.sent_at IS NULL AND message.topic IN (:...topics)', { topics: this.topics });
      if (this.failures === 0) unsent.andWhere(`message.created_at < now() - interval '${STRANDED_AFTER}'`);
      const messages: OutboxMessage[] = await unsent
        .orderBy('message.id')
        .limit(BATCH_SIZE)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      await this.sendAll(messages);
      await markSent(manager, messages);
      return messages;
    });
  }

  /** Messages of different keys are sent side by side; those of one key one after the other, oldest first. */
  private async sendAll(messages: OutboxMessage[]): Promise<void> {
    await Promise.all(inKeyOrder(messages).map((sameKey) => this.sendInOrder(sameKey)));
  }

  /** Each message is sent in the trace context it was written in: its `send` span joins that trace. */
  private async sendInOrder(messages: OutboxMessage[]): Promise<void> {
    for (const message of messages) {
      const writer = propagation.extract(ROOT_CONTEXT, message.traceContext);
      await context.with(writer, () => this.events.publish(message.topic, message.key, message.payload));
    }
  }
}

/** One UPDATE for the batch; in `manager`'s transaction if it has one. */
async function markSent(manager: EntityManager, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await manager.update(OutboxMessage, messages.map((message) => message.id), { sentAt: new Date() });
}

function inKeyOrder(messages: OutboxMessage[]): OutboxMessage[][] {
  const byKey = new Map<string, OutboxMessage[]>();
  for (const message of messages) byKey.set(message.key, [...(byKey.get(message.key) ?? []), message]);
  return [...byKey.values()];
}
