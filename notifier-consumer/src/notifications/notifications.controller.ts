import { STUDENT_BILLING_TOPIC } from '@demo/common/contracts';
import { DeadLetters } from '@demo/common/kafka';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { NotificationsService } from './notifications.service.js';

@Controller()
export class NotificationsController {
  constructor(
    private readonly notificationsService: NotificationsService,
    private readonly deadLetters: DeadLetters,
  ) {}

  /** A message that cannot be handled goes to `student-billing-dlt` and the next one is taken. */
  @EventPattern<string>(STUDENT_BILLING_TOPIC)
  onStudentBilled(@Payload() message: unknown, @Ctx() context: KafkaContext): Promise<void> {
    return this.deadLetters.processOrDeadLetter(context, () => this.notificationsService.notify(message));
  }
}
