/**
 * The span attributes this project invents, beside those of the semantic conventions. Each is under
 * `app.` (the compiler checks it), so a query or a dashboard tells them from the standard ones, and
 * none carries personal data: a student is named by its id, never by its name.
 */
interface AppAttribute {
  key: `app.${string}`;
  type: 'string' | 'int' | 'boolean';
  brief: string;
  example: string | number | boolean;
}

export const APP_ATTRIBUTES = {
  studentId: {
    key: 'app.student.id',
    type: 'string',
    brief: 'The student the span works on (`bill student`, `notify student`).',
    example: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  },
  studentFeeCents: {
    key: 'app.student.fee_cents',
    type: 'int',
    brief: 'The tuition fee billed, in cents (`bill student`).',
    example: 120_000,
  },
  billingDuplicate: {
    key: 'app.billing.duplicate',
    type: 'boolean',
    brief: 'True when the event was billed before: a second delivery, acknowledged and ignored (`bill student` and its `process student` span).',
    example: false,
  },
  billingDelayMs: {
    key: 'app.billing.delay_ms',
    type: 'int',
    brief: 'The BILLING_DELAY_MS the billing waited, on the event `slowed down by BILLING_DELAY_MS`.',
    example: 2000,
  },
  outboxAttempts: {
    key: 'app.outbox.attempts',
    type: 'int',
    brief: 'On the `send <topic>` span of a message that waited while Kafka or Postgres failed: the relay\'s attempts, this one included.',
    example: 5,
  },
  timeInQueueMs: {
    key: 'app.messaging.time_in_queue_ms',
    type: 'int',
    brief:
      'How long the message waited in its topic: the consumer span start less the message timestamp (every `process <topic>` span). The conventions have no attribute for it yet.',
    example: 12,
  },
  synthetic: {
    key: 'app.synthetic',
    type: 'string',
    brief:
      '`true` on every span of a request the load generator sent: a baggage entry (`baggage: app.synthetic=true`) that crosses HTTP, the outbox and both Kafka hops, copied onto each span by the baggage span processor. The tail sampling overlay drops these traces.',
    example: 'true',
  },
  collectorGateway: {
    key: 'app.collector.gateway',
    type: 'string',
    brief:
      'A resource attribute set by a gateway collector of the cluster topology (otel/collector-gateway.yaml), not by the services: the gateway that decided on the trace. Also a dimension of its span metrics and service graph.',
    example: 'gateway-1',
  },
} as const satisfies Record<string, AppAttribute>;

/**
 * The baggage entries copied onto every span started in their context (start-tracing.ts). Baggage
 * comes from clients too: any other entry travels on, but stays out of the spans.
 */
export const BAGGAGE_ATTRIBUTES: readonly string[] = [APP_ATTRIBUTES.synthetic.key];

/**
 * The metrics this project invents, beside those the instrumentations record under the semantic
 * conventions' names (`messaging.client.sent.messages`...). Under `app.` too.
 */
interface AppHistogram {
  name: `app.${string}`;
  unit: string;
  brief: string;
  /** Upper bounds of the buckets, in `unit`. */
  buckets: number[];
}

export const APP_METRICS = {
  timeInQueue: {
    name: 'app.messaging.time_in_queue',
    unit: 's',
    brief:
      'How long each consumed message waited in its topic (what `app.messaging.time_in_queue_ms` says on one span), by topic and consumer group. The conventions have no metric for it yet.',
    // From a few milliseconds (a consumer that keeps up) to a minute (one that fell far behind).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
} as const satisfies Record<string, AppHistogram>;
