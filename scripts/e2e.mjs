#!/usr/bin/env node
// Runs the end-to-end tests (test/e2e, <workspace>/test) against a running stack.
//
//   npm run test:e2e                      the native stack: started here if it is not up, and then
//                                         stopped again (E2E_KEEP_STACK=1 leaves it up)
//   API_URL=... JAEGER_URL=... npm run test:e2e
//                                         any running stack, compose included: see
//                                         docs/tests.md#against-compose-or-any-running-stack
//   node scripts/e2e.mjs test/e2e/<file>...  only those files (by default every test/e2e/*.e2e.test.mjs
//                                         and <workspace>/test/*.e2e.test.mjs)
//   npm run test:cluster                  the fault test, test/cluster/, on STACK_TOPOLOGY=cluster

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { controlsTheStack, e2eTestFiles } from './lib/e2e-files.mjs';
import { databaseUrl, kafkaBrokers, loadStackConfig } from './stack/config.mjs';
import { serviceDefinitions } from './stack/services.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
// kafkajs 2.2.4 (the stack's topic set-up, the tests) sets a negative timeout that Node 24 warns about, harmlessly.
const node = (args, env = process.env) =>
  spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...args], { cwd: ROOT, stdio: 'inherit', env }).status ?? 1;

async function isUp(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

let stopAfterwards = false;
let testEnv = process.env;
if (!process.env.API_URL) {
  // The native stack's addresses, from .env and its overrides (API_PORT, KAFKA_PORT...).
  const config = loadStackConfig();
  const port = (service) => serviceDefinitions(config)[service].port;
  testEnv = {
    ...process.env,
    API_URL: `http://127.0.0.1:${port('api-service')}`,
    BILLING_URL: `http://127.0.0.1:${port('billing-consumer')}`,
    NOTIFIER_URL: `http://127.0.0.1:${port('notifier-consumer')}`,
    JAEGER_URL: `http://127.0.0.1:${config.ports.jaegerUi}`,
    METRICS_URL: `http://127.0.0.1:${config.ports.metrics}/metrics`,
    PROMETHEUS_URL: `http://127.0.0.1:${config.ports.prometheus}`,
    LOGS_URL: `http://127.0.0.1:${config.ports.victoriaLogs}`,
    DATABASE_URL: databaseUrl(config),
    KAFKA_BROKERS: kafkaBrokers(config).join(','),
  };
  const alreadyUp = await isUp(`${testEnv.API_URL}/health/ready`);
  console.log(alreadyUp ? 'e2e: using the native stack that is already up' : 'e2e: starting the native stack');
  if (node(['scripts/stack.mjs', 'up']) !== 0) {
    console.error('e2e: the native stack did not start (see above); `npm run stack:down` stops what did');
    process.exit(1);
  }
  stopAfterwards = !alreadyUp && process.env.E2E_KEEP_STACK !== '1';
}

// The files named, or else every test file. They share the one stack: first those that leave its
// components alone, three at a time (most of a test is waiting for a trace), then those that stop
// or restart some, one after the other.
const files = process.argv.length > 2 ? process.argv.slice(2) : e2eTestFiles();
const alone = files.filter(controlsTheStack);
const sideBySide = files.filter((file) => !alone.includes(file));
let status = 0;
for (const [group, concurrency] of [[sideBySide, 3], [alone, 1]]) {
  if (group.length === 0) continue;
  const groupStatus = node(['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...group], testEnv);
  status ||= groupStatus;
}
if (status !== 0 && !process.env.API_URL) {
  console.error('e2e: failed; the services\' logs are in .stack/logs/ (node scripts/stack.mjs status lists them)');
}
if (stopAfterwards) node(['scripts/stack.mjs', 'down']);
process.exit(status);
