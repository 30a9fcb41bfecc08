import { EventPublisher, Student, STUDENT_TOPIC, type StudentRegisteredEvent } from '@demo/common';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { CreateStudentDto } from './dto/create-student.dto.js';

@Injectable()
export class StudentsService {
  private readonly logger = new Logger(StudentsService.name);

  constructor(
    @InjectRepository(Student) private readonly students: Repository<Student>,
    private readonly events: EventPublisher,
  ) {}

  /** Stores the student, then announces it on `student`: billing-consumer takes it from there. */
  async register(dto: CreateStudentDto): Promise<Student> {
    const student = this.students.create({ ...dto, feeCents: null, billedAt: null });
    // One INSERT ... RETURNING (no transaction around it): `insert` fills in id and createdAt.
    await this.students.insert(student);
    const event: StudentRegisteredEvent = {
      id: student.id,
      firstname: student.firstname,
      lastname: student.lastname,
      createdAt: student.createdAt,
    };
    await this.events.publish(STUDENT_TOPIC, student.id, event);
    this.logger.log('student registered', { studentId: student.id });
    return student;
  }

  async findOne(id: string): Promise<Student> {
    const student = await this.students.findOneBy({ id });
    if (!student) throw new NotFoundException(`Student ${id} not found`);
    return student;
  }
}
