/**
 * Traces the KafkaJS-compatible API of `@confluentinc/kafka-javascript` as instrumentation-kafkajs
 * 0.33 traces kafkajs: the same span names, kinds, attributes, hooks and metrics, so that a trace,
 * a query or a dashboard does not tell which client a service runs. It wraps one `Kafka` object
 * rather than the package's modules, so no loader hook is involved.
 *
 * Where it departs from instrumentation-kafkajs, on purpose:
 * - a `process` span of a single message is linked to the message's creation context as well as its
 *   child, as the conventions ask (instrumentation-kafkajs leaves the link to a hook);
 * - `consumerTrace: 'link'` makes that span a root linked to the creation context (KAFKA_CONSUMER_TRACE);
 * - messaging.client.operation.duration times each send call (kafkajs' client reports each broker
 *   request, which this API does not show); `messaging.kafka.cluster.id` is not known to this API.
 */
import { type Attributes, type Context, context, type Counter, diag, type Histogram, type Link, metrics, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ERROR_TYPE_VALUE_OTHER } from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_MESSAGE_KEY,
  ATTR_MESSAGING_KAFKA_MESSAGE_TOMBSTONE,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_VALUE_KAFKA,
  METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
  METRIC_MESSAGING_PROCESS_DURATION,
} from '@opentelemetry/semantic-conventions/incubating';
import { kafkaHeaderGetter } from '../telemetry/kafka-headers.js';
import type { KafkaSpanHook } from '../telemetry/kafka-span-hooks.js';
import type { ConsumerRunConfig, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage, Message, TopicMessages } from './kafkajs-api.js';

export interface KafkaTracingConfig {
  /** Called on every `send` span, in the context of the send: instrumentation-kafkajs' producerHook. */
  producerHook?: KafkaSpanHook;
  /** Called on every `process` span: instrumentation-kafkajs' consumerHook. */
  consumerHook?: KafkaSpanHook;
  /**
   * What a `process` span of a single message makes of the message's creation context: `parent`
   * (its child, and linked to it) or `link` (the root of a new trace, linked to it).
   */
  consumerTrace?: 'parent' | 'link';
}

const SCOPE = '@demo/common/kafka-confluent';
// instrumentation-kafkajs' boundaries: both clients' histograms can be added up.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const KAFKA = { [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_KAFKA };

/** Records one metric once the operation is over, with its error.type if it failed. */
type PendingMetric = (errorType?: string) => void;

/**
 * Taken when a Kafka object is instrumented, which the transports do once the SDK runs: instruments
 * taken from the API before the SDK registers its MeterProvider would record nothing, ever. No unit,
 * as instrumentation-kafkajs: the same names in Prometheus for both clients.
 */
function instruments() {
  const meter = metrics.getMeter(SCOPE);
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  return {
    sent: meter.createCounter(METRIC_MESSAGING_CLIENT_SENT_MESSAGES),
    consumed: meter.createCounter(METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES),
    operationDuration: meter.createHistogram(METRIC_MESSAGING_CLIENT_OPERATION_DURATION, { advice }),
    processDuration: meter.createHistogram(METRIC_MESSAGING_PROCESS_DURATION, { advice }),
  };
}

const count = (counter: Counter, value: number, attributes: Attributes): PendingMetric => (errorType) =>
  counter.add(value, { ...attributes, ...(errorType && { [ATTR_ERROR_TYPE]: errorType }) });

const time = (histogram: Histogram, startMs: number, attributes: Attributes): PendingMetric => (errorType) =>
  histogram.record((Date.now() - startMs) / 1000, { ...attributes, ...(errorType && { [ATTR_ERROR_TYPE]: errorType }) });

/** The error's class, as instrumentation-kafkajs names it; `_OTHER` for a rejection that is no error. */
function errorType(reason: unknown): string {
  return typeof reason === 'object' && reason !== null && Object.hasOwn(reason, 'message') ? reason.constructor.name : ERROR_TYPE_VALUE_OTHER;
}

