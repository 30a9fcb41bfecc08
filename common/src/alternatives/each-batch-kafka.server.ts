import { kafkaHeaderGetter } from '../telemetry/kafka-headers.js';
import { ServerKafka } from '@nestjs/microservices';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload } from 'kafkajs';

/**
 * An alternative to Nest's Kafka server, chosen with KAFKA_CONSUME=each-batch (kafkaConsumerOptions):
 * kafkajs `eachBatch` instead of `eachMessage`, the messages a fetch returned for one partition together. Each one still goes to its `@EventPattern` handler
 * (dead letters included), one after the other, in the trace it was sent in.
 *
 * For a batch, instrumentation-kafkajs (and instrument-kafka.ts on the confluent client) starts a
 * `poll <topic>` span in a new trace, with a `process <topic>` child per message linked to the
 * message's producer span. Left at that, the handler's work
 * would land in the poll's trace, cut off from the request that caused it. So each message is
 * handled in the context extracted from its own headers, and its spans (`notify student`) are
 * children of its producer span; the poll span gets a link to every message it brought in.
 */
export class EachBatchKafkaServer extends ServerKafka {
  override async bindEvents(consumer: Consumer): Promise<void> {
    await consumer.subscribe({ ...this.options.subscribe, topics: [...this.messageHandlers.keys()] });
    // Offsets are resolved one handled message at a time; kafkajs' default would resolve the whole
    // batch when handleBatch returns early on a stop, and the rest would never be handled.
    await consumer.run({ ...this.options.run, eachBatchAutoResolve: false, eachBatch: (payload) => this.handleBatch(payload) });
  }

  async handleBatch({ batch, heartbeat, pause, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    // Active here: the instrumentation's poll span.
    const pollSpan = trace.getActiveSpan();
    const sentIn = batch.messages.map((message) => propagation.extract(ROOT_CONTEXT, message.headers, kafkaHeaderGetter));
    for (const sent of sentIn) {
      const producerSpan = trace.getSpanContext(sent);
      if (producerSpan) pollSpan?.addLink({ context: producerSpan });
    }
    for (const [index, message] of batch.messages.entries()) {
      // Stopping or rebalancing: the rest of the batch is delivered again, to whoever owns the partition.
      if (!isRunning() || isStale()) return;
      await context.with(sentIn[index], () =>
        this.handleMessage({ topic: batch.topic, partition: batch.partition, message, heartbeat, pause }),
      );
      // A crash after this message does not deliver it again.
      resolveOffset(message.offset);
      await heartbeat();
    }
  }
}
