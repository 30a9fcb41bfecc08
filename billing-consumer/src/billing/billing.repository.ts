import type { ConsumerEnvironment } from '@demo/common/config';
import { STUDENT_BILLING_TOPIC, type StudentBilledEvent } from '@demo/common/contracts';
import { Outbox } from '@demo/common/outbox';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { StudentFee } from './student-fee.entity.js';

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
   * In one transaction: records the event as processed by this consumer group (a second delivery of
   * it finds the row and changes nothing), sets the fee, and adds the `student-billing` message to the
   * outbox. Postgres decides what is a duplicate, so it holds across restarts and replicas.
   */
  async billOnce(eventId: string, billed: Omit<StudentBilledEvent, 'eventId'>): Promise<BillingOutcome> {
    const billedMessage = await this.dataSource.transaction(async (manager) => {
      const firstTime = await manager.query(
        `INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [this.consumerGroup, eventId],
      );
      if (firstTime.length === 0) return undefined;
      const { affected } = await manager.update(
        StudentFee,
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
