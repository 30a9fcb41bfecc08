/**
 * The span attributes this project invents, beside those of the semantic conventions: under `app.`,
 * so a query tells them from the standard ones, and never personal data (a student is its id).
 * docs/observability.md says what each one means.
 */
export const APP_ATTRIBUTES = {
  studentId: 'app.student.id',
  studentFeeCents: 'app.student.fee_cents',
  billingDuplicate: 'app.billing.duplicate',
  billingDelayMs: 'app.billing.delay_ms',
  outboxAttempts: 'app.outbox.attempts',
  timeInQueueMs: 'app.messaging.time_in_queue_ms',
  /** A baggage entry, copied onto every span started in its context (start-tracing.ts). */
  synthetic: 'app.synthetic',
  /** Set by a gateway collector of the cluster topology, not by the services. */
  collectorGateway: 'app.collector.gateway',
} as const;

/** How long each consumed message waited in its topic, by topic and consumer group. */
export const APP_METRICS = {
  timeInQueue: {
    name: 'app.messaging.time_in_queue',
    unit: 's',
    description: 'How long a consumed message waited in its topic',
    // From a consumer that keeps up (milliseconds) to one that fell far behind (a minute).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
} as const;
