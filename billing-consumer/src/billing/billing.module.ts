import { EventsModule, Student } from '@demo/common';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingController } from './billing.controller.js';
import { BillingService } from './billing.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Student]), EventsModule],
  controllers: [BillingController],
  providers: [BillingService],
})
export class BillingModule {}
