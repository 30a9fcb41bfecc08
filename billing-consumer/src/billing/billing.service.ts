import type { StudentRegisteredEvent } from '@demo/common/contracts';
import { withHeartbeats } from '@demo/common/kafka';
import { APP_ATTRIBUTES, inSpan } from '@demo/common/telemetry';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { trace } from '@opentelemetry/api';
import type { BillingEnvironment } from './billing.environment.js';
import { BillingRepository } from './billing.repository.js';
import { tuitionFeeCents } from './tuition.js';

@Injectable()
export class BillingService {
  private readonly logger = new Logger(BillingService.name);

  private readonly delayMs: number;

  constructor(
    private readonly billing: BillingRepository,
    config: ConfigService<BillingEnvironment, true>,
  ) {
    this.delayMs = config.get('BILLING_DELAY_MS', { infer: true }) ?? 0;
  }

  /**
   * Runs inside the `process student` consumer span (the kafkajs instrumentation makes it active), so
   * `bill student`, its queries and the `student-billing` message it writes all belong to the trace of
   * the POST. Kafka delivers at least once: a second delivery of an event is acknowledged and changes
   * nothing, and its consumer span says `app.billing.duplicate: true`. `heartbeat` keeps this consumer in
   * its group during BILLING_DELAY_MS, which may be longer than a Kafka session.
   */
  bill({ eventId, ...student }: StudentRegisteredEvent, heartbeat: () => Promise<void>): Promise<void> {
    const consumerSpan = trace.getActiveSpan();
    return inSpan('bill student', {}, async (span) => {
      span.setAttribute(APP_ATTRIBUTES.studentId, student.id);
      if (this.delayMs > 0) {
        span.addEvent('slowed down by BILLING_DELAY_MS', { [APP_ATTRIBUTES.billingDelayMs]: this.delayMs });
        await withHeartbeats(heartbeat, () => sleep(this.delayMs));
      }
      const feeCents = tuitionFeeCents(student.createdAt);
      const outcome = await this.billing.billOnce(eventId, { ...student, feeCents, billedAt: new Date() });
      for (const each of [span, consumerSpan]) each?.setAttribute(APP_ATTRIBUTES.billingDuplicate, outcome === 'duplicate');
      if (outcome === 'duplicate') {
        this.logger.log('duplicate delivery, already billed', { studentId: student.id, eventId });
        return;
      }
      span.setAttribute(APP_ATTRIBUTES.studentFeeCents, feeCents);
      this.logger.log('student billed', { studentId: student.id, feeCents });
    });
  }
}
