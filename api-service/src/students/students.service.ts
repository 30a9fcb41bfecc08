import { randomUUID } from 'node:crypto';
import { STUDENT_TOPIC, type StudentRegisteredEvent } from '@demo/common/contracts';
import { Outbox, outboxValues } from '@demo/common/outbox';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import type { CreateStudentDto } from './dto/create-student.dto.js';
import { Student } from './student.entity.js';

@Injectable()
export class StudentsService {
  private readonly logger = new Logger(StudentsService.name);

  constructor(
    @InjectRepository(Student) private readonly students: Repository<Student>,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Stores the student and its `student` message in one statement, so in one transaction (a
   * data-modifying CTE is atomic): the student exists only if the message does, whatever happens to
   * Kafka. The outbox relay then sends it to billing-consumer.
   */
  async register(dto: CreateStudentDto): Promise<Student> {
    const student = this.students.create({ ...dto, id: randomUUID(), createdAt: new Date(), feeCents: null, billedAt: null });
    const event: Omit<StudentRegisteredEvent, 'eventId'> = {
      id: student.id,
      firstname: student.firstname,
      lastname: student.lastname,
      createdAt: student.createdAt,
    };
    const message = this.outbox.message(STUDENT_TOPIC, student.id, event);
    const [{ id }] = await this.dataSource.query<{ id: string }[]>(
      `WITH student AS (
         INSERT INTO students (id, firstname, lastname, created_at) VALUES ($1, $2, $3, $4)
       )
       INSERT INTO outbox (event_id, topic, key, payload, trace_context) VALUES ($5, $6, $7, $8, $9)
       RETURNING id`,
      [student.id, student.firstname, student.lastname, student.createdAt, ...outboxValues(message)],
    );
    this.outbox.afterCommit({ ...message, id });
    this.logger.log('student registered', { studentId: student.id });
    return student;
  }

  async findOne(id: string): Promise<Student> {
    const student = await this.students.findOneBy({ id });
    if (!student) throw new NotFoundException(`Student ${id} not found`);
    return student;
  }
}
