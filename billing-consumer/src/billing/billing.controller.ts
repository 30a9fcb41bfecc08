import { STUDENT_TOPIC, StudentRegisteredEvent } from '@demo/common/contracts';
import { DeadLetterInterceptor, ParseEventPipe } from '@demo/common/kafka';
import { Controller, UseInterceptors } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { BillingService } from './billing.service.js';

/** A message that cannot be handled goes to `student-dlt` and the next one is taken. */
@Controller()
@UseInterceptors(DeadLetterInterceptor)
export class BillingController {
  constructor(private readonly billingService: BillingService) {}

  @EventPattern<string>(STUDENT_TOPIC)
  onStudentRegistered(@Payload(ParseEventPipe) event: StudentRegisteredEvent, @Ctx() context: KafkaContext): Promise<void> {
    return this.billingService.bill(event, context.getHeartbeat());
  }
}
