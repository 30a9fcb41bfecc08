import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** An outbox row as the relay sends it. */
export interface OutboxMessage {
  id: string;
  eventId: string;
  topic: string;
  key: string;
  payload: object;
  /** What the propagators injected for the span that wrote it: `traceparent`, `tracestate`, `baggage`. */
  traceContext: Record<string, string>;
}

export interface UnsentQuery {
  topics: string[];
  limit: number;
  /** Only messages older than this: those no live process is about to send. */
  olderThanSeconds?: number;
}

/** The `outbox` table (CreateOutbox1764000000001), as the relay reads and marks it. */
@Injectable()
export class OutboxTable {
  constructor(private readonly dataSource: DataSource) {}

  /** False until DatabaseModule has connected (in the background). */
  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  /**
   * Locks the oldest unsent messages (rows another sweep holds are skipped), runs `send` on them and
   * marks them sent, in one transaction: a failed send rolls back, and they are sent again later.
   */
  sendUnsent(query: UnsentQuery, send: (messages: OutboxMessage[]) => Promise<void>): Promise<OutboxMessage[]> {
    return this.dataSource.transaction(async (manager) => {
      const messages: OutboxMessage[] = await manager.query(
        `SELECT id, event_id AS "eventId", topic, key, payload, trace_context AS "traceContext"
         FROM outbox
         WHERE sent_at IS NULL AND topic = ANY($1)
           AND ($3::float IS NULL OR created_at < now() - make_interval(secs => $3::float))
         ORDER BY id LIMIT $2
         FOR UPDATE SKIP LOCKED`,
        [query.topics, query.limit, query.olderThanSeconds ?? null],
      );
      await send(messages);
      await markSent(manager, messages.map((message) => message.id));
      return messages;
    });
  }

  markSent(ids: string[]): Promise<void> {
    return markSent(this.dataSource.manager, ids);
  }
}

async function markSent(manager: DataSource['manager'], ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // The database's clock, as for created_at.
  await manager.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1)', [ids]);
}
