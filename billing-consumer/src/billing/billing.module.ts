import { EventsModule, OutboxModule, STUDENT_BILLING_TOPIC } from '@demo/common';
import { Module } from '@nestjs/common';
import { BillingController } from './billing.controller.js';
import { BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';

@Module({
  imports: [EventsModule, OutboxModule.forTopics([STUDENT_BILLING_TOPIC])],
  controllers: [BillingController],
  providers: [BillingService, BillingRepository],
})
export class BillingModule {}
