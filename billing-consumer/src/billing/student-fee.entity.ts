import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The columns of api-service's `students` table that billing sets; api-service owns the table. */
@Entity('students')
export class StudentFee {
  @PrimaryColumn('uuid')
  id: string;

  /** Yearly tuition in cents; null until billing has run. */
  @Column({ name: 'fee_cents', type: 'integer', nullable: true })
  feeCents: number | null;

  @Column({ name: 'billed_at', type: 'timestamptz', nullable: true })
  billedAt: Date | null;
}
