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
import { backoffMs } from '../resilience/backoff.js';
import { APP_ATTRIBUTES } from '../telemetry/attributes.js';
import { withSendSpanAttributes } from '../telemetry/send-span-attributes.js';
import { OutboxMessage } from './outbox-message.entity.js';

export const OUTBOX_TOPICS = Symbol('OUTBOX_TOPICS');

/** A message for the outbox, before its row is inserted (`Outbox.message`). */
export interface NewMessage<Payload extends object = object> {
  eventId: string;
  topic: string;
  key: string;
  payload: Payload & { eventId: string };
  traceContext: Record<string, string>;
}

/** An outbox row as the relay sends it: what its INSERT wrote, and the id it returned. */
export type CommittedMessage = Pick<OutboxMessage, 'id' | 'eventId' | 'topic' | 'key' | 'payload' | 'traceContext'>;

/** The values of `message` in the order of `INSERT INTO outbox (event_id, topic, key, payload, trace_context)`. */
export function outboxValues(message: NewMessage): unknown[] {
  return [message.eventId, message.topic, message.key, message.payload, message.traceContext];
}

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1_000;
/**
 * Messages sent from memory are marked sent together, at most this often: one UPDATE for every
 * message sent meanwhile instead of one each. A process that dies in between leaves them unmarked,
 * and the sweep sends them again (consumers deduplicate).
 */
const MARK_SENT_EVERY_MS = 100;
const RETRY_BACKOFF = { firstMs: 500, maxMs: 5_000 };
/** Beyond this many messages waiting in memory, new ones are left to the sweep: they are in the table. */
const MAX_WAITING_IN_MEMORY = 10 * BATCH_SIZE;
/** A message this old and still unsent was not sent by the process that wrote it: the sweep takes it. */
const STRANDED_AFTER_SECONDS = 5;
/** Failed attempts in a row after which the relay logs errors instead of warnings: not a blip any more. */
const FAILURES_BEFORE_ERROR = 12;

