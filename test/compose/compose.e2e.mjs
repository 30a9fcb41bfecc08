/**
 * The compose files, unchanged, run for real (`npm run test:compose`, which builds the engine, the
 * tools and the stand-in images first, and moves every published port). Each step is a test of its
 * own, in order: the first that fails names the step that broke.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { e2eTestFiles } from '../../scripts/lib/e2e-files.mjs';
import { kafkaClient, readMessages } from '../../scripts/lib/kafka-messages.mjs';
import { queryOnce } from '../../scripts/lib/postgres.mjs';
import { loadStackConfig } from '../../scripts/stack/config.mjs';
import { postStudent, postStudentsAtRate, produce, sleep, traceIdOf, waitFor } from '../e2e/support.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PROJECT = 'nestjs-kafka-tracing';
const CLUSTER = ['-f', 'docker-compose.yml', '-f', 'docker-compose.cluster.yml'];
const SERVICES = ['api-service', 'billing-consumer', 'notifier-consumer'];
const port = (name) => process.env[name];
const databaseUrl = process.env.DATABASE_URL;
const query = (sql, params = []) => queryOnce(databaseUrl, sql, params);

/** Runs a command in the checkout; returns its output (stdout and stderr), or fails with it. */
function run(command, args, { env = process.env, timeoutMs = 600_000, expectFailure = false } = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const failed = result.status !== 0;
  assert.equal(failed, expectFailure,
    `\`${[command, ...args].join(' ')}\` ${failed ? `failed (${result.error?.message ?? `exit ${result.status}`})` : 'succeeded'}:\n${output.slice(-6000)}`);
  return output;
}
const compose = (args, options) => run('docker', ['compose', ...args], options);
const docker = (args, options) => run('docker', args, options);

/** What is left of the project in the engine: containers (any state), volumes, networks. */
function leftovers() {
  const label = `label=com.docker.compose.project=${PROJECT}`;
  return ['ps -aq', 'volume ls -q', 'network ls -q'].flatMap((listing) =>
    docker([...listing.split(' '), '--filter', label]).split('\n').filter(Boolean).map((id) => `${listing.split(' ')[0]} ${id}`));
}

/** Log lines of the three services at ERROR or above (JSON lines), or naming ERROR (any other line). */
function errorLines() {
  return compose(['logs', '--no-color', ...SERVICES]).split('\n').filter((line) => {
    const json = line.slice(line.indexOf('|') + 1).trim();
    try {
      return ['ERROR', 'FATAL'].includes(JSON.parse(json).level);
    } catch {
      return /\bERROR\b/.test(line);
    }
  });
}

const testEnvironment = () => ({
  ...process.env,
  API_URL: `http://127.0.0.1:${port('API_PORT')}`,
  BILLING_URL: `http://127.0.0.1:${port('BILLING_PORT')}`,
  NOTIFIER_URL: `http://127.0.0.1:${port('NOTIFIER_PORT')}`,
  JAEGER_URL: `http://127.0.0.1:${port('JAEGER_UI_PORT')}`,
  METRICS_URL: `http://127.0.0.1:${port('METRICS_PORT')}/metrics`,
  PROMETHEUS_URL: `http://127.0.0.1:${port('PROMETHEUS_PORT')}`,
  DATABASE_URL: databaseUrl,
  KAFKA_BROKERS: `127.0.0.1:${port('KAFKA_PORT')}`,
  SERVICE_LOG_COMMAND: 'docker compose logs --no-log-prefix {service}',
  LOGS_URL: `http://127.0.0.1:${port('VICTORIALOGS_PORT')}`,
  STOP_COMMAND: 'docker compose stop {components}',
  START_COMMAND: 'docker compose up -d --no-deps --wait {components}',
  // `up` would wait for api-service to be healthy before it starts the consumers, which the outage test
  // starts while Kafka and Postgres are down: the containers are started as they are instead.
  START_NO_WAIT_COMMAND: 'docker start $(docker compose ps -aq {components})',
  COLLECTOR_COMPONENT: 'otel-collector',
  TAIL_SAMPLING_START_COMMAND: 'docker compose -f docker-compose.yml -f otel/tail-sampling.compose.yml up -d --no-deps {components}',
});

