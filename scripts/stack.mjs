#!/usr/bin/env node
// Native mirror of the docker compose demo, as plain processes on 127.0.0.1: PostgreSQL, Kafka
// (KRaft), Jaeger v2, VictoriaLogs, the OpenTelemetry Collector, Prometheus, then the services
// (every workspace with a src/main.ts, run with the environment of its docker-compose.yml block).
// Linux only: it finds and measures its processes through /proc.
//
// STACK_TOPOLOGY=cluster runs what docker-compose.cluster.yml describes instead: three Kafka
// brokers, the consumers' replicas, an agent collector in front of two gateway collectors, and
// Jaeger on disk (docs/cluster.md).
//
//   node scripts/stack.mjs up       build what is missing (cached), start what is not running, wait until ready
//   node scripts/stack.mjs down     stop what `up` started: services first, then infrastructure in reverse
//   node scripts/stack.mjs status   each component up/down with its URL, pid and memory
//   node scripts/stack.mjs stop <component>...    stop some components (e.g. billing-consumer), keep the rest
//   node scripts/stack.mjs start <component>...   start them again (what they depend on must be up)
//   node scripts/stack.mjs start --no-wait <c>...  start them without waiting until they are ready
//
// Versions, ports and credentials come from .env (environment variables override it). Downloads and
// builds are cached in ${STACK_CACHE_DIR:-~/.cache/nestjs-kafka-tracing}; logs, pid files and data
// live in .stack/ in the checkout. Runs on Node 24 with the checkout's dev dependencies (`npm ci`).

import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { loadStackConfig } from './stack/config.mjs';
import { collector, ensureCollectorBinary, gateways } from './stack/collector.mjs';
import { ensureJaegerBinary, jaeger, jaegerUrl } from './stack/jaeger.mjs';
import { ensureBrokerAgent } from './stack/broker-agent.mjs';
import { ensureKafkaJars, ensureTopics, kafkaNodes } from './stack/kafka.mjs';
import { StackError, formatDuration, say, step, tailFile, timings } from './stack/output.mjs';
import { postgres } from './stack/postgres.mjs';
import { ensurePrometheusBinary, prometheus } from './stack/prometheus.mjs';
import { ensureVictoriaLogsBinary, victoriaLogs } from './stack/victorialogs.mjs';
import { checkPrerequisites } from './stack/prerequisites.mjs';
import { isAlive, logFile, memoryMb, processMatches, readPid, removePid, runningPid, stopProcess } from './stack/processes.mjs';
import { assertPortsFree } from './stack/readiness.mjs';
import { buildServices, services, startOrder } from './stack/services.mjs';

// What tests and other scripts may import.
export { CLUSTER, NATIVE_PORTS, SERVICES, databaseUrl, kafkaBrokers, loadStackConfig } from './stack/config.mjs';
export { NODE_ARGS, serviceDefinitions, serviceEnvironment, services, startOrder } from './stack/services.mjs';
export { collectorEnvironment } from './stack/collector.mjs';
export { jaegerEnvironment } from './stack/jaeger.mjs';

/**
 * Start order of the infrastructure; `down` stops it in reverse, after the services, a group at a
 * time: a cluster's brokers stop together, since the last one could not shut down in an orderly
 * way without a majority of its controllers.
 */
const infrastructureGroups = (config) => [[postgres], kafkaNodes(config), [jaeger], [victoriaLogs], gateways(config), [collector], [prometheus]];
const infrastructure = (config) => infrastructureGroups(config).flat();
const components = (config) => [...infrastructure(config), ...services(config)];

/** How many components `up` got to; after a failure, says whether `down` has anything to stop. */
let componentsStarted = 0;

// ---------------------------------------------------------------------------------------------
// up

/**
 * Starts one component unless it already runs (same pid file, same command line): then it is
 * reused, after checking it is ready. A port held by a foreign process is reported, not fought over.
 */
async function bringUp(component, config, { wait = true } = {}) {
  const pid = runningPid(config, component);
  componentsStarted += 1;
  if (!wait) {
    // Started, not waited for: e.g. a service started before the infrastructure it waits for.
    if (pid === undefined) {
      await assertPortsFree(component.name, component.ports(config));
      say(component.name, `started (pid ${await component.start(config)}), not waiting until ready`);
    }
    return;
  }
  if (pid !== undefined) {
    say(component.name, `already running (pid ${pid}), reusing it`);
    await component.waitReady(config, pid);
  } else {
    await assertPortsFree(component.name, component.ports(config));
    await step(component.name, 'starting and waiting until ready', component.expectedStart, async () => {
      const startedPid = await component.start(config);
      await component.waitReady(config, startedPid);
    });
  }
  await component.afterReady?.(config);
}

