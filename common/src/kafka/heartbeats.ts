import { Logger } from '@nestjs/common';
import { HEARTBEAT_INTERVAL_MS } from './kafka-options.js';

const logger = new Logger('Kafka consumer');

/**
 * Runs `work` while telling the consumer group, every second, that this member is alive (`heartbeat`
 * is the one of the message being handled: `KafkaContext.getHeartbeat()`). kafkajs heartbeats only
 * between messages, so a handler that waits longer than the session timeout would be evicted and its
 * message delivered again. A failed heartbeat (the group is rebalancing, the broker is away) does not
 * fail the work: kafkajs rejoins the group after the message, as it would without it.
 */
export async function withHeartbeats<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  let beating: Promise<void> | undefined;
  const timer = setInterval(() => {
    beating ??= heartbeat()
      .catch((error: Error) => logger.warn(`heartbeat failed: ${error.message}`))
      .finally(() => (beating = undefined));
  }, HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
