/**
 * The service graph, drawn twice from the parent/child pairs of spans that cross services: by Jaeger
 * (System Architecture, from its dependencies API) and by the collector's service_graph connector
 * (metrics, each edge with its connection_type). The consumers continue the producer's trace as
 * children of its `send` span, so one POST gives api-service -> billing-consumer -> notifier-consumer.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { collectorCounter, env, postStudent, waitFor } from './support.mjs';

const STUDENTS = 3;
const EDGES = [
  ['api-service', 'billing-consumer'],
  ['billing-consumer', 'notifier-consumer'],
];

/** Jaeger's calls between services, by `parent -> child`, over the last hour. */
async function dependencies() {
  const params = new URLSearchParams({ endTs: String(Date.now()), lookback: String(3_600_000) });
  const response = await fetch(`${env.jaegerUrl}/api/dependencies?${params}`);
  if (!response.ok) throw new Error(`Jaeger answered ${response.status}: ${await response.text()}`);
  const { data } = await response.json();
  return Object.fromEntries(data.map(({ parent, child, callCount }) => [`${parent} -> ${child}`, callCount]));
}

/** The connector's `traces_service_graph_request_total`, by `client -> server (connection_type)`. */
const serviceGraphRequests = () =>
  collectorCounter('traces_service_graph_request_total', (label) => `${label('client')} -> ${label('server')} (${label('connection_type') || 'direct'})`);

/** Waits until `read()[edge]` grew by STUDENTS over `before[edge]`. */
function waitForGrowth(what, read, before, edge) {
  return waitFor(`${what} to count ${STUDENTS} more calls ${edge}`, async () => {
    const now = (await read())[edge] ?? 0;
    return now - (before[edge] ?? 0) >= STUDENTS ? now : undefined;
  }, { timeoutMs: 40_000, intervalMs: 1000 });
}

describe(`the service graph, after ${STUDENTS} POSTs`, () => {
  let jaegerBefore;
  let connectorBefore;

  before(async () => {
    jaegerBefore = await dependencies();
    connectorBefore = await serviceGraphRequests();
    for (let index = 0; index < STUDENTS; index++) {
      const response = await postStudent({ firstname: 'Graph', lastname: `Student ${index}` });
      assert.equal(response.status, 201, await response.text());
    }
  });

  it("Jaeger's dependencies API shows api-service -> billing-consumer -> notifier-consumer", async () => {
    for (const [parent, child] of EDGES) {
      await waitForGrowth(`Jaeger's dependencies (${env.jaegerUrl}/dependencies)`, dependencies, jaegerBefore, `${parent} -> ${child}`);
    }
    // The notifier calls no other service: nothing leaves it but to itself.
    const fromNotifier = Object.keys(await dependencies()).filter((edge) => edge.startsWith('notifier-consumer -> ') && edge !== 'notifier-consumer -> notifier-consumer');
    assert.deepEqual(fromNotifier, []);
  });

  it("the collector's service_graph connector exports the same edges as messaging ones", async () => {
    for (const [client, server] of EDGES) {
      await waitForGrowth(`the service_graph connector (${env.metricsUrl})`, serviceGraphRequests, connectorBefore, `${client} -> ${server} (messaging_system)`);
    }
    const edges = Object.keys(await serviceGraphRequests());
    const betweenServices = edges.filter((edge) => EDGES.some(([client, server]) => edge.startsWith(`${client} -> ${server} `)));
    assert.deepEqual(betweenServices.sort(), EDGES.map(([client, server]) => `${client} -> ${server} (messaging_system)`).sort(), 'the Kafka hops are messaging edges, and the only ones between the services');
  });
});
