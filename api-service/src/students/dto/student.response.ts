import type { Student } from '../student.entity.js';

/**
 * What the API answers for a student. Its own class rather than the entity: the API does not change
 * when the table does, and a column added for internal use stays out of the answers until it is
 * added here.
 */
export class StudentResponse {
  id: string;
  firstname: string;
  lastname: string;
  createdAt: Date;
  /** Yearly tuition in cents; null until billing has run. */
  feeCents: number | null;
  billedAt: Date | null;

  static from({ id, firstname, lastname, createdAt, feeCents, billedAt }: Student): StudentResponse {
    return { id, firstname, lastname, createdAt, feeCents, billedAt };
  }
}
