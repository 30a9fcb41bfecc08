import { STUDENT_BILLING_TOPIC } from '@demo/common/contracts';
import { KafkaProducerModule } from '@demo/common/kafka';
import { OutboxModule } from '@demo/common/outbox';
import { Module } from '@nestjs/common';
import { BillingController } from './billing.controller.js';
import { BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';

@Module({
  imports: [KafkaProducerModule, OutboxModule.forTopics([STUDENT_BILLING_TOPIC])],
  controllers: [BillingController],
  providers: [BillingService, BillingRepository],
})
export class BillingModule {}
