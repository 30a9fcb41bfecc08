import { StudentBilledEvent } from '@demo/common/contracts';
import { parseEvent } from '@demo/common/kafka';
import { inSpan } from '@demo/common/telemetry';
import { Injectable, Logger } from '@nestjs/common';

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  /** "Sends" the bill: one structured log line, inside the `notify student` span of the trace. */
  notify(message: unknown): Promise<void> {
    return inSpan('notify student', {}, async (span) => {
      const student = parseEvent(StudentBilledEvent, message);
      span.setAttribute('student.id', student.id);
      this.logger.log('notification sent', {
        studentId: student.id,
        name: `${student.firstname} ${student.lastname}`,
        feeCents: student.feeCents,
      });
    });
  }
}
