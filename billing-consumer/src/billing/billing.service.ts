import {
  EventPublisher,
  inSpan,
  parseEvent,
  Student,
  STUDENT_BILLING_TOPIC,
  type StudentBilledEvent,
  StudentRegisteredEvent,
} from '@demo/common';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { tuitionFeeCents } from './tuition.js';

@Injectable()
export class BillingService {
  private readonly logger = new Logger(BillingService.name);

  constructor(
    @InjectRepository(Student) private readonly students: Repository<Student>,
    private readonly events: EventPublisher,
  ) {}

  /**
   * Runs inside the `process student` consumer span (the kafkajs instrumentation makes it active),
   * so `bill student`, its UPDATE and its `send student-billing` all belong to the trace of the POST.
   */
  bill(message: unknown): Promise<void> {
    return inSpan('bill student', {}, async (span) => {
      const student = parseEvent(StudentRegisteredEvent, message);
      span.setAttribute('student.id', student.id);
      const feeCents = tuitionFeeCents(student.createdAt);
      const billedAt = new Date();
      const { affected } = await this.students.update({ id: student.id }, { feeCents, billedAt });
      if (affected === 0) throw new Error(`Student ${student.id} does not exist`);
      span.setAttribute('student.fee_cents', feeCents);
      const billed: StudentBilledEvent = { ...student, feeCents, billedAt };
      await this.events.publish(STUDENT_BILLING_TOPIC, student.id, billed);
      this.logger.log('student billed', { studentId: student.id, feeCents });
    });
  }
}
