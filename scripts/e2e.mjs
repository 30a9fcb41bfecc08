#!/usr/bin/env node
// Runs the end-to-end tests (test/e2e) against a running stack.
//
//   npm run test:e2e                      the native stack: started here if it is not up, and then
//                                         stopped again (E2E_KEEP_STACK=1 leaves it up)
//   API_URL=... JAEGER_URL=... npm run test:e2e
//                                         any running stack, compose included: see README, "Tests"

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { databaseUrl, loadStackConfig } from './stack/config.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const node = (args, env = process.env) => spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env }).status ?? 1;

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
  testEnv = {
    ...process.env,
    API_URL: `http://127.0.0.1:${config.ports.api}`,
    BILLING_URL: `http://127.0.0.1:${config.ports.billing}`,
    NOTIFIER_URL: `http://127.0.0.1:${config.ports.notifier}`,
    JAEGER_URL: `http://127.0.0.1:${config.ports.jaegerUi}`,
    METRICS_URL: `http://127.0.0.1:${config.ports.metrics}/metrics`,
    DATABASE_URL: databaseUrl(config),
    KAFKA_BROKERS: `127.0.0.1:${config.ports.kafka}`,
  };
  const alreadyUp = await isUp(`${testEnv.API_URL}/health/ready`);
  console.log(alreadyUp ? 'e2e: using the native stack that is already up' : 'e2e: starting the native stack');
  if (node(['scripts/stack.mjs', 'up']) !== 0) {
    console.error('e2e: the native stack did not start (see above); `npm run stack:down` stops what did');
    process.exit(1);
  }
  stopAfterwards = !alreadyUp && process.env.E2E_KEEP_STACK !== '1';
}

const status = node(['--disable-warning=TimeoutNegativeWarning', '--test', '--test-reporter=spec', '--test-concurrency=1', 'test/e2e/trace.e2e.test.mjs', 'test/e2e/bill-once.e2e.test.mjs', 'test/e2e/dead-letter.e2e.test.mjs', 'test/e2e/visibility.e2e.test.mjs', 'test/e2e/slow-handler.e2e.test.mjs', 'test/e2e/outage.e2e.test.mjs', 'test/e2e/delivery.e2e.test.mjs', 'test/e2e/sampling.e2e.test.mjs'], testEnv);
if (status !== 0 && !process.env.API_URL) {
  console.error('e2e: failed; the services\' logs are in .stack/logs/ (node scripts/stack.mjs status lists them)');
}
if (stopAfterwards) node(['scripts/stack.mjs', 'down']);
process.exit(status);