/**
 * The transactional outbox. A service that changes a row and announces it on Kafka writes both in
 * one Postgres statement (`message`, then a data-modifying CTE), so that neither exists without the
 * other, even if Kafka is down or the process dies right after the commit.
 *
 * The relay is in one of three states:
 *
 * | state      | what it does                                                   | next                        |
 * |------------|----------------------------------------------------------------|-----------------------------|
 * | sending    | sends the messages this process committed (`afterCommit`), and | sweeping every second;      |
 * |            | every 100 ms marks those sent in one UPDATE (`drainCommitted`) | failing on an error         |
 * | sweeping   | sends the messages nobody sent, older than 5 s: those of a     | sending; failing on an      |
 * |            | process that died (`sweep`)                                    | error                       |
 * | failing    | Kafka or Postgres failed: forgets what it held in memory (the  | sending once a sweep finds  |
 * |            | table has it), waits 0.5 s, 1 s... 5 s, asks whether a broker  | less than a batch: the      |
 * |            | answers, and only then sweeps every unsent message, oldest     | table is drained            |
 * |            | first (`sweep`, not only stranded ones), batch after batch     |                             |
 *
 * A sweep locks its rows (`SKIP LOCKED`: two sweeps never take the same row) in a transaction that
 * lasts as long as its sends; asking the broker first keeps that transaction and the `send` spans
 * of failed attempts out of an outage: a message that waited gets one `send` span, when it is sent,
 * with the number of attempts in `app.outbox.attempts`.
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
  /** Consecutive failed attempts: more than 0 is the failing state. */
  private failures = 0;
  /** Committed by this process and not sent yet, oldest first. */
  private committed: CommittedMessage[] = [];
  /** Ids of messages sent from memory and not yet marked sent in the table. */
  private sentUnmarked: string[] = [];
  private lastMark = 0;
  private lastSweep = 0;
  private interruptSleep?: () => void;
  private relayDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventPublisher,
    @Inject(OUTBOX_TOPICS) private readonly topics: string[],
  ) {}

  /**
   * A new message for `topic`: a fresh event id (`eventId` in its payload identifies it to consumers)
   * and the trace context of the active span, in which the relay will send it. Insert it into
   * `outbox` (`outboxValues`) in the statement that makes the change it announces: one statement,
   * a data-modifying CTE, is one transaction, so neither exists without the other.
   */
  message<Payload extends object>(topic: string, key: string, payload: Payload): NewMessage<Payload> {
    const eventId = randomUUID();
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    return { eventId, topic, key, payload: { ...payload, eventId }, traceContext };
  }

  /** Call once the statement that inserted `messages` has committed, with the ids it returned: the relay sends them at once. */
  afterCommit(...messages: CommittedMessage[]): void {
    // Failing, the sweep sends everything, oldest first, once Kafka is back; overloaded, the sweep
    // takes those that do not fit in memory 5 s later.
    if (this.failures > 0 || this.stopping || this.committed.length >= MAX_WAITING_IN_MEMORY) return;
    this.committed.push(...messages);
    this.interruptSleep?.();
  }

  /** How many committed messages wait in memory for the relay. */
  get waitingInMemory(): number {
    return this.committed.length;
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
        sent = await this.relayOnce();
        // Failing, the relay drains the table, oldest first, before it sends from memory again.
        if (this.failures > 0 && sent < BATCH_SIZE) {
          this.logger.log(`relay: sending again after ${this.failures} failed attempts`);
          this.failures = 0;
        }
      } catch (error) {
        this.failures += 1;
        // Still unsent in the table: the sweep takes them (those sent already go again).
        this.committed = [];
        this.sentUnmarked = [];
        const level = this.failures >= FAILURES_BEFORE_ERROR ? 'error' : 'warn';
        this.logger[level](`relay: ${(error as Error).message}; the messages stay in the outbox`, {
          attempt: this.failures,
          stack: (error as Error).stack,
        });
      }
      if (sent === BATCH_SIZE || (this.failures === 0 && this.committed.length > 0)) continue;
      await this.sleep(this.failures > 0 ? backoffMs(this.failures, RETRY_BACKOFF) : this.sentUnmarked.length > 0 ? MARK_SENT_EVERY_MS : POLL_INTERVAL_MS);
    }
    await this.markSentFromMemory().catch((error: Error) => this.logger.warn(`relay: ${error.message}; the sweep sends those messages again`));
  }

  /** One step of the state machine above; returns how many messages it sent. */
  private async relayOnce(): Promise<number> {
    if (this.failures > 0) {
      await this.events.checkBroker(this.topics);
      return (await this.sweep({ onlyStranded: false })).length;
    }
    if (this.sentUnmarked.length >= BATCH_SIZE || performance.now() - this.lastMark >= MARK_SENT_EVERY_MS) await this.markSentFromMemory();
    // Under steady traffic the sweep still runs every POLL_INTERVAL_MS, not only when idle.
    const sweepDue = performance.now() - this.lastSweep >= POLL_INTERVAL_MS;
    if (this.committed.length > 0 && !sweepDue) return this.drainCommitted();
    this.lastSweep = performance.now();
    // DatabaseModule connects in the background: until it has, there is nothing to read.
    if (!this.dataSource.isInitialized) return 0;
    const swept = new Set((await this.sweep({ onlyStranded: true })).map((message) => message.id));
    // Overloaded, this process may still hold messages old enough to be swept: send them once.
    this.committed = this.committed.filter((message) => !swept.has(message.id));
    return swept.size;
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
  private async drainCommitted(): Promise<number> {
    const messages = this.committed.splice(0, BATCH_SIZE);
    await this.sendAll(messages);
    this.sentUnmarked.push(...messages.map((message) => message.id));
    return messages.length;
  }

  private async markSentFromMemory(): Promise<void> {
    this.lastMark = performance.now();
    const ids = this.sentUnmarked.splice(0);
    await markSent(this.dataSource.manager, ids);
  }

  /**
   * Sends the oldest unsent messages (only those older than STRANDED_AFTER_SECONDS unless failing)
   * and marks them sent, in one transaction. Rows another replica is sweeping are skipped (SKIP
   * LOCKED), and a failed send rolls the batch back: it is sent again later.
   */
  private sweep({ onlyStranded }: { onlyStranded: boolean }): Promise<OutboxMessage[]> {
    return this.dataSource.transaction(async (manager) => {
      const unsent = manager
        .createQueryBuilder(OutboxMessage, 'message')
        .where('message.sent_at IS NULL AND message.topic IN (:...topics)', { topics: this.topics });
      if (onlyStranded) {
        unsent.andWhere('message.created_at < now() - make_interval(secs => :strandedAfter)', { strandedAfter: STRANDED_AFTER_SECONDS });
      }
      const messages: OutboxMessage[] = await unsent
        .orderBy('message.id')
        .limit(BATCH_SIZE)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      await this.sendAll(messages);
      await markSent(manager, messages.map((message) => message.id));
      return messages;
    });
  }

  /** Messages of different keys are sent side by side; those of one key one after the other, oldest first. */
  private async sendAll(messages: CommittedMessage[]): Promise<void> {
    await Promise.all(inKeyOrder(messages).map((sameKey) => this.sendInOrder(sameKey)));
  }

  /**
   * Each message is sent in the trace context it was written in: its `send` span joins that trace.
   * One `send()` per message, not one for the batch: the kafkajs instrumentation starts the span of
   * every message of a `send()` from the one context active at the call, so a batch would put all
   * its messages in the trace of whichever message came first.
   */
  private async sendInOrder(messages: CommittedMessage[]): Promise<void> {
    const attempts = this.failures > 0 ? { [APP_ATTRIBUTES.outboxAttempts.key]: this.failures + 1 } : {};
    for (const message of messages) {
      const writer = withSendSpanAttributes(propagation.extract(ROOT_CONTEXT, message.traceContext), attempts);
      await context.with(writer, () => this.events.publish(message.topic, message.key, message.payload, message.eventId));
    }
  }
}

/** One UPDATE for the messages `ids`; in `manager`'s transaction if it has one. */
async function markSent(manager: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // The database's clock, as for created_at.
  await manager.update(OutboxMessage, ids, { sentAt: () => 'now()' });
}

function inKeyOrder(messages: CommittedMessage[]): CommittedMessage[][] {
  const byKey = new Map<string, CommittedMessage[]>();
  for (const message of messages) byKey.set(message.key, [...(byKey.get(message.key) ?? []), message]);
  return [...byKey.values()];
}
