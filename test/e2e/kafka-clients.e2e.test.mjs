/**
 * One trace across both Kafka clients (KAFKA_CLIENT, docs/configuration.md#the-kafka-client-kafka_client):
 * billing-consumer restarted on the other client than api-service and notifier-consumer, so that both
 * Kafka hops cross from one client to the other, kafkajs to @confluentinc/kafka-javascript and back.
 * The trace of a POST has the same spans, parents, links and attribute names as one with a single
 * client everywhere. Billing is started again as it was afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postStudent, start, stop, traceIdOf, waitForTrace } from './support.mjs';

/** What tells the clients apart, on purpose (instrument-kafka.ts says why): the scope, and a cluster id the confluent API does not give. */
const CLIENT_SPECIFIC = new Set(['otel.scope.name', 'otel.scope.version', 'messaging.kafka.cluster.id']);

const isComplete = (spans) => ['bill student', 'notify student'].every((name) => spans.some((s) => s.name === name));

/** Each span as a line: service, kind, name, parent, links and attribute names (not values). */
function shape(spans) {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  return spans
    .map((span) => {
      const keys = Object.keys(span.tags).filter((key) => !CLIENT_SPECIFIC.has(key)).sort();
      return `${span.service}: ${span.kind} "${span.name}", child of "${byId.get(span.parentId)?.name ?? '(root)'}", ${span.links.length} link(s): ${keys.join(' ')}`;
    })
    .sort();
}

/** The instrumentation scopes of a service's Kafka spans: which client it ran on. */
const kafkaScopes = (spans, service) => [
  ...new Set(spans.filter((s) => s.service === service && (s.kind === 'producer' || s.kind === 'consumer')).map((s) => s.tags['otel.scope.name'])),
];

async function traceOfOnePost(lastname) {
  const response = await postStudent({ firstname: 'Ada', lastname });
  assert.equal(response.status, 201);
  return (await waitForTrace(traceIdOf(response), isComplete)).spans;
}

describe('one trace across both Kafka clients', () => {
  const apiClient = process.env.API_KAFKA_CLIENT ?? 'kafkajs';
  const billingClient = apiClient === 'kafkajs' ? 'confluent' : 'kafkajs';
  const billingBefore = process.env.BILLING_KAFKA_CLIENT;
  let oneClient;
  let mixed;

  before(async () => {
    oneClient = await traceOfOnePost('OneClient');
    process.env.BILLING_KAFKA_CLIENT = billingClient;
    await stop('billing-consumer');
    await start('billing-consumer');
    mixed = await traceOfOnePost('Mixed');
  });
  after(async () => {
    if (billingBefore === undefined) delete process.env.BILLING_KAFKA_CLIENT;
    else process.env.BILLING_KAFKA_CLIENT = billingBefore;
    await stop('billing-consumer');
    await start('billing-consumer');
  });

  it(`has the spans of one client everywhere, with billing-consumer on the other one (${billingClient})`, () => {
    assert.notDeepEqual(kafkaScopes(mixed, 'billing-consumer'), kafkaScopes(oneClient, 'billing-consumer'), 'billing-consumer traced by the other client');
    assert.deepEqual(kafkaScopes(mixed, 'api-service'), kafkaScopes(oneClient, 'api-service'));
    assert.deepEqual(shape(mixed), shape(oneClient));
  });
});
