import type { Student } from './student.entity.js';
import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CreateStudentDto } from './dto/create-student.dto.js';
import { StudentsService } from './students.service.js';

@Controller('students')
export class StudentsController {
  constructor(private readonly studentsService: StudentsService) {}

  /** 201 with the stored student; the `traceresponse` header carries the trace id. */
  @Post()
  create(@Body() dto: CreateStudentDto): Promise<Student> {
    return this.studentsService.register(dto);
  }

  /** The student, with its fee once billing-consumer has run. */
  @Get(':id')
  findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<Student> {
    return this.studentsService.findOne(id);
  }
}
