import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An event a consumer group has processed: a second delivery of it is a duplicate. */
@Entity('processed_events')
export class ProcessedEvent {
  @PrimaryColumn({ name: 'consumer_group' })
  consumerGroup: string;

  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @CreateDateColumn({ name: 'processed_at', type: 'timestamptz' })
  processedAt: Date;
}
