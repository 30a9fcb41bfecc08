// A built service as a real process, without any infrastructure: Kafka and the collector are closed
// ports. Checks how it starts and stops (run `npm run build` first).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
const NOTIFIER = path.join(ROOT, 'notifier-consumer');
const TRACING = ['--import', '@demo/common/tracing'];

/** A port nothing listens on (taken, then released). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startNotifier(nodeArgs, extraEnv = {}) {
  const port = await closedPort();
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
    cwd: NOTIFIER,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`,
      KAFKA_CONSUMER_GROUP: 'notifier-consumer',
      OTEL_SERVICE_NAME: 'notifier-consumer',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      ...extraEnv,
    },
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, exited, output: () => output, stdout: () => stdout };
}

/** Node arguments and environment that record the modules a service loads, listed by `loaded()` after its exit. */
function recordLoadedModules() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'loaded-modules-')), 'loaded.txt');
  const recorder = pathToFileURL(path.join(ROOT, 'test/fixtures/record-loaded-modules.mjs')).href;
  return {
    args: ['--import', recorder],
    env: { LOADED_MODULES_FILE: file },
    loaded() {
      const urls = readFileSync(file, 'utf8').split('\n');
      assert.ok(urls.some((url) => url.includes('/node_modules/kafkajs/')), 'the list records what the service loads');
      return urls;
    },
  };
}

async function waitUntilLive(service) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const answered = await fetch(`http://127.0.0.1:${service.port}/health/live`).then((response) => response.ok, () => false);
    if (answered) return;
    await sleep(200);
  }
  service.child.kill('SIGKILL');
  assert.fail(`not live within 60 s:\n${service.output()}`);
}

async function exitWithin(service, ms) {
  const timeout = sleep(ms, 'timeout');
  const result = await Promise.race([service.exited, timeout]);
  if (result === 'timeout') {
    service.child.kill('SIGKILL');
    assert.fail(`still running after ${ms} ms:\n${service.output()}`);
  }
  return result;
}

// Three at a time: each start takes a core for seconds.
describe('a service process, its start and its stop', { concurrency: 3 }, () => {
  it('refuses to start without --import @demo/common/tracing, and says how to start it', async () => {
    const service = await startNotifier([]);
    const { code } = await exitWithin(service, 20_000);
    assert.notEqual(code, 0);
    assert.match(service.output(), /node --import @demo\/common\/tracing dist\/main\.js/);
  });

  it('refuses to start on a misspelt variable of the telemetry bootstrap, naming it', async () => {
    const service = await startNotifier(TRACING, { KAFKA_CONSUMER_TRACE: 'links' });
    const { code } = await exitWithin(service, 20_000);
    assert.notEqual(code, 0);
    assert.match(service.output(), /Invalid environment:\n {2}KAFKA_CONSUMER_TRACE: KAFKA_CONSUMER_TRACE must be one of the following values: parent, link/);
  });

  it('with OTEL_SDK_DISABLED=true, starts without loading the SDK or the loader hook', async () => {
    const modules = recordLoadedModules();
    const service = await startNotifier([...modules.args, ...TRACING], { OTEL_SDK_DISABLED: 'true', ...modules.env });
    await waitUntilLive(service);
    service.child.kill('SIGTERM');
    assert.equal((await exitWithin(service, 20_000)).code, 0, service.output());
    const telemetry = modules.loaded().filter((url) => /\/node_modules\/(@opentelemetry\/sdk-node|import-in-the-middle)\//.test(url));
    assert.deepEqual(telemetry, []);
  });

  it('exits 0 on SIGTERM while the collector is down, with a warning about the lost telemetry', async () => {
    const service = await startNotifier(TRACING);
    await waitUntilLive(service);
    service.child.kill('SIGTERM');
    const { code } = await exitWithin(service, 20_000);
    assert.equal(code, 0, service.output());
    assert.match(service.output(), /Telemetry not flushed/);
  });

  it('shuts down once when SIGTERM and SIGINT both arrive', async () => {
    const service = await startNotifier(TRACING);
    await waitUntilLive(service);
    // Back to back: the whole stop can take a few ms, and a second signal sent later could find
    // the process gone. The kernel delivers two pending signals in either order.
    service.child.kill('SIGTERM');
    service.child.kill('SIGINT');
    const { code } = await exitWithin(service, 20_000);
    assert.equal(code, 0, service.output());
    const [first] = service.output().match(/SIG(TERM|INT)(?= received, closing)/g) ?? [];
    assert.equal(service.output().match(/received, closing/g)?.length, 1, service.output());
    const second = first === 'SIGTERM' ? 'SIGINT' : 'SIGTERM';
    assert.match(service.output(), new RegExp(`${second} received while closing, ignored`));
  });

  it('logs an uncaught exception, flushes its telemetry, and exits 1', async () => {
    // A listener that throws, outside anything Nest would catch.
    const crashOnSignal = 'data:text/javascript,process.on("SIGUSR2",()=>{throw new Error("crash requested by the test")})';
    const service = await startNotifier([...TRACING, '--import', crashOnSignal]);
    await waitUntilLive(service);
    service.child.kill('SIGUSR2');
    const { code } = await exitWithin(service, 20_000);
    assert.equal(code, 1, service.output());
    assert.match(service.output(), /Uncaught exception, exiting/);
    assert.match(service.output(), /crash requested by the test/);
    assert.match(service.output(), /Telemetry not flushed/, 'the flush was attempted');
  });

  it('writes every line as one JSON record, Nest\'s own and kafkajs\' included, with an upper-case level', async () => {
    const service = await startNotifier(TRACING);
    await waitUntilLive(service);
    const deadline = Date.now() + 20_000;
    while (!service.stdout().includes('Kafka consumer: not reachable') && Date.now() < deadline) await sleep(200);
    service.child.kill('SIGTERM');
    await exitWithin(service, 20_000);
    const lines = service.stdout().split('\n').filter(Boolean);
    const records = lines.map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return assert.fail(`not a JSON record: ${line}`);
      }
    });
    assert.deepEqual([...new Set(records.map((record) => record.level))].filter((level) => !['INFO', 'WARN', 'ERROR'].includes(level)), []);
    const from = (context, pattern) => records.find((record) => record.context === context && pattern.test(record.msg));
    assert.ok(from('NestApplication', /successfully started/), 'Nest\'s own lines');
    assert.equal(from('ServerKafka', /ECONNREFUSED/)?.level, 'ERROR', 'kafkajs\' lines, through Nest\'s Kafka transport');
    assert.equal(from('Kafka consumer', /not reachable/)?.level, 'WARN', 'the project\'s lines');
  });

  it('with LOG_LEVEL=warn, writes no INFO line', async () => {
    const service = await startNotifier(TRACING, { LOG_LEVEL: 'warn' });
    await waitUntilLive(service);
    service.child.kill('SIGTERM');
    await exitWithin(service, 20_000);
    assert.match(service.stdout(), /"level":"WARN"/);
    assert.doesNotMatch(service.stdout(), /"level":"INFO"/);
  });

  it('the notifier, which has no database, loads neither TypeORM nor pg', async () => {
    const modules = recordLoadedModules();
    const service = await startNotifier([...modules.args, ...TRACING], modules.env);
    await waitUntilLive(service);
    service.child.kill('SIGTERM');
    await exitWithin(service, 20_000);
    const database = modules.loaded().filter((url) => /\/node_modules\/(typeorm|@nestjs\/typeorm|pg|pg-pool)\//.test(url));
    assert.deepEqual(database, []);
  });
});
