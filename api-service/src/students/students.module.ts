import { STUDENT_TOPIC } from '@demo/common/contracts';
import { OutboxModule } from '@demo/common/outbox';
import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TraceResponseMiddleware } from '../http/trace-response.middleware.js';
import { Student } from './student.entity.js';
import { StudentsController } from './students.controller.js';
import { StudentsService } from './students.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Student]), OutboxModule.forTopics([STUDENT_TOPIC])],
  controllers: [StudentsController],
  providers: [StudentsService],
})
export class StudentsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TraceResponseMiddleware).forRoutes(StudentsController);
  }
}
