// The NestJS services (every workspace with a src/main.ts), started last: built by the workspace's
// `npm run build` (incremental), then run with the same Node as this script and the environment
// their docker-compose.yml blocks set, pointed at 127.0.0.1. In the cluster topology the blocks of
// docker-compose.cluster.yml are merged over them, and a service with `deploy.replicas: N` runs N
// processes: `billing-consumer`, `billing-consumer-2`... each on its own port. With GO_CONSUMER=on
// it also runs receipt-consumer, the opt-in Go consumer (compose's `go` profile), built with `go build`.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { SERVICES, parsePort } from './config.mjs';
import { dependenciesOf, environmentOf, interpolateDeep, publishedPort, readComposeFiles } from './compose.mjs';
import { StackError, step } from './output.mjs';
import { logFile, readPid, runCommand, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

/**
 * How a service is started, here and in the Dockerfile's CMD (a test keeps the two equal).
 * `--import` (not `--require`): the tracing bootstrap must hook ESM imports such as kafkajs.
 * Tuning flags are not part of it: docker-compose.yml sets them in NODE_OPTIONS, for both.
 */
export const NODE_ARGS = Object.freeze(['--import', '@demo/common/tracing', 'dist/main.js']);

/** The opt-in Go consumer of `student-billing` (receipt-consumer/, docs/go-consumer.md). */
export const GO_CONSUMER = 'receipt-consumer';

/**
 * The container addresses docker-compose.yml gives the services, and where the native stack has
 * the same thing on 127.0.0.1. A compose address missing here fails the start, naming it.
 */
export function nativeAddresses(config) {
  const brokers = config.cluster.brokers.slice(1).map((broker) => [`kafka-${broker.node}:19092`, `127.0.0.1:${broker.port}`]);
  return {
    'kafka:19092': `127.0.0.1:${config.ports.kafka}`,
    ...Object.fromEntries(brokers),
    'postgres:5432': `127.0.0.1:${config.ports.postgres}`,
    'otel-collector:4318': `127.0.0.1:${config.ports.otlpHttp}`,
  };
}

/** `value` with every compose address of `addresses` (nativeAddresses) replaced by its 127.0.0.1 one. */
export function onHost(value, addresses) {
  let native = String(value ?? '');
  for (const [inCompose, host] of Object.entries(addresses)) native = native.replaceAll(inCompose, host);
  return native;
}

/** Whether `value` holds the address `name:port` (after the start, a `//`, an `@` or a comma). */
export const namesContainer = (value, name) => new RegExp(`(^|[/@,])${name}:\\d`).test(value);

/**
 * One service's definition from its (interpolated, merged) compose block; `raw` is its block in
 * docker-compose.yml as written, whose published port the first replica takes.
 */
function serviceDefinition(service, { block, raw, base, addresses, containerNames }) {
  const portVariable = /\$\{([A-Za-z0-9_]+)\}/.exec(String(raw.ports?.[0] ?? ''))?.[1];
  if (!portVariable) {
    throw new StackError('services', `docker-compose.yml: ${service} must publish its port from a .env variable, as notifier-consumer does with NOTIFIER_PORT`);
  }
  const port = parsePort(portVariable, publishedPort(base.ports[0]).host);
  const environment = {};
  for (const [key, value] of Object.entries(environmentOf(block))) {
    const native = onHost(value, addresses);
    const unknown = containerNames.find((name) => namesContainer(native, name));
    if (unknown) {
      throw new StackError('services', `docker-compose.yml gives ${service} ${key}=${value}: the native stack has no address for ${unknown} (scripts/stack/services.mjs, nativeAddresses)`);
    }
    environment[key] = native;
  }
  Object.assign(environment, { PORT: String(port), OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=native' });
  const dependsOn = dependenciesOf(block).map(([name]) => name).filter((name) => SERVICES.includes(name));
  return { port, portVariable, environment, dependsOn, replicas: block.deploy?.replicas ?? 1 };
}

const definitions = new WeakMap();

/**
 * How each service runs, read from its block in docker-compose.yml (interpolated with .env and the
 * environment, as compose does): its environment with the container addresses replaced by
 * 127.0.0.1 ones, its published port (the native stack's PORT) and the services it depends on.
 * A new service therefore needs its compose block and its port in .env, nothing here.
 */
export function serviceDefinitions(config) {
  if (!definitions.has(config)) {
    const { base, compose } = readComposeFiles(config.paths.root, config.variables, config.composeFiles);
    const interpolatedBase = interpolateDeep(base, config.variables);
    const context = { addresses: nativeAddresses(config), containerNames: Object.keys(compose.services) };
    definitions.set(config, Object.fromEntries([...SERVICES, GO_CONSUMER].map((service) => {
      if (!compose.services[service]) {
        throw new StackError('services', `${service} is a workspace with src/main.ts, but docker-compose.yml has no service ${service}`, {
          hint: 'add its block to docker-compose.yml (a copy of notifier-consumer\'s, renamed) and its port to .env',
        });
      }
      return [service, serviceDefinition(service, {
        ...context,
        block: compose.services[service],
        raw: base.services[service],
        base: interpolatedBase.services[service],
      })];
    })));
  }
  return definitions.get(config);
}

/** The services in groups that start one after the other, each after what it depends_on in compose. */
export function startOrder(config) {
  const definitionsOf = serviceDefinitions(config);
  const names = [...new Set(services(config).map((replica) => replica.service))];
  const groups = [];
  const started = new Set();
  while (started.size < names.length) {
    const group = names.filter((s) => !started.has(s) && definitionsOf[s].dependsOn.every((d) => started.has(d)));
    if (group.length === 0) throw new StackError('services', `docker-compose.yml: the services' depends_on form a cycle among ${names.filter((s) => !started.has(s)).join(', ')}`);
    group.forEach((s) => started.add(s));
    groups.push(group);
  }
  return groups;
}

/** Replica `replica` (1, 2...) of a service: its component name and port. */
function replicaName(service, replica) {
  return replica === 1 ? service : `${service}-${replica}`;
}

function servicePort(service, config, replica = 1) {
  return serviceDefinitions(config)[service].port + config.cluster.replicaPortOffset * (replica - 1);
}

/** The environment of one service in the native stack (its compose environment, on 127.0.0.1). */
export function serviceEnvironment(service, config) {
  if (![...SERVICES, GO_CONSUMER].includes(service)) throw new Error(`unknown service ${service}`);
  return serviceDefinitions(config)[service].environment;
}

/**
 * A replica's environment: its port on 127.0.0.1, and in a cluster its readable service.instance.id (the SDK
 * would pick a random one), so a trace says which replica did the work.
 */
function replicaEnvironment(service, config, replica) {
  const environment = { ...serviceEnvironment(service, config), HOST: '127.0.0.1', PORT: String(servicePort(service, config, replica)) };
  if (config.topology === 'cluster') {
    environment.OTEL_RESOURCE_ATTRIBUTES += `,service.instance.id=${replicaName(service, replica)}`;
  }
  return environment;
}

function serviceDir(service, config) {
  return path.join(config.paths.root, service);
}

/**
 * `npm run build` at the checkout root (tsc -b, incremental: seconds when nothing changed).
 * Uses the npm that launched this script when there is one, with this script's Node.
 */
export async function buildServices(config) {
  const npm = process.env.npm_execpath
    ? { command: process.execPath, args: [process.env.npm_execpath, 'run', 'build'] }
    : { command: 'npm', args: ['run', 'build'] };
  await step('services', 'building the workspace (npm run build)', '~1 s when up to date, up to a minute after changes', () =>
    runCommand('services', npm.command, npm.args, { cwd: config.paths.root, log: logFile(config, 'build-services') }),
  );
  for (const service of SERVICES) {
    const entry = path.join(serviceDir(service, config), 'dist', 'main.js');
    if (!existsSync(entry)) {
      throw new StackError('services', `${entry} is missing after the build`, { logFile: logFile(config, 'build-services') });
    }
  }
}

/** How a Node service runs: `node --import @demo/common/tracing dist/main.js` in its folder. */
const nodeService = (service) => (config) => ({ command: process.execPath, args: NODE_ARGS, cwd: serviceDir(service, config) });

/**
 * One stack component per service replica, with the same shape as kafka, postgres, jaeger, collector.
 * The replicas of a service share its folder: the pid file tells them apart.
 */
function serviceComponent(service, replica, { program = nodeService(service), build = async () => {} } = {}) {
  const name = replicaName(service, replica);
  const readyUrl = (config) => `http://127.0.0.1:${servicePort(service, config, replica)}/health/ready`;
  return {
    name,
    service,
    describe: (config) => `http://127.0.0.1:${servicePort(service, config, replica)} (ready: ${readyUrl(config)})`,
    ports: (config) => [{ port: servicePort(service, config, replica), envVar: replica === 1 ? serviceDefinitions(config)[service].portVariable : 'REPLICA_PORT_OFFSET' }],
    processSignature: (config) => ({ argv: [program(config).command, ...program(config).args], cwd: serviceDir(service, config) }),
    expectedStart: '~5-20 s',
    // Consumers leave their group on SIGTERM, which can take a few seconds (a fetch in flight).
    stopTimeoutMs: 20_000,

    async start(config) {
      await build(config);
      return startDaemon(config, name, { ...program(config), env: { ...process.env, ...replicaEnvironment(service, config, replica) } });
    },

    async waitReady(config, pid) {
      await waitFor(name, `${readyUrl(config)} to answer 200`, async () => (await httpStatus(readyUrl(config))) === 200, {
        timeoutMs: 90_000, intervalMs: 500, pid, logFile: logFile(config, name),
      });
    },

    isHealthy: async (config) => (await httpStatus(readyUrl(config))) === 200,
  };
}

/** `go build` of receipt-consumer/ into the cache: incremental, as Go caches each package it compiled. */
async function buildGoConsumer(config) {
  await step(GO_CONSUMER, 'building (go build)', '~1 s when up to date, 1-2 min the first time', () =>
    runCommand(GO_CONSUMER, 'go', ['build', '-o', goConsumerBinary(config), '.'], { cwd: serviceDir(GO_CONSUMER, config), log: logFile(config, `build-${GO_CONSUMER}`) }),
  );
}

const goConsumerBinary = (config) => path.join(config.paths.cacheDir, GO_CONSUMER, GO_CONSUMER);

/**
 * Every replica of every service this topology runs (one of each in the single-node stack), and
 * receipt-consumer with GO_CONSUMER=on, or while it still runs from a start with it.
 */
export function services(config) {
  const node = SERVICES.flatMap((service) =>
    Array.from({ length: serviceDefinitions(config)[service].replicas }, (_, index) => serviceComponent(service, index + 1)));
  const go = serviceComponent(GO_CONSUMER, 1, { program: (c) => ({ command: goConsumerBinary(c), args: [], cwd: serviceDir(GO_CONSUMER, c) }), build: buildGoConsumer });
  return config.goConsumer || readPid(config, GO_CONSUMER) !== undefined ? [...node, go] : node;
}
