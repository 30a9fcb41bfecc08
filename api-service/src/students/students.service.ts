import { STUDENT_TOPIC, type StudentRegisteredEvent } from '@demo/common/contracts';
import { Outbox } from '@demo/common/outbox';
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
   * Stores the student and its `student` message in one transaction: the student exists only if the
   * message does, whatever happens to Kafka. The outbox relay then sends it to billing-consumer.
   */
  async register(dto: CreateStudentDto): Promise<Student> {
    const { student, message } = await this.dataSource.transaction(async (manager) => {
      const created = manager.create(Student, { ...dto, feeCents: null, billedAt: null });
      // INSERT ... RETURNING: `insert` fills in id and createdAt.
      await manager.insert(Student, created);
      const event: Omit<StudentRegisteredEvent, 'eventId'> = {
        id: created.id,
        firstname: created.firstname,
        lastname: created.lastname,
        createdAt: created.createdAt,
      };
      return { student: created, message: await this.outbox.add(manager, STUDENT_TOPIC, created.id, event) };
    });
    this.outbox.afterCommit(message);
    this.logger.log('student registered', { studentId: student.id });
    return student;
  }

  async findOne(id: string): Promise<Student> {
    const student = await this.students.findOneBy({ id });
    if (!student) throw new NotFoundException(`Student ${id} not found`);
    return student;
  }
}
