import { STUDENT_BILLING_TOPIC } from '@demo/common';
import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { NotificationsService } from './notifications.service.js';

@Controller()
export class NotificationsController {
  private readonly logger = new Logger(NotificationsController.name);

  constructor(private readonly notificationsService: NotificationsService) {}

  @EventPattern<string>(STUDENT_BILLING_TOPIC)
  async onStudentBilled(@Payload() message: unknown): Promise<void> {
    try {
      await this.notificationsService.notify(message);
    } catch (error) {
      // Logged whole and skipped, so that one bad message does not block its partition.
      this.logger.error('notification not sent, message skipped', { message, error: (error as Error).message });
    }
  }
}
