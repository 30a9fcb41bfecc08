import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CreateStudentDto } from './dto/create-student.dto.js';
import { StudentResponse } from './dto/student.response.js';
import { StudentsService } from './students.service.js';

@Controller('students')
export class StudentsController {
  constructor(private readonly studentsService: StudentsService) {}

  /** 201 with the stored student; the `traceresponse` header carries the trace id. */
  @Post()
  async create(@Body() dto: CreateStudentDto): Promise<StudentResponse> {
    return StudentResponse.from(await this.studentsService.register(dto));
  }

  /** The student, with its fee once billing-consumer has run. */
  @Get(':id')
  async findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<StudentResponse> {
    return StudentResponse.from(await this.studentsService.findOne(id));
  }
}
