/**
 * The broker's own metrics, end to end: the OpenTelemetry Java agent on the Kafka broker reads them
 * from JMX (its kafka-broker rules and otel/kafka-broker-jmx.yaml), exports them over OTLP to the
 * collector, which serves them to Prometheus beside the services' metrics; read back with PromQL under
 * the names docs/observability.md lists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { env, postStudent, promql, waitFor } from './support.mjs';

const BROKER = 'job="kafka"';
const STUDENTS = 3;

/** The sum of a query's series, or undefined while Prometheus has none. */
async function total(query) {
  const series = await promql(query);
  return series.length === 0 ? undefined : series.reduce((sum, { value }) => sum + value, 0);
}

// What the students' messages make the broker count: requests of one type, bytes per topic and
// direction (in: from the producers; out: to the consumers).
const COUNTERS = [
  `kafka_broker_request_count_total{${BROKER},request="Produce"}`,
  `kafka_broker_topic_io_bytes_total{${BROKER},topic="student",direction="in"}`,
  `kafka_broker_topic_io_bytes_total{${BROKER},topic="student",direction="out"}`,
  `kafka_broker_topic_io_bytes_total{${BROKER},topic="student-billing",direction="in"}`,
  `kafka_broker_topic_message_count_total{${BROKER},topic="student"}`,
];

// The broker's health, as a single broker reports it: one active controller (its own), no partition
// without a leader or missing a copy, ISR changes counted by kind.
const GAUGES = [
  { query: `sum(kafka_controller_active_count{${BROKER}})`, equals: 1 },
  { query: `sum(kafka_partition_offline{${BROKER}})`, equals: 0 },
  { query: `sum(kafka_partition_underReplicated{${BROKER}})`, equals: 0 },
  { query: `count(kafka_isr_operation_count{${BROKER},operation=~"shrink|expand"})`, equals: 2 },
  { query: `count(kafka_broker_request_time_99p_milliseconds{${BROKER},request=~"Produce|Fetch|Metadata"})`, equals: 3 },
];

describe('the broker\'s own metrics in Prometheus', () => {
  it(`counts the requests, bytes and messages of ${STUDENTS} students, per request type and topic`, async () => {
    const before = await Promise.all(COUNTERS.map((query) => total(query)));
    for (let index = 0; index < STUDENTS; index++) {
      const response = await postStudent({ firstname: 'Broker', lastname: `Metric ${index}` });
      assert.equal(response.status, 201, await response.text());
    }
    // The agent exports every 5 s, Prometheus scrapes every 5 s.
    for (const [index, query] of COUNTERS.entries()) {
      await waitFor(`${query} to grow in Prometheus (${env.prometheusUrl})`, async () => {
        const now = await total(query);
        return now !== undefined && now > (before[index] ?? 0) ? now : undefined;
      }, { timeoutMs: 45_000, intervalMs: 1000 });
    }
  });

  it('reports one active controller, no offline or under-replicated partition, ISR changes and request times', async () => {
    for (const { query, equals } of GAUGES) {
      // Wrapped: a gauge at 0 is an answer, not a reason to wait.
      const { value } = await waitFor(`${query} in Prometheus`, async () => {
        const now = await total(query);
        return now === undefined ? undefined : { value: now };
      }, { timeoutMs: 45_000, intervalMs: 1000 });
      assert.equal(value, equals, query);
    }
  });
});
