import { randomUUID } from 'node:crypto';
import { STUDENT_TOPIC, type StudentRegisteredEvent } from '@demo/common/contracts';
import { Outbox } from '@demo/common/outbox';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { CreateStudentDto } from './dto/create-student.dto.js';
import { Student } from './student.entity.js';

@Injectable()
export class StudentsService {
  private readonly logger = new Logger(StudentsService.name);

  constructor(
    @InjectRepository(Student) private readonly students: Repository<Student>,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Stores the student and its `student` event in one statement (the outbox adds its own insert):
   * the student exists only if the event does, whatever happens to Kafka. The outbox relay then
   * sends it to billing-consumer.
   */
  async register(dto: CreateStudentDto): Promise<Student> {
    const student = this.students.create({ ...dto, id: randomUUID(), createdAt: new Date(), feeCents: null, billedAt: null });
    const event: Omit<StudentRegisteredEvent, 'eventId'> = {
      id: student.id,
      firstname: student.firstname,
      lastname: student.lastname,
      createdAt: student.createdAt,
    };
    await this.outbox.write(
      {
        with: 'student AS (INSERT INTO students (id, firstname, lastname, created_at) VALUES ($1, $2, $3, $4))',
        params: [student.id, student.firstname, student.lastname, student.createdAt],
      },
      { topic: STUDENT_TOPIC, key: student.id, payload: event },
    );
    this.logger.log('student registered', { studentId: student.id });
    return student;
  }

  async findOne(id: string): Promise<Student> {
    const student = await this.students.findOneBy({ id });
    if (!student) throw new NotFoundException(`Student ${id} not found`);
    return student;
  }
}
