import { KafkaProducerModule } from '@demo/common/kafka';
import { Module } from '@nestjs/common';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsService } from './notifications.service.js';

@Module({
  // DeadLetterInterceptor writes dead letters with its producer.
  imports: [KafkaProducerModule],
  controllers: [NotificationsController],
  providers: [NotificationsService],
})
export class NotificationsModule {}
