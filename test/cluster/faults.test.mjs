/**
 * Faults on the cluster topology (docs/cluster.md), one after the other while students are posted
 * at a steady rate: kill -9 of a Kafka broker, of a billing replica (its group rebalances), of a
 * gateway collector. Every POST must be answered, every student billed exactly once and notified,
 * every trace whole and decided by one gateway, except the spans a killed process held in memory,
 * which are counted and must be explained by the kill (a crash loses them; docs/cluster.md says what
 * production does about it). Then Jaeger is restarted: its traces are on disk and must all be there.
 * The brokers' own metrics (their OpenTelemetry agent, in Prometheus) must show the broker's absence:
 * under-replicated partitions while it is down, none again once it is back.
 *
 * `npm run test:cluster` starts the native cluster (STACK_TOPOLOGY=cluster) with the gateways'
 * tail sampling keeping every trace (TAIL_SAMPLING_PERCENTAGE=100), so that each one can be checked.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { APP_ATTRIBUTES } from '../../common/dist/telemetry/attributes.js';
import { percentile } from '../../scripts/lib/load.mjs';
import { kafkaClient, readMessages, withAdmin } from '../../scripts/lib/kafka-messages.mjs';
import { CLUSTER, SERVICES, kafkaBrokers, loadStackConfig } from '../../scripts/stack/config.mjs';
import { isAlive, readPid } from '../../scripts/stack/processes.mjs';
import { serviceDefinitions } from '../../scripts/stack/services.mjs';
import {
  connectionProblem,
  fetchTrace,
  normalizeTrace,
  postStudent,
  postStudentsAtRate,
  promql,
  query,
  serviceLogLines,
  sleep,
  start,
  stop,
  waitFor,
} from '../e2e/support.mjs';

const config = loadStackConfig();
const RATE = 10; // students per second: steady, and modest on a 2-core machine
/** The load goes on this long after the last fault is over (a broker's restart alone takes 10-60 s). */
const TAIL_SECONDS = 20;
const BROKER = 'kafka-2';
const BILLING = 'billing-consumer-2';
const GATEWAY = 'collector-gateway-2';
const BILLING_REPLICAS = ['billing-consumer', BILLING];
const NOTIFIER_REPLICAS = ['notifier-consumer', 'notifier-consumer-2'];
/** How long a gateway holds a trace before deciding (otel/collector-tail-sampling.yaml). */
const DECISION_WAIT_MS = Number.parseInt(process.env.TAIL_SAMPLING_DECISION_WAIT ?? '10s', 10) * 1000;
/**
 * How long a service holds ended spans before exporting them (docker-compose.cluster.yml sets
 * OTEL_BSP_SCHEDULE_DELAY; the SDK's default is 5 s), plus 1 s.
 */
const EXPORT_WINDOW_MS = Number(serviceDefinitions(config)['billing-consumer'].environment.OTEL_BSP_SCHEDULE_DELAY ?? 5000) + 1000;
/**
 * A killed gateway loses the traces it was still holding: their first span reached it at most the
 * decision wait before the kill, and left the service up to an export interval (and the agent's
 * 1 s batch) after the POST.
 */
const GATEWAY_HOLD_MS = DECISION_WAIT_MS + EXPORT_WINDOW_MS + 1000;
const DUPLICATE = APP_ATTRIBUTES.billingDuplicate;
const GATEWAY_ATTRIBUTE = 'app.collector.gateway';

const kafka = new kafkajs.Kafka({ clientId: 'cluster-test', brokers: kafkaBrokers(config), logLevel: kafkajs.logLevel.NOTHING });
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** kill -9 of a component the stack started; resolves once it is gone, with the time of the kill. */
async function killHard(name) {
  const pid = readPid(config, name);
  assert.ok(pid !== undefined && isAlive(pid), `${name} runs (pid file ${pid}): is the stack up with STACK_TOPOLOGY=cluster?`);
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  await waitFor(`${name} (pid ${pid}) to be gone`, () => !isAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
  return at;
}

/**
 * The partitions the brokers lead that miss an in-sync copy, summed over the brokers, as Prometheus
 * has them (docs/observability.md#the-brokers-own-metrics): undefined until a broker exported it.
 */
async function underReplicated() {
  const [series] = await promql('sum(kafka_partition_underReplicated)');
  return series?.value;
}

/** Samples `probe` every second until `stop()` says so: [{ at, value }]. */
function sampleEverySecond(probe) {
  const samples = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) samples.push({ at: Date.now(), value });
      await sleep(1000);
    }
  })();
  return { samples, stop: async () => { running = false; await done; } };
}

