import type { ConsumerEnvironment } from '@demo/common/config';
import { STUDENT_BILLING_TOPIC, type StudentBilledEvent } from '@demo/common/contracts';
import { Outbox, outboxValues } from '@demo/common/outbox';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';

export type BillingOutcome = 'billed' | 'duplicate';

@Injectable()
export class BillingRepository {
  private readonly consumerGroup: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    config: ConfigService<ConsumerEnvironment, true>,
  ) {
    this.consumerGroup = config.get('KAFKA_CONSUMER_GROUP', { infer: true });
  }

  /**
   * In one statement, so in one transaction (a data-modifying CTE is atomic): records the event as
   * processed by this consumer group (`claim`: a second delivery of it finds the row and changes
   * nothing), sets the fee (`fee`), and adds the `student-billing` message to the outbox. Postgres
   * decides what is a duplicate, so it holds across restarts and replicas. Nothing is claimed for a
   * student that does not exist: the error lets the message be retried, then dead-lettered.
   */
  async billOnce(eventId: string, billed: Omit<StudentBilledEvent, 'eventId'>): Promise<BillingOutcome> {
    const message = this.outbox.message(STUDENT_BILLING_TOPIC, billed.id, billed);
    const [{ message_id: messageId, student_exists: studentExists }] = await this.dataSource.query<
      { message_id: string | null; student_exists: boolean }[]
    >(
      `WITH claim AS (
         INSERT INTO processed_events (consumer_group, event_id)
         SELECT $1, $2 WHERE EXISTS (SELECT FROM students WHERE id = $3)
         ON CONFLICT DO NOTHING
         RETURNING event_id
       ), fee AS (
         UPDATE students SET fee_cents = $4, billed_at = $5
         WHERE id = $3 AND EXISTS (SELECT FROM claim)
         RETURNING id
       ), message AS (
         INSERT INTO outbox (event_id, topic, key, payload, trace_context)
         SELECT $6, $7, $8, $9, $10 FROM fee
         RETURNING id
       )
       SELECT (SELECT id FROM message) AS message_id, EXISTS (SELECT FROM students WHERE id = $3) AS student_exists`,
      [this.consumerGroup, eventId, billed.id, billed.feeCents, billed.billedAt, ...outboxValues(message)],
    );
    if (messageId !== null) {
      this.outbox.afterCommit({ ...message, id: messageId });
      return 'billed';
    }
    if (!studentExists) throw new Error(`Student ${billed.id} does not exist`);
    return 'duplicate';
  }
}