/**
 * Runs independent lanes concurrently and waits for all of them, so one failure does not leave
 * another lane printing after the error report. A failure is announced at once (a Go build in
 * another lane may still run for minutes), then every failure is reported in full at the end.
 */
async function inParallel(lanes) {
  const announce = (error) => {
    say(error.component ?? 'stack', `FAILED: ${error.message} (details below when the other steps end)`);
    throw error;
  };
  const results = await Promise.allSettled(lanes.map((lane) => lane().catch(announce)));
  const failures = results.filter((result) => result.status === 'rejected').map((result) => result.reason);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} components failed`);
}

/**
 * Infrastructure in three independent lanes: Kafka and PostgreSQL start while the Go builds run
 * (one after the other: they would only slow each other down). Jaeger starts before the collector,
 * which exports to it, and Prometheus last: it scrapes the collector.
 */
async function startInfrastructure(config) {
  await inParallel([
    () => bringUp(postgres, config),
    async () => {
      await ensureKafkaJars(config);
      await ensureBrokerAgent(config);
      // Together: a cluster's brokers need a majority of its controllers to become ready.
      await inParallel(kafkaNodes(config).map((node) => () => bringUp(node, config)));
      await ensureTopics(config);
    },
    async () => {
      await ensureJaegerBinary(config);
      await ensureCollectorBinary(config);
      await ensurePrometheusBinary(config);
      await ensureVictoriaLogsBinary(config);
      await bringUp(jaeger, config);
      await bringUp(victoriaLogs, config);
      // The gateways first: the agent sends to them.
      await inParallel(gateways(config).map((gateway) => () => bringUp(gateway, config)));
      await bringUp(collector, config);
      await bringUp(prometheus, config);
    },
  ]);
}

/** In the order of their depends_on in docker-compose.yml: each group together, after the one before. */
async function startServices(config) {
  await buildServices(config);
  for (const group of startOrder(config)) {
    await inParallel(services(config).filter((replica) => group.includes(replica.service)).map((replica) => () => bringUp(replica, config)));
  }
}

async function up(config) {
  const started = performance.now();
  for (const dir of [config.paths.cacheDir, config.paths.logsDir, config.paths.pidsDir]) {
    mkdirSync(dir, { recursive: true });
  }
  checkPrerequisites(config);
  await startInfrastructure(config);
  await startServices(config);
  printSummary(config, performance.now() - started);
}

function relative(config, file) {
  return path.relative(config.paths.root, file);
}

function printSummary(config, elapsedMs) {
  console.log(`\nThe stack is up${config.topology === 'cluster' ? ' (topology: cluster)' : ''}:`);
  for (const component of components(config)) {
    console.log(`  ${component.name.padEnd(20)} ${component.describe(config)}`);
    console.log(`  ${''.padEnd(20)} log: ${relative(config, logFile(config, component.name))}`);
  }
  if (timings.length > 0) {
    console.log('\nSteps:');
    for (const { component, description, ms } of timings) {
      console.log(`  ${formatDuration(ms).padStart(10)}  [${component}] ${description}`);
    }
  }
  console.log(`\nTotal: ${formatDuration(elapsedMs)} (cache: ${config.paths.cacheDir})`);
  console.log(`
Try it:
  curl -X POST http://127.0.0.1:${config.ports.api}/api/v1/students -H 'content-type: application/json' -d '{"firstname":"Ada","lastname":"Lovelace"}'
  then open ${jaegerUrl(config)} or ask its API: curl '${jaegerUrl(config)}/api/traces?service=api-service&limit=1'

Note: a Jaeger built from its Go module serves a placeholder page ("ui assets not embedded") at
${jaegerUrl(config)}/ instead of the UI; the query API (/api/services, /api/traces/<trace id>) works.

