import { STUDENT_TOPIC } from '@demo/common';
import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BillingService } from './billing.service.js';

@Controller()
export class BillingController {
  private readonly logger = new Logger(BillingController.name);

  constructor(private readonly billingService: BillingService) {}

  @EventPattern<string>(STUDENT_TOPIC)
  async onStudentRegistered(@Payload() message: unknown): Promise<void> {
    try {
      await this.billingService.bill(message);
    } catch (error) {
      // A message that cannot be billed is logged whole and skipped: rethrowing would make kafkajs
      // deliver it again and again, and block its partition.
      this.logger.error('student not billed, message skipped', { message, error: (error as Error).message });
    }
  }
}