/** Per topic partition, its replicas and in-sync replicas. */
const partitionsOf = () => withAdmin(kafka, async (admin) =>
  (await admin.fetchTopicMetadata({ topics: config.topics.map((t) => t.name) })).topics.flatMap((topic) => topic.partitions));

/**
 * A message billing cannot process, in the trace of a POST: that trace gets an error branch. The
 * producer is connected before the faults, as the services' are: one that connects while a broker
 * is down may pick that one as its first contact and give up.
 */
async function postErrorTrace(producer) {
  const response = await postStudent({ firstname: 'Poison', lastname: 'Branch' });
  assert.equal(response.status, 201);
  const [, traceId, spanId] = response.headers.get('traceresponse').split('-');
  const { id } = await response.json();
  // Right after a broker's kill its partitions have no leader until the controllers fence it
  // (broker.session.timeout.ms, 9 s): a send there fails, and is tried again, as the outbox does.
  const message = { key: randomUUID(), value: 'not a student', headers: { traceparent: `00-${traceId}-${spanId}-01` } };
  await waitFor('the poison message to be sent', async () => Boolean(await producer.send({ topic: 'student', messages: [message] })), {
    timeoutMs: 60_000, intervalMs: 1000,
  });
  return { id, traceId, sentAt: Date.now(), withError: true };
}

/** Billing's `process student` of the poison message: the child of the POST's server span, since the test's producer makes no span. */
const isPoisonDelivery = (span, spans) => span.name === 'process student' && spans.find((p) => p.spanId === span.parentId)?.kind === 'server';

/**
 * The spans of an error trace's branch: every delivery of the poison message (a rebalance while a
 * broker restarts may deliver it again, at least once as Kafka promises) and what each did.
 */
function errorBranch(spans) {
  const branch = spans.filter((s) => isPoisonDelivery(s, spans));
  for (let added = branch[0]; added; ) {
    added = spans.find((s) => !branch.includes(s) && branch.some((b) => b.spanId === s.parentId));
    if (added) branch.push(added);
  }
  return branch;
}

/** A trace has every span of its pipeline, and an error trace its error branch with its dead letter. */
function isWhole(spans, { withError }) {
  const branch = errorBranch(spans);
  const pipeline = spans.filter((s) => !branch.includes(s));
  const deliveries = branch.filter((s) => isPoisonDelivery(s, spans));
  const errorBranchWhole = withError
    ? deliveries.length > 0 && deliveries.every((s) => s.tags['otel.status_code'] === 'ERROR') && branch.some((s) => s.name === 'send student-dlt')
    : branch.length === 0;
  return !connectionProblem(pipeline, SERVICES) && pipeline.some((s) => s.name === 'notify student') && errorBranchWhole;
}

/** Every trace's spans once they stop changing: whole ones first, then the rest settles (bounded). */
async function settledTraces(traces) {
  const spansOf = new Map();
  const traceIds = traces.map((p) => p.traceId);
  const whole = (traceId) => isWhole(spansOf.get(traceId), traces.find((p) => p.traceId === traceId));
  let lastChange = Date.now();
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    for (const traceId of traceIds) {
      const before = spansOf.get(traceId);
      if (before && whole(traceId)) continue;
      const spans = ((await fetchTrace(traceId)) ?? []).flatMap(normalizeTrace);
      if (spans.length !== (before?.length ?? 0)) lastChange = Date.now();
      spansOf.set(traceId, spans);
    }
    // The agent retries a killed gateway's spans with a backoff of up to 30 s: wait 45 s for news.
    if (traceIds.every(whole) || Date.now() - lastChange > 45_000) break;
    await sleep(3000);
  }
  await sleep(6000); // one more export interval: a redelivery's spans come after the first ones
  for (const traceId of traceIds) spansOf.set(traceId, ((await fetchTrace(traceId)) ?? []).flatMap(normalizeTrace));
  return spansOf;
}