Stop everything with: npm run stack:down`);
}

// ---------------------------------------------------------------------------------------------
// down

/** Stops one component by its pid, after checking the pid still runs the command `up` started. */
async function stopComponent(component, config) {
  const { name } = component;
  const pid = readPid(config, name);
  if (pid === undefined) {
    say(name, 'not running');
    return;
  }
  if (!isAlive(pid)) {
    say(name, `not running (removed the stale pid file of ${pid})`);
  } else if (!processMatches(pid, component.processSignature(config))) {
    say(name, `pid ${pid} now belongs to another program: left alone, pid file removed`);
  } else {
    const started = performance.now();
    const outcome = await stopProcess(pid, { signal: component.stopSignal, timeoutMs: component.stopTimeoutMs });
    const how = outcome === 'killed' ? 'killed (SIGKILL) after not stopping in time' : 'stopped';
    say(name, `${how} (pid ${pid}) in ${formatDuration(performance.now() - started)}`);
  }
  removePid(config, name);
}

async function down(config) {
  await Promise.all(services(config).map((service) => stopComponent(service, config)));
  for (const group of infrastructureGroups(config).reverse()) {
    await Promise.all(group.map((component) => stopComponent(component, config)));
  }
  console.log(`Data and logs are kept in ${relative(config, config.paths.stateDir)}/ (delete it for a fresh start); the build cache in ${config.paths.cacheDir}.`);
}

// ---------------------------------------------------------------------------------------------
// status

async function componentStatus(component, config) {
  const pid = readPid(config, component.name);
  const ours = pid !== undefined && isAlive(pid) && processMatches(pid, component.processSignature(config));
  if (!ours) return { state: 'down', detail: '' };
  const healthy = await component.isHealthy(config);
  const memory = memoryMb(pid);
  return { state: healthy ? 'up' : 'not ready', detail: `pid ${pid}, RSS ${memory.rss} MB, PSS ${memory.pss} MB` };
}

/** Prints every component; exit code 0 when all are up, 3 otherwise (the LSB "not running" code). */
async function status(config) {
  const results = await Promise.all(components(config).map(async (component) => [component, await componentStatus(component, config)]));
  for (const [component, { state, detail }] of results) {
    console.log(`${component.name.padEnd(20)} ${state.padEnd(10)} ${component.describe(config)}${detail ? `  [${detail}]` : ''}`);
  }
  return results.every(([, { state }]) => state === 'up') ? 0 : 3;
}

// ---------------------------------------------------------------------------------------------
// start / stop of single components (e.g. restarting a consumer while the rest keeps running)

function componentsNamed(config, names) {
  const known = components(config);
  const unknown = names.filter((name) => !known.some((component) => component.name === name));
  if (unknown.length > 0) {
    throw new StackError('stack', `unknown component ${unknown.join(', ')}; known: ${known.map((c) => c.name).join(', ')}`);
  }
  return known.filter((component) => names.includes(component.name));
}

/**
 * Starts the named components in stack order; it does not build anything nor start dependencies.
 * With --no-wait it does not wait until they are ready.
 */
async function start(config, names, { wait }) {
  for (const component of componentsNamed(config, names)) {
    await bringUp(component, config, { wait });
  }
}

/** Stops the named components in reverse stack order (the brokers named together). */
async function stop(config, names) {
  const named = new Set(componentsNamed(config, names).map((component) => component.name));
  for (const group of [...infrastructureGroups(config), ...services(config).map((service) => [service])].reverse()) {
    await Promise.all(group.filter((component) => named.has(component.name)).map((component) => stopComponent(component, config)));
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

function reportError(error) {
  const errors = error instanceof AggregateError ? error.errors : [error];
  for (const each of errors) {
    if (!(each instanceof StackError)) {
      console.error(`\nERROR ${each.stack ?? each}`);
      continue;
    }
    console.error(`\nERROR [${each.component}] ${each.message}`);
    if (each.hint) console.error(`  how to fix: ${each.hint}`);
    if (each.logFile) {
      console.error(`--- latest output in ${each.logFile} ---\n${tailFile(each.logFile, 40)}\n---`);
    }
  }
}

/** Each command and whether it takes component names. */
const COMMANDS = {
  up: { run: up, takesNames: false },
  down: { run: down, takesNames: false },
  status: { run: status, takesNames: false },
  start: { run: start, takesNames: true },
  stop: { run: stop, takesNames: true },
};

const USAGE = 'usage: node scripts/stack.mjs up | down | status | start [--no-wait] <component>... | stop <component>...';

async function main([name, ...args]) {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const wait = !(name === 'start' && args[0] === '--no-wait');
  const names = wait ? args : args.slice(1);
  if (!command || command.takesNames !== names.length > 0 || names.some((each) => each.startsWith('--'))) {
    console.error(USAGE);
    return 2;
  }
  if (process.platform !== 'linux') {
    console.error(`The native stack runs on Linux only (it finds and measures its processes through /proc); this is ${process.platform}. Use docker compose instead (README, "With Docker").`);
    return 1;
  }
  try {
    const config = loadStackConfig();
    return (await command.run(config, names, { wait })) ?? 0;
  } catch (error) {
    reportError(error);
    if (componentsStarted > 0) {
      console.error('\nComponents started so far keep running: `npm run stack:down` stops them.');
    }
    return 1;
  }
}

// Run only as a program, not when a test imports this file for its exports.
if (process.argv[1] && realpathSync(process.argv[1]) === import.meta.filename) {
  process.exitCode = await main(process.argv.slice(2));
}
