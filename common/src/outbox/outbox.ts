import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { context, propagation } from '@opentelemetry/api';
import { DataSource } from 'typeorm';
import { OutboxRelay } from './outbox-relay.js';

/** The change an event announces: data-modifying CTEs, `name AS (…)`, with parameters $1…$n. */
export interface Change {
  with: string;
  params: unknown[];
  /** Write the event only if this CTE returned a row (it returns one at most). */
  eventIf?: string;
  /** More columns for the statement to return, as SQL: `EXISTS (…) AS student_exists`. */
  select?: string;
}

export interface Event<Payload extends object> {
  topic: string;
  /** One key, one partition: a key's events stay in order. */
  key: string;
  payload: Payload;
}

/**
 * The transactional outbox. `write` runs a change and stores the event announcing it in one
 * statement, so in one transaction: neither exists without the other, whatever happens to Kafka or
 * to the process after the commit. The relay then sends the event (outbox-relay.ts).
 */
@Injectable()
export class Outbox {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * Runs `change` and, in the same statement, inserts `event` into the outbox with a new event id
   * (also in its payload: consumers deduplicate by it) and the active trace context, in which the
   * relay will send it. Returns the `select` columns, and whether the event was written.
   */
  async write<Row extends object = object, Payload extends object = object>(
    change: Change,
    event: Event<Payload>,
  ): Promise<Row & { eventWritten: boolean }> {
    const eventId = randomUUID();
    const payload = { ...event.payload, eventId };
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const next = change.params.length;
    const [{ outbox_id: id, ...row }] = await this.dataSource.query<({ outbox_id: string | null } & Row)[]>(
      `WITH ${change.with},
       outbox_message AS (
         INSERT INTO outbox (event_id, topic, key, payload, trace_context)
         SELECT $${next + 1}, $${next + 2}, $${next + 3}, $${next + 4}, $${next + 5}${change.eventIf ? ` FROM ${change.eventIf}` : ''}
         RETURNING id
       )
       SELECT (SELECT id FROM outbox_message) AS outbox_id${change.select ? `, ${change.select}` : ''}`,
      [...change.params, eventId, event.topic, event.key, payload, traceContext],
    );
    if (id !== null) this.relay.sendAfterCommit({ id, eventId, topic: event.topic, key: event.key, payload, traceContext });
    return { ...(row as unknown as Row), eventWritten: id !== null };
  }
}
