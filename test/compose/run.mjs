#!/usr/bin/env node
// `npm run test:compose`: the project's compose files, unchanged, run for real on a machine that has
// no Docker images and reaches no image registry (docs/tests.md, "Compose, for real"):
//   1. a Docker engine (Debian's package, installed if absent) and the client tools, built from the
//      Go module proxy and cached: Compose, buildx, BuildKit, a registry (docker.mjs);
//   2. stand-ins for every image the compose files name, under the official names and the versions
//      of .env (images.mjs, images/*/);
//   3. the tests (compose.e2e.mjs): stand-ins' contracts, the Dockerfile through BuildKit, `up
//      --wait`, the end-to-end suite, the profiles, the cluster overlay with a broker killed, `down -v`.
// Every published port is moved by COMPOSE_TEST_PORT_OFFSET (20000), so that a native stack may run beside it.
// `--prepare` does step 1's installs and builds only: CI runs it at low priority beside the native tests.

import { spawnSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { databaseUrl, loadStackConfig } from '../../scripts/stack/config.mjs';
import { formatDuration, say, timings } from '../../scripts/stack/output.mjs';
import { dockerPaths, ensureDebianPackages, ensureTools, startDaemons, stopDaemons } from './docker.mjs';
import { ensureStandIns } from './images.mjs';

const PORT_OFFSET = Number(process.env.COMPOSE_TEST_PORT_OFFSET ?? 20000);
const REGISTRY_PORT = Number(process.env.COMPOSE_TEST_REGISTRY_PORT ?? 25000);

/** What the tests' helpers (test/e2e/support.mjs) read: the published ports of compose. */
const addresses = (config) => ({
  API_URL: `http://127.0.0.1:${config.ports.api}`,
  KAFKA_BROKERS: `127.0.0.1:${config.ports.kafka}`,
  DATABASE_URL: databaseUrl(config),
  JAEGER_URL: `http://127.0.0.1:${config.ports.jaegerUi}`,
});

/**
 * What a run fills under <cache>/docker, in GB: the first, the engine's images, BuildKit's cache (its
 * GC keeps it under 10 GB) and the registry; a later one, containers, volumes and new layers. Short
 * of it, builds and containers fail midway with "no space left on device".
 */
const NEEDED_GB = { firstRun: 16, laterRun: 4 };

function assertDiskSpace(paths) {
  const firstRun = !existsSync(paths.engineData);
  const needed = firstRun ? NEEDED_GB.firstRun : NEEDED_GB.laterRun;
  let dir = paths.home;
  while (!existsSync(dir)) dir = path.dirname(dir);
  const { bavail, bsize } = statfsSync(dir);
  const free = (bavail * bsize) / 2 ** 30;
  if (free < needed) {
    throw new Error(`${free.toFixed(1)} GB free in ${dir}, and this ${firstRun ? 'first run' : 'run'} needs about ${needed} GB under ${paths.home}: free some space, or set STACK_CACHE_DIR to a larger disk`);
  }
}

async function runTests(files) {
  const env = await startDaemons(paths, { registryPort: REGISTRY_PORT });
  await ensureStandIns(config, paths, env, { registryPort: REGISTRY_PORT, composeFiles: ['docker-compose.yml', 'docker-compose.cluster.yml'] });
  say('compose', `ready after ${formatDuration(performance.now() - started)}; the tests, with ports moved by ${PORT_OFFSET}`);
  return spawnSync(process.execPath, [
    '--disable-warning=TimeoutNegativeWarning', '--test', '--test-reporter=spec', '--test-concurrency=1',
    ...(files.length > 0 ? files : ['test/compose/standins.e2e.mjs', 'test/compose/compose.e2e.mjs']),
  ], { stdio: 'inherit', env: { ...env, ...addresses(config) } }).status ?? 1;
}

const started = performance.now();
const movedPorts = Object.fromEntries(Object.entries(loadStackConfig().variables)
  .filter(([key, value]) => key.endsWith('_PORT') && /^\d+$/.test(value) && process.env[key] === undefined)
  .map(([key, value]) => [key, String(Number(value) + PORT_OFFSET)]));
Object.assign(process.env, movedPorts);
const config = loadStackConfig();
const paths = dockerPaths(config.paths.cacheDir);

const prepareOnly = process.argv[2] === '--prepare';
let status = 1;
try {
  if (!prepareOnly) assertDiskSpace(paths);
  await ensureDebianPackages(paths, { dockerd: 'docker.io', debootstrap: 'debootstrap' });
  await ensureTools(paths);
  status = prepareOnly ? 0 : await runTests(process.argv.slice(2));
} catch (error) {
  console.error(`test:compose: ${error.message}`);
  if (error.logFile) console.error(`  see ${error.logFile}`);
} finally {
  if (!prepareOnly && process.env.COMPOSE_TEST_KEEP_DAEMONS !== '1') await stopDaemons(paths);
  for (const { component, description, ms } of timings) say(component, `${description}: ${formatDuration(ms)}`);
  say('compose', `test:compose${prepareOnly ? ' --prepare' : ''} ${status === 0 ? 'passed' : 'FAILED'} in ${formatDuration(performance.now() - started)}`);
}
process.exit(status);
