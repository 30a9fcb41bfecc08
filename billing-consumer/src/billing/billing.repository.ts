import { Outbox, Student, STUDENT_BILLING_TOPIC, type StudentBilledEvent } from '@demo/common';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';

export type BillingOutcome = 'billed' | 'duplicate';

@Injectable()
export class BillingRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly config: ConfigService,
  ) {}

  /**
   * In one transaction: records the event as processed by this consumer group (a second delivery of
   * it finds the row and changes nothing), sets the fee, and adds the `student-billing` message to the
   * outbox. Postgres decides what is a duplicate, so it holds across restarts and replicas.
   */
  async billOnce(eventId: string, billed: Omit<StudentBilledEvent, 'eventId'>): Promise<BillingOutcome> {
    const billedMessage = await this.dataSource.transaction(async (manager) => {
      const firstTime = await manager.query(
        `INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [this.config.getOrThrow<string>('KAFKA_CONSUMER_GROUP'), eventId],
      );
      if (firstTime.length === 0) return undefined;
      const { affected } = await manager.update(
        Student,
        { id: billed.id },
        { feeCents: billed.feeCents, billedAt: billed.billedAt },
      );
      if (affected === 0) throw new Error(`Student ${billed.id} does not exist`);
      return this.outbox.add(manager, STUDENT_BILLING_TOPIC, billed.id, billed);
    });
    if (!billedMessage) return 'duplicate';
    this.outbox.afterCommit(billedMessage);
    return 'billed';
  }
}