/** Ends `spans` and records `pending` once `work` settles; a failure marks every span. */
async function settle<T>(spans: Span[], pending: PendingMetric[], work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    pending.forEach((record) => record());
    return result;
  } catch (reason) {
    const type = errorType(reason);
    pending.forEach((record) => record(type));
    for (const span of spans) {
      span.setAttribute(ATTR_ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (reason as Error | undefined)?.message });
    }
    throw reason;
  } finally {
    spans.forEach((span) => span.end());
  }
}

/** A hook that throws must not fail a send or a message. */
function runHook(hook: KafkaSpanHook | undefined, span: Span, topic: string, message: Message | KafkaMessage) {
  try {
    hook?.(span, { topic, message });
  } catch (error) {
    diag.error(`${SCOPE}: a span hook failed`, error);
  }
}

/** The attributes of a message that the conventions want on its span. */
function messageAttributes(message: Message | KafkaMessage): Attributes {
  return {
    ...(message.key && { [ATTR_MESSAGING_KAFKA_MESSAGE_KEY]: String(message.key) }),
    ...(message.key && message.value === null && { [ATTR_MESSAGING_KAFKA_MESSAGE_TOMBSTONE]: true }),
  };
}

/** The link to the `send` span that wrote a consumed message, if its headers name one. */
function creationLink(sentIn: Context): Link[] {
  const creation = trace.getSpanContext(sentIn);
  return creation ? [{ context: creation }] : [];
}

/**
 * Traces what `kafka`'s producers send and its consumers process, from now on; returns `kafka`.
 * Producers and consumers made before the call are not traced.
 */