describe('docker compose, for real', () => {
  after(() => {
    if (process.env.COMPOSE_TEST_KEEP_STACK !== '1') spawnSync('docker', ['compose', ...CLUSTER, '--profile', '*', 'down', '-v', '--remove-orphans'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('the Dockerfile refuses a client that would ignore COPY --parents (Docker 20.10 without buildx)', () => {
    // Debian's docker.io 20.10 client builds through the engine's BuildKit, and drops --parents silently.
    const client = '/usr/bin/docker';
    assert.match(run(client, ['--version']), /version 20\./, `${client} is the Docker 20.10 client of Debian's docker.io`);
    const output = run(client, ['build', '--build-arg', `NODE_VERSION=${loadStackConfig().variables.SERVICES_NODE_VERSION}`, '--build-arg', 'SERVICE=api-service', '--target', 'base', '.'], {
      env: { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'no-plugins-')) },
      expectFailure: true,
    });
    assert.match(output, /COPY --parents was ignored: build with BuildKit 0\.9 or later/);
  });

  it('builds the three services through BuildKit, passing the build checks, each image holding only what it runs', () => {
    compose(['--profile', '*', 'down', '-v', '--remove-orphans']);
    const output = compose(['--profile', 'cli', 'build', '--progress', 'plain']);
    assert.doesNotMatch(output, /warnings? found|InvalidDefaultArgInFrom/i, 'the Dockerfile passes the build checks');
    for (const service of SERVICES) {
      const files = docker(['run', '--rm', '--entrypoint', 'sh', `${PROJECT}-${service}`, '-c', 'cd /app && ls -A && ls -A common']);
      assert.doesNotMatch(files, /tsconfig|^src$/m, `${service}: no sources or compiler configuration in the image:\n${files}`);
    }
  });

  it('up -d --wait from empty volumes: every container healthy, no ERROR in the services\' logs, no warning from kafka-init', () => {
    const started = Date.now();
    compose(['up', '-d', '--wait'], { timeoutMs: 300_000 });
    const states = JSON.parse(`[${compose(['ps', '--all', '--format', 'json']).trim().split('\n').join(',')}]`);
    const notHealthy = states.filter((c) => (c.Health ? c.Health !== 'healthy' : c.State !== 'running' && !(c.State === 'exited' && c.ExitCode === 0)));
    assert.deepEqual(notHealthy.map((c) => `${c.Service}: ${c.State} ${c.Health}`), [], 'every container healthy or completed');
    process.stdout.write(`# up -d --wait from empty volumes: ${((Date.now() - started) / 1000).toFixed(1)} s, ${states.length} containers\n`);
    assert.deepEqual(errorLines(), [], 'a first start logs no ERROR');
    assert.doesNotMatch(compose(['logs', 'kafka-init']), /WARN/, 'kafka-init creates the topics without a warning (no topic name mixes . and -)');
  });

  it('the end-to-end suite passes against compose', () => {
    // Not here (docs/tests.md#compose-for-real says why): fork.e2e adds a service to the native
    // stack (compose's side of a fork is the static check); the opt-in alternatives
    // (common/src/alternatives) and the slow handler's heartbeats are code paths that compose only
    // passes a variable to. They run on the native stack, which takes ~3.5 min off CI.
    const nativeOnly = ['fork', 'batch', 'consumer-trace', 'client-traceparent', 'span-start-clock', 'slow-handler']
      .map((name) => `${name}.e2e.test.mjs`);
    const files = e2eTestFiles().filter((file) => !nativeOnly.includes(path.basename(file)));
    // Without this test's NODE_TEST_CONTEXT: the suite's own runner would take itself for a child and run nothing.
    const { NODE_TEST_CONTEXT, ...env } = testEnvironment();
    const result = spawnSync(process.execPath, ['scripts/e2e.mjs', ...files], { cwd: ROOT, env, stdio: 'inherit', timeout: 40 * 60_000 });
    if (result.status !== 0) {
      // The containers go with `down -v`: their logs are kept for a look afterwards.
      const logs = path.join(tmpdir(), `compose-e2e-${Date.now()}.log`);
      writeFileSync(logs, compose(['logs', '--no-color', '--timestamps']));
      assert.fail(`the end-to-end suite against compose failed (its output is above); the containers' logs are in ${logs}`);
    }
  });

  it('the cli profile: peek and dead-letters in the tools container', async () => {
    const posted = await postStudent({ firstname: 'Ada', lastname: 'Peek' });
    assert.equal(posted.status, 201);
    const traceId = traceIdOf(posted);
    await waitFor('peek to show the student\'s message', () =>
      compose(['run', '--rm', 'tools', 'peek', '--', 'student', '--count', '1']).includes(`traceparent: 00-${traceId}-`), { timeoutMs: 30_000, intervalMs: 1000 });
    await produce('student', { key: 'cli-profile', value: 'cli profile: not a student' });
    await waitFor('dead-letters to list the poison message', () =>
      /student-dlt[\s\S]*cli profile: not a student/.test(compose(['run', '--rm', 'tools', 'dead-letters'])), { timeoutMs: 30_000, intervalMs: 1000 });
  });

  it('the load profile posts LOAD_RATE students a second for LOAD_DURATION seconds', async () => {
    const [{ count: before }] = await query('SELECT count(*)::int AS count FROM students');
    const output = compose(['run', '--rm', 'load'], { env: { ...process.env, LOAD_RATE: '10', LOAD_DURATION: '5' } });
    const [{ count: afterwards }] = await query('SELECT count(*)::int AS count FROM students');
    assert.equal(afterwards - before, 50, `50 students posted:\n${output.slice(-2000)}`);
  });

  it('down -v leaves a profile\'s container; --profile \'*\' down -v leaves nothing of the project', () => {
    compose(['--profile', 'load', 'up', '-d', 'load'], { env: { ...process.env, LOAD_DURATION: '5' } });
    compose(['down', '-v']);
    assert.ok(leftovers().some((left) => left.startsWith('ps ')), 'plain down leaves the load container (why the README says --profile \'*\')');
    compose(['--profile', '*', 'down', '-v']);
    assert.deepEqual(leftovers(), []);
  });

  it('the cluster overlay: a broker killed under load, every student billed once and nothing lost', async () => {
    const started = Date.now();
    compose([...CLUSTER, 'up', '-d', '--wait'], { timeoutMs: 400_000 });
    process.stdout.write(`# cluster overlay up -d --wait from empty volumes: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const load = postStudentsAtRate(300, 10, 'ComposeCluster'); // each POST asserts its 201
    await sleep(8_000);
    compose([...CLUSTER, 'kill', 'kafka-2']);
    const killedAt = Date.now();
    await sleep(12_000);
    compose([...CLUSTER, 'up', '-d', '--wait', 'kafka-2'], { timeoutMs: 180_000 });
    const downFor = Date.now() - killedAt;
    const posted = await load;
    const ids = posted.map((p) => p.id);
    await waitFor(`all ${ids.length} students to be billed`, async () =>
      (await query('SELECT count(*)::int AS count FROM students WHERE id = ANY($1) AND fee_cents IS NOT NULL', [ids]))[0].count === ids.length,
    { timeoutMs: 120_000, intervalMs: 1000 });
    const sent = await query(`SELECT key, count(*)::int AS count FROM outbox WHERE topic = 'student-billing' AND key = ANY($1) GROUP BY key`, [ids]);
    assert.deepEqual(sent.filter((m) => m.count !== 1), [], 'one student-billing message per student');
    assert.equal(sent.length, ids.length, 'a student-billing message for every student');
    // The outbox relays send what the table holds, at least once, and mark it sent: wait for them.
    await waitFor('the outbox relays to have sent every message of these students', async () =>
      (await query('SELECT count(*)::int AS count FROM outbox WHERE key = ANY($1) AND sent_at IS NULL', [ids]))[0].count === 0,
    { timeoutMs: 120_000, intervalMs: 1000 });
    const brokers = ['KAFKA_PORT', 'KAFKA_2_PORT', 'KAFKA_3_PORT'].map((name) => `127.0.0.1:${port(name)}`);
    const onTopic = new Set((await readMessages(kafkaClient('compose-test', brokers), 'student-billing')).map((m) => String(m.key)));
    assert.deepEqual(ids.filter((id) => !onTopic.has(id)), [], 'every student\'s student-billing message is on the topic');
    process.stdout.write(`# cluster: ${posted.length} POSTs at 10/s, all 201; kafka-2 down ${(downFor / 1000).toFixed(1)} s; every student billed once, on the topic\n`);
    compose([...CLUSTER, '--profile', '*', 'down', '-v']);
    assert.deepEqual(leftovers(), []);
  });
});
