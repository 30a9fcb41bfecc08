import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A student: registered here; billing-consumer sets its fee (billing/billing.repository.ts). */
@Entity('students')
export class Student {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ length: 100 })
  firstname: string;

  @Column({ length: 100 })
  lastname: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Yearly tuition in cents; null until billing has run. */
  @Column({ name: 'fee_cents', type: 'integer', nullable: true })
  feeCents: number | null;

  @Column({ name: 'billed_at', type: 'timestamptz', nullable: true })
  billedAt: Date | null;
}
