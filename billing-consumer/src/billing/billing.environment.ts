import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Billing's own settings, validated at start-up with the others. */
export class BillingEnvironment {
  /**
   * Makes each billing this much slower, so that billing falls behind and the time the next messages
   * wait in `student` shows in Jaeger (0, the default, is off). Billing heartbeats during the delay, so
   * it may be longer than the Kafka session (kafka-options.ts).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  BILLING_DELAY_MS?: number;
}
