import type { StudentBilledEvent } from '@demo/common/contracts';
import { APP_ATTRIBUTES, inSpan } from '@demo/common/telemetry';
import { Injectable, Logger } from '@nestjs/common';

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  /**
   * "Sends" the bill: one structured log line, inside the `notify student` span of the trace. Log lines
   * and spans name the student by id only: they are kept and copied where personal data must not go.
   */
  notify(student: StudentBilledEvent): Promise<void> {
    return inSpan('notify student', {}, async (span) => {
      span.setAttribute(APP_ATTRIBUTES.studentId, student.id);
      this.logger.log('notification sent', { studentId: student.id, feeCents: student.feeCents });
    });
  }
}
