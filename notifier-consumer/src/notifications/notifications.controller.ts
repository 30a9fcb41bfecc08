import { STUDENT_BILLING_TOPIC, StudentBilledEvent } from '@demo/common/contracts';
import { DeadLetterInterceptor, ParseEventPipe } from '@demo/common/kafka';
import { Controller, UseInterceptors } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { NotificationsService } from './notifications.service.js';

/** A message that cannot be handled goes to `student-billing-dlt` and the next one is taken. */
@Controller()
@UseInterceptors(DeadLetterInterceptor)
export class NotificationsController {
  constructor(private readonly notificationsService: NotificationsService) {}

  @EventPattern<string>(STUDENT_BILLING_TOPIC)
  onStudentBilled(@Payload(ParseEventPipe) event: StudentBilledEvent): Promise<void> {
    return this.notificationsService.notify(event);
  }
}