export function instrumentKafka<K extends Kafka>(kafka: K, config: KafkaTracingConfig = {}): K {
  const tracer = trace.getTracer(SCOPE);
  const { sent, consumed, operationDuration, processDuration } = instruments();

  /** `send <topic>` per message, its context written into the message's headers for the consumer. */
  function startSendSpan(topic: string, message: Message): Span {
    const span = tracer.startSpan(`send ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...KAFKA,
        [ATTR_MESSAGING_DESTINATION_NAME]: topic,
        ...messageAttributes(message),
        ...(message.partition !== undefined && { [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(message.partition) }),
        [ATTR_MESSAGING_OPERATION_NAME]: 'send',
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
      },
    });
    message.headers ??= {};
    propagation.inject(trace.setSpan(context.active(), span), message.headers);
    runHook(config.producerHook, span, topic, message);
    return span;
  }

  function sending<T>(topicMessages: TopicMessages[], work: () => Promise<T>): Promise<T> {
    const spans: Span[] = [];
    const pending: PendingMetric[] = [];
    for (const { topic, messages } of topicMessages) {
      for (const message of messages) {
        spans.push(startSendSpan(topic, message));
        pending.push(count(sent, 1, {
          ...KAFKA,
          [ATTR_MESSAGING_OPERATION_NAME]: 'send',
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          ...(message.partition !== undefined && { [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(message.partition) }),
        }));
      }
    }
    const topics = new Set(topicMessages.map(({ topic }) => topic));
    pending.push(time(operationDuration, Date.now(), {
      ...KAFKA,
      [ATTR_MESSAGING_OPERATION_NAME]: 'send',
      ...(topics.size === 1 && { [ATTR_MESSAGING_DESTINATION_NAME]: [...topics][0] }),
    }));
    return settle(spans, pending, work);
  }

  /** A `process <topic>` span, and what its message said about the context it was sent in. */
  function startProcessSpan(topic: string, partition: number, message: KafkaMessage, parent: { context: Context; root?: boolean; links: Link[] }): Span {
    const span = tracer.startSpan(`process ${topic}`, {
      kind: SpanKind.CONSUMER,
      root: parent.root,
      links: parent.links,
      attributes: {
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
        ...KAFKA,
        [ATTR_MESSAGING_DESTINATION_NAME]: topic,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
        [ATTR_MESSAGING_OPERATION_NAME]: 'process',
        ...messageAttributes(message),
        [ATTR_MESSAGING_KAFKA_OFFSET]: message.offset,
      },
    }, parent.context);
    runHook(config.consumerHook, span, topic, message);
    return span;
  }

  const processed = (topic: string, partition: number): Attributes => ({
    ...KAFKA,
    [ATTR_MESSAGING_OPERATION_NAME]: 'process',
    [ATTR_MESSAGING_DESTINATION_NAME]: topic,
    [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
  });

  /** The handler runs in the message's context (its baggage too), with the process span active. */
  const tracedEachMessage = (eachMessage: (payload: EachMessagePayload) => Promise<void>) => (payload: EachMessagePayload) => {
    const { topic, partition, message } = payload;
    const sentIn = propagation.extract(ROOT_CONTEXT, message.headers, kafkaHeaderGetter);
    const span = startProcessSpan(topic, partition, message, { context: sentIn, root: config.consumerTrace === 'link', links: creationLink(sentIn) });
    const pending = [time(processDuration, Date.now(), processed(topic, partition)), count(consumed, 1, processed(topic, partition))];
    return settle([span], pending, () => context.with(trace.setSpan(sentIn, span), () => eachMessage(payload)));
  };

  /**
   * A batch is a `poll <topic>` span in a new trace with a `process <topic>` child per message, linked
   * to the message's creation context. Every span lasts as long as the handler. As with kafkajs, the
   * poll span's links to the messages are the handler's to add (EachBatchKafkaServer does, for both).
   */
  const tracedEachBatch = (eachBatch: (payload: EachBatchPayload) => Promise<void>) => (payload: EachBatchPayload) => {
    const { topic, partition, messages } = payload.batch;
    const sentIn = messages.map((message) => propagation.extract(ROOT_CONTEXT, message.headers, kafkaHeaderGetter));
    const poll = tracer.startSpan(`poll ${topic}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: messages.length,
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
        ...KAFKA,
        [ATTR_MESSAGING_DESTINATION_NAME]: topic,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
        [ATTR_MESSAGING_OPERATION_NAME]: 'poll',
      },
    }, ROOT_CONTEXT);
    const inPoll = trace.setSpan(context.active(), poll);
    const startMs = Date.now();
    const spans = messages.map((message, index) => startProcessSpan(topic, partition, message, { context: inPoll, links: creationLink(sentIn[index]!) }));
    const pending = [
      count(consumed, messages.length, processed(topic, partition)),
      ...messages.map(() => time(processDuration, startMs, processed(topic, partition))),
    ];
    return settle([poll, ...spans], pending, () => context.with(inPoll, () => eachBatch(payload)));
  };

  const makeProducer = kafka.producer.bind(kafka);
  kafka.producer = (producerConfig?: object) => {
    const producer = makeProducer(producerConfig);
    const send = producer.send.bind(producer);
    const sendBatch = producer.sendBatch.bind(producer);
    producer.send = (record) => sending([record], () => send(record));
    producer.sendBatch = (batch) => sending(batch.topicMessages ?? [], () => sendBatch(batch));
    return producer;
  };

  const makeConsumer = kafka.consumer.bind(kafka);
  kafka.consumer = (consumerConfig: object) => {
    const consumer = makeConsumer(consumerConfig);
    const run = consumer.run.bind(consumer);
    // A copy: the client checks which options the caller set, and the caller's object stays as it was.
    consumer.run = (runConfig: ConsumerRunConfig = {}) =>
      run({
        ...runConfig,
        ...(runConfig.eachMessage && { eachMessage: tracedEachMessage(runConfig.eachMessage.bind(runConfig)) }),
        ...(runConfig.eachBatch && { eachBatch: tracedEachBatch(runConfig.eachBatch.bind(runConfig)) }),
      });
    return consumer;
  };
  return kafka;
}
