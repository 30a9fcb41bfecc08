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

  /**
   * What the propagators inject for the span that wrote the message: W3C `traceparent`, `tracestate`
   * when there is one, and `baggage` (e.g. `app.synthetic=true` from the load generator).
   */
  @Column({ name: 'trace_context', type: 'jsonb' })
  traceContext: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