describe('the cluster under steady load: a broker, a billing replica and a gateway killed in turn', () => {
  it('answers every POST, bills every student once, and keeps every trace whole but what a killed process held', async (t) => {
    // The topology this test is about, checked before it breaks anything.
    const { brokers } = await withAdmin(kafka, (admin) => admin.describeCluster());
    assert.equal(brokers.length, CLUSTER.brokers, 'three live brokers');
    const before = await partitionsOf();
    assert.deepEqual([...new Set(before.map((p) => `${p.replicas.length}/${p.isr.length}`))], ['3/3'], 'three in-sync copies of every partition');
    // Both replicas are ready once connected, and may still be joining: the group is stable when both are in.
    await waitFor(`billing-consumer to be a stable group of ${BILLING_REPLICAS.length} members`, async () => {
      const [{ state, members }] = (await withAdmin(kafka, (admin) => admin.describeGroups(['billing-consumer']))).groups;
      if (state !== 'Stable' || members.length !== BILLING_REPLICAS.length) throw new Error(`the group is ${state} with ${members.length} members`);
      return true;
    }, { timeoutMs: 60_000, intervalMs: 500 });

    // Every broker exports its metrics, and none counts a partition short of a copy yet.
    await waitFor('Prometheus to count 0 under-replicated partitions on the brokers', async () => (await underReplicated()) === 0, { timeoutMs: 60_000, intervalMs: 1000 });

    const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await producer.connect();
    t.after(() => producer.disconnect());

    // Steady load, 5 s at a time, until the faults are over and TAIL_SECONDS more.
    const begin = Date.now();
    let loadEndsAt = Infinity;
    const load = (async () => {
      const posted = [];
      while (Date.now() < loadEndsAt) posted.push(...await postStudentsAtRate(5 * RATE, RATE, 'Cluster'));
      return posted;
    })();
    const errorTraces = [];
    const errorsPosted = (async () => {
      while (Date.now() < loadEndsAt - 5000) {
        errorTraces.push(await postErrorTrace(producer));
        await sleep(5000);
      }
    })();
    // Awaited at the end; a failure meanwhile is reported then, not as an unhandled rejection.
    errorsPosted.catch(() => {});

    // One fault after the other, each once the previous one is over; the load stops TAIL_SECONDS
    // after the last (or after a failure, which is then reported).
    const brokerMetrics = sampleEverySecond(underReplicated);
    const { brokerKilledAt, brokerUpAt, isrFullAt, underReplicatedZeroAt, billingKilledAt, billingUpAt, gatewayKilledAt, gatewayUpAt } = await (async () => {
      await sleep(10_000);
      const brokerKilledAt = await killHard(BROKER);
      await sleep(15_000);
      await start(BROKER);
      const brokerUpAt = Date.now();
      const isrFullAt = await waitFor('every partition to have three in-sync replicas again', async () =>
        (await partitionsOf()).every((p) => p.isr.length === 3) && Date.now(), { timeoutMs: 60_000, intervalMs: 500 });
      // The agents export every 5 s, Prometheus scrapes every 5 s.
      const underReplicatedZeroAt = await waitFor('Prometheus to count 0 under-replicated partitions again', async () =>
        (await underReplicated()) === 0 && Date.now(), { timeoutMs: 60_000, intervalMs: 1000 });
      await brokerMetrics.stop();

      await sleep(15_000);
      const billingKilledAt = await killHard(BILLING);
      await sleep(20_000);
      await start(BILLING);
      const billingUpAt = Date.now();

      await sleep(15_000);
      const gatewayKilledAt = await killHard(GATEWAY);
      await sleep(10_000);
      await start(GATEWAY);
      return { brokerKilledAt, brokerUpAt, isrFullAt, underReplicatedZeroAt, billingKilledAt, billingUpAt, gatewayKilledAt, gatewayUpAt: Date.now() };
    })().finally(() => {
      loadEndsAt = Date.now() + TAIL_SECONDS * 1000;
      brokerMetrics.stop();
    });

    const posted = await load;
    const loadMs = Date.now() - begin;
    await errorsPosted;
    const all = [...posted, ...errorTraces];
    const ids = all.map((p) => p.id);

    // Billed exactly once, notified.
    await waitFor(`all ${ids.length} students to be billed`, async () =>
      (await query('SELECT count(*)::int AS count FROM students WHERE id = ANY($1) AND fee_cents IS NOT NULL', [ids]))[0].count === ids.length,
    { timeoutMs: 120_000, intervalMs: 1000 });
    const sent = await query(`SELECT key, count(*)::int AS count FROM outbox WHERE topic = 'student-billing' AND key = ANY($1) GROUP BY key`, [ids]);
    assert.equal(sent.length, ids.length, 'a student-billing message for every student');
    assert.deepEqual(sent.filter((m) => m.count !== 1), [], 'billed once: one student-billing message per student');
    // Counted from the table and the topic, which a kill -9 cannot roll back (a log line it can lose).
    const wanted = new Set(ids);
    // The outbox relays send what the table holds, at least once, and mark it sent: wait for them.
    await waitFor('the outbox relays to have sent every message of these students', async () =>
      (await query('SELECT count(*)::int AS count FROM outbox WHERE key = ANY($1) AND sent_at IS NULL', [ids]))[0].count === 0,
    { timeoutMs: 120_000, intervalMs: 1000 });
    const onTopic = new Set((await readMessages(kafkaClient('faults-test', kafkaBrokers(config)), 'student-billing')).map((m) => String(m.key)));
    assert.deepEqual(ids.filter((id) => !onTopic.has(id)), [], 'every student\'s student-billing message is on the topic');
    const notifiedLines = () => NOTIFIER_REPLICAS.flatMap((replica) => serviceLogLines(replica).filter((l) => l.msg === 'notification sent' && wanted.has(l.studentId)));
    await waitFor(`all ${ids.length} students to be notified`, () => new Set(notifiedLines().map((l) => l.studentId)).size === ids.length, { timeoutMs: 120_000, intervalMs: 1000 });

    // Traces: whole, or missing only what a killed process held in memory.
    const spansOf = await settledTraces(all);
    // The killed replica's spans were exported every EXPORT_WINDOW_MS: those of its last seconds went with it.
    const tracesOfItsLastSeconds = new Set(serviceLogLines(BILLING)
      .filter((l) => l.time <= billingKilledAt && l.time >= billingKilledAt - EXPORT_WINDOW_MS)
      .map((l) => l.trace_id));
    const lostInBilling = (p) => tracesOfItsLastSeconds.has(p.traceId);
    const lostInGateway = (p, spans) => p.sentAt >= gatewayKilledAt - GATEWAY_HOLD_MS && p.sentAt <= gatewayKilledAt + 1000 &&
      spans.every((s) => s.resource[GATEWAY_ATTRIBUTE] === `gateway-${GATEWAY.split('-').at(-1)}`);
    const broken = all.filter((p) => !isWhole(spansOf.get(p.traceId), p));
    const byBilling = broken.filter(lostInBilling);
    const byGateway = broken.filter((p) => !lostInBilling(p) && lostInGateway(p, spansOf.get(p.traceId)));
    const unexplained = broken.filter((p) => !lostInBilling(p) && !lostInGateway(p, spansOf.get(p.traceId)));
    // One gateway decided on each trace: all its spans name the same one.
    const split = all.filter((p) => new Set(spansOf.get(p.traceId).map((s) => s.resource[GATEWAY_ATTRIBUTE])).size > 1);
    const gatewaysUsed = new Set([...spansOf.values()].flat().map((s) => s.resource[GATEWAY_ATTRIBUTE]));
    const errorsKept = errorTraces.filter((p) => isWhole(spansOf.get(p.traceId), p));
    const errorsLost = errorTraces.filter((p) => broken.includes(p));

    // The rebalance, as the traces show it: the killed replica's partitions went to the other one.
    const billingSpans = [...spansOf.values()].flat().filter((s) => s.name === 'process student' && s.service === 'billing-consumer');
    const partitionsOfReplica = (replica, from, to) => new Set(billingSpans
      .filter((s) => s.resource['service.instance.id'] === replica && s.start / 1000 >= from && s.start / 1000 < to)
      .map((s) => s.tags['messaging.destination.partition.id']));
    const movedPartitions = [...partitionsOfReplica(BILLING, billingKilledAt - 20_000, billingKilledAt)];
    const takenOver = partitionsOfReplica('billing-consumer', billingKilledAt, billingUpAt);
    const resumedAt = Math.min(...billingSpans
      .filter((s) => s.resource['service.instance.id'] === 'billing-consumer' && movedPartitions.includes(s.tags['messaging.destination.partition.id']) && s.start / 1000 > billingKilledAt)
      .map((s) => s.start / 1000));
    const duplicates = billingSpans.filter((s) => s.tags[DUPLICATE] === true).length;

    const during = (from, to) => posted.filter((p) => p.sentAt >= from && p.sentAt <= to).map((p) => p.latencyMs);
    const latencies = (values) => `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
    const failedSends = [...spansOf.values()].flat().filter((s) => s.kind === 'producer' && s.tags['otel.status_code'] === 'ERROR' && !s.name.endsWith('-dlt')).length;
    t.diagnostic(`faults at ${seconds(brokerKilledAt - begin)}, ${seconds(billingKilledAt - begin)}, ${seconds(gatewayKilledAt - begin)} into the load`);
    t.diagnostic(`load: ${posted.length} POSTs at ${RATE}/s over ${seconds(loadMs)} + ${errorTraces.length} error traces: all 201, ${latencies(posted.map((p) => p.latencyMs))}; ` +
      `every student billed exactly once (${ids.length} student-billing messages) and notified`);
    t.diagnostic(`broker ${BROKER} killed -9: down ${seconds(brokerUpAt - brokerKilledAt)} (restart included), ${during(brokerKilledAt, brokerUpAt).length} POSTs meanwhile: ${latencies(during(brokerKilledAt, brokerUpAt))}; ` +
      `every partition 3 in-sync replicas again ${seconds(isrFullAt - brokerUpAt)} after it was back; failed send spans ${failedSends}`);
    const whileDown = brokerMetrics.samples.filter((sample) => sample.at > brokerKilledAt && sample.at <= underReplicatedZeroAt);
    const peak = whileDown.reduce((highest, sample) => (sample.value > highest.value ? sample : highest), { value: 0, at: brokerKilledAt });
    const firstRaised = whileDown.find((sample) => sample.value > 0);
    t.diagnostic(`broker metrics in Prometheus: under-replicated partitions 0 before the kill, above 0 from ${seconds((firstRaised?.at ?? NaN) - brokerKilledAt)} after it, ` +
      `peak ${peak.value} at ${seconds(peak.at - brokerKilledAt)}; 0 again ${seconds(underReplicatedZeroAt - isrFullAt)} after every ISR was full`);
    t.diagnostic(`billing replica ${BILLING} killed -9: down ${seconds(billingUpAt - billingKilledAt)}; its partitions ${movedPartitions.sort((a, b) => a - b).join(',')} resumed on billing-consumer ` +
      `${seconds(resumedAt - billingKilledAt)} after the kill (the 15 s session timeout); duplicates suppressed ${duplicates}; ` +
      `traces missing its unexported spans ${byBilling.length}`);
    t.diagnostic(`gateway ${GATEWAY} killed -9: down ${seconds(gatewayUpAt - gatewayKilledAt)}; traces missing the spans it held (decision wait ${seconds(DECISION_WAIT_MS)}): ${byGateway.length}` +
      ` (${byGateway.filter((p) => spansOf.get(p.traceId).length === 0).length} entirely); unexplained partial traces ${unexplained.length}`);
    t.diagnostic(`traces whole: ${all.length - broken.length} of ${all.length}; traces through more than one gateway ${split.length} (gateways used: ${[...gatewaysUsed].sort()}); ` +
      `error traces kept whole ${errorsKept.length} of ${errorTraces.length} (${errorsLost.length} lost to a kill)`);

    // Jaeger keeps its traces on disk (Badger): a restart loses none.
    const sample = all.filter((p) => spansOf.get(p.traceId).length > 0).filter((_, index) => index % 50 === 0);
    await stop('jaeger');
    await start('jaeger');
    const afterRestart = await Promise.all(sample.map(async (p) => ((await fetchTrace(p.traceId)) ?? []).flatMap(normalizeTrace).length));
    const lostByRestart = sample.filter((p, index) => afterRestart[index] !== spansOf.get(p.traceId).length);
    t.diagnostic(`Jaeger restarted: ${sample.length - lostByRestart.length} of ${sample.length} sampled traces still there with all their spans`);

    const problem = (spans) => (spans.length === 0 ? 'not in Jaeger' : connectionProblem(spans, SERVICES) ?? 'no notify student span, or no error branch');
    assert.ok(peak.value > 0, `the brokers counted under-replicated partitions while ${BROKER} was down (samples: ${whileDown.map((sample) => sample.value).join(',')})`);

    assert.deepEqual(unexplained.map((p) => `${p.traceId} (POST ${seconds(p.sentAt - begin)} into the load): ${problem(spansOf.get(p.traceId))}`), [],
      'every trace is whole, but for the spans a killed process held');

    assert.deepEqual(split.map((p) => p.traceId), [], 'every span of a trace went through the same gateway');
    assert.deepEqual([...gatewaysUsed].sort(), ['gateway-1', 'gateway-2'], 'both gateways decided on traces');
    assert.equal(errorsKept.length + errorsLost.length, errorTraces.length, 'every error trace kept whole with its error, or lost to a kill');
    assert.ok(movedPartitions.length > 0, `${BILLING} consumed partitions before it was killed`);
    assert.deepEqual(movedPartitions.filter((p) => !takenOver.has(p)), [], `billing-consumer took over ${BILLING}'s partitions ${movedPartitions}`);
    assert.deepEqual(lostByRestart.map((p) => p.traceId), [], 'Jaeger kept every trace across its restart');
  });
});
