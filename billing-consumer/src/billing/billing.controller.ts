import { STUDENT_TOPIC } from '@demo/common/contracts';
import { DeadLetters } from '@demo/common/kafka';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { BillingService } from './billing.service.js';

@Controller()
export class BillingController {
  constructor(
    private readonly billingService: BillingService,
    private readonly deadLetters: DeadLetters,
  ) {}

  /** A message that cannot be handled goes to `student-dlt` and the next one is taken. */
  @EventPattern<string>(STUDENT_TOPIC)
  onStudentRegistered(@Payload() message: unknown, @Ctx() context: KafkaContext): Promise<void> {
    return this.deadLetters.processOrDeadLetter(context, () => this.billingService.bill(message, context.getHeartbeat()));
  }
}
