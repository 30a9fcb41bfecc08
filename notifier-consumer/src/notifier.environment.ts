import { IsIn, IsOptional } from 'class-validator';

/** What only the notifier reads. */
export class NotifierEnvironment {
  /**
   * How kafkajs hands messages to the notifier: `each-message` (the default, Nest's own Kafka server)
   * or `each-batch` (every message a fetch returned for one partition at once, see
   * notifications/batch-kafka.server.ts).
   */
  @IsOptional()
  @IsIn(['each-message', 'each-batch'])
  KAFKA_CONSUME?: 'each-message' | 'each-batch';
}
