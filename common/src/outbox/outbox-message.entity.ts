import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A Kafka message written in the same transaction as the change it announces, sent by the relay. */
@Entity('outbox')
export class OutboxMessage {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column()
  topic: string;

  @Column()
  key: string;

  @Column({ type: 'jsonb' })
  payload: object;

  /** W3C `traceparent` and `tracestate` of the span that wrote the message. */
  @Column({ name: 'trace_context', type: 'jsonb' })
  traceContext: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
