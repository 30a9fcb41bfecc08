// class-transformer's @Type reads decorator metadata as the class is defined.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsNotEmpty, IsString, IsUUID, MaxLength, Min } from 'class-validator';

/** Kafka topics, keyed by student id. */
export const STUDENT_TOPIC = 'student';
export const STUDENT_BILLING_TOPIC = 'student-billing';

/** The value of a `student` message: a student api-service has just registered. */
export class StudentRegisteredEvent {
  /** Unique per event (not per delivery): a consumer that sees it twice has a duplicate. */
  @IsUUID()
  eventId: string;

  @IsUUID()
  id: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  firstname: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  lastname: string;

  @Type(() => Date)
  @IsDate()
  createdAt: Date;
}

/** The value of a `student-billing` message: the same student, with its fee. */
export class StudentBilledEvent extends StudentRegisteredEvent {
  @IsInt()
  @Min(0)
  feeCents: number;

  @Type(() => Date)
  @IsDate()
  billedAt: Date;
}
