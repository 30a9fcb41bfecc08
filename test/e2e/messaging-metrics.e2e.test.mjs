/**
 * The messaging metrics, end to end: instrumentation-kafkajs' four metrics of the semantic conventions
 * and the project's time-in-queue histogram, recorded by the services' SDKs, exported over OTLP to the
 * collector, served by its prometheus exporter and scraped by Prometheus, read back with PromQL under
 * the names the exporter gives them (unit and `_total` suffixes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP_METRICS } from '@demo/common/telemetry';
import { env, postStudent, promql, waitFor } from './support.mjs';

const STUDENTS = 3;

/**
 * Per series (a restarted service starts a new one, under a new `instance`), what a counter gained
 * since `before`: a series that vanished in between counts nothing rather than a negative amount.
 */
function gained(before, after) {
  const key = (series) => JSON.stringify(series.labels);
  const earlier = new Map(before.map((series) => [key(series), series.value]));
  return after.reduce((sum, series) => sum + Math.max(0, series.value - (earlier.get(key(series)) ?? 0)), 0);
}

// The Prometheus name of each metric (otel/collector.yaml, exporter `prometheus`): the counters get
// `_total`; the histograms are read by their `_count`. instrumentation-kafkajs 0.33 gives its two
// duration histograms no unit, so they have no `_seconds` suffix; the project's histogram is in `s`.
const EXPECTED = [
  { metric: 'messaging.client.sent.messages', series: 'messaging_client_sent_messages_total{job="api-service",messaging_destination_name="student",messaging_operation_name="send"}' },
  { metric: 'messaging.client.sent.messages', series: 'messaging_client_sent_messages_total{job="billing-consumer",messaging_destination_name="student-billing"}' },
  { metric: 'messaging.client.consumed.messages', series: 'messaging_client_consumed_messages_total{job="billing-consumer",messaging_destination_name="student",messaging_operation_name="process"}' },
  { metric: 'messaging.client.consumed.messages', series: 'messaging_client_consumed_messages_total{job="notifier-consumer",messaging_destination_name="student-billing"}' },
  // One per Kafka protocol request (Produce, Fetch, Heartbeat...), by broker, not by topic: the outbox
  // relay may send the three messages in fewer requests.
  { metric: 'messaging.client.operation.duration', series: 'messaging_client_operation_duration_count{job="api-service",messaging_operation_name="Produce",server_address!=""}', atLeast: 1 },
  { metric: 'messaging.process.duration', series: 'messaging_process_duration_count{job="billing-consumer",messaging_destination_name="student"}' },
  { metric: APP_METRICS.timeInQueue.name, series: 'app_messaging_time_in_queue_seconds_count{job="billing-consumer",messaging_destination_name="student",messaging_consumer_group_name="billing-consumer"}' },
  { metric: APP_METRICS.timeInQueue.name, series: 'app_messaging_time_in_queue_seconds_count{job="notifier-consumer",messaging_destination_name="student-billing",messaging_consumer_group_name="notifier-consumer"}' },
];

describe('messaging metrics in Prometheus', () => {
  it(`counts the ${STUDENTS} students posted in each messaging metric and in the time-in-queue histogram`, async () => {
    const before = await Promise.all(EXPECTED.map(({ series }) => promql(series)));
    for (let index = 0; index < STUDENTS; index++) {
      const response = await postStudent({ firstname: 'Metric', lastname: `Student ${index}` });
      assert.equal(response.status, 201, await response.text());
    }
    // The SDKs export every 5 s, Prometheus scrapes every 5 s: the counts arrive within ~15 s.
    for (const [index, { metric, series, atLeast = STUDENTS }] of EXPECTED.entries()) {
      const counted = await waitFor(`${metric} to count ${atLeast} more in Prometheus (${env.prometheusUrl}/graph, ${series})`, async () => {
        const now = gained(before[index], await promql(series));
        return now >= atLeast ? now : undefined;
      }, { timeoutMs: 45_000, intervalMs: 1000 });
      assert.ok(counted >= atLeast, `${series}: ${counted}`);
    }
  });

  it('keeps the time in queue in the buckets its declaration gives, in seconds', async () => {
    const buckets = await promql('app_messaging_time_in_queue_seconds_bucket{job="billing-consumer",messaging_destination_name="student"}');
    const bounds = [...new Set(buckets.map((series) => series.labels.le))].filter((le) => le !== '+Inf').map(Number).sort((a, b) => a - b);
    assert.deepEqual(bounds, APP_METRICS.timeInQueue.buckets);
  });
});
