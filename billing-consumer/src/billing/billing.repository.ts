import type { ConsumerEnvironment } from '@demo/common/config';
import { STUDENT_BILLING_TOPIC, type StudentBilledEvent } from '@demo/common/contracts';
import { Outbox } from '@demo/common/outbox';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

export type BillingOutcome = 'billed' | 'duplicate';

@Injectable()
export class BillingRepository {
  private readonly consumerGroup: string;

  constructor(
    private readonly outbox: Outbox,
    config: ConfigService<ConsumerEnvironment, true>,
  ) {
    this.consumerGroup = config.get('KAFKA_CONSUMER_GROUP', { infer: true });
  }

  /**
   * In one statement, so in one transaction (a data-modifying CTE is atomic): records the event as
   * processed by this consumer group (`claim`: a second delivery of it finds the row and changes
   * nothing), sets the fee (`fee`), and, only if it did, writes the `student-billing` event. Postgres
   * decides what is a duplicate, so it holds across restarts and replicas. Nothing is claimed for a
   * student that does not exist: the error lets the message be retried, then dead-lettered.
   */
  async billOnce(eventId: string, billed: Omit<StudentBilledEvent, 'eventId'>): Promise<BillingOutcome> {
    const { eventWritten, student_exists: studentExists } = await this.outbox.write<{ student_exists: boolean }>(
      {
        with: `claim AS (
                 INSERT INTO processed_events (consumer_group, event_id)
                 SELECT $1, $2 WHERE EXISTS (SELECT FROM students WHERE id = $3)
                 ON CONFLICT DO NOTHING
                 RETURNING event_id
               ), fee AS (
                 UPDATE students SET fee_cents = $4, billed_at = $5
                 WHERE id = $3 AND EXISTS (SELECT FROM claim)
                 RETURNING id
               )`,
        params: [this.consumerGroup, eventId, billed.id, billed.feeCents, billed.billedAt],
        eventIf: 'fee',
        select: 'EXISTS (SELECT FROM students WHERE id = $3) AS student_exists',
      },
      { topic: STUDENT_BILLING_TOPIC, key: billed.id, payload: billed },
    );
    if (eventWritten) return 'billed';
    if (!studentExists) throw new Error(`Student ${billed.id} does not exist`);
    return 'duplicate';
  }
}
