// The NestJS services (every workspace with a src/main.ts), started last: built by the workspace's
// `npm run build` (incremental), then run with the same Node as this script and the environment
// their docker-compose.yml blocks set, pointed at 127.0.0.1.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { SERVICES, parsePort } from './config.mjs';
import { dependenciesOf, environmentOf, publishedPort, readCompose } from './compose.mjs';
import { StackError, step } from './output.mjs';
import { logFile, runCommand, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

/**
 * How a service is started, here and in the Dockerfile's CMD (a test keeps the two equal).
 * `--import` (not `--require`): the tracing bootstrap must hook ESM imports such as kafkajs.
 * Tuning flags are not part of it: docker-compose.yml sets them in NODE_OPTIONS, for both.
 */
export const NODE_ARGS = Object.freeze(['--import', '@demo/common/tracing', 'dist/main.js']);

/**
 * The container addresses docker-compose.yml gives the services, and where the native stack has
 * the same thing on 127.0.0.1. A compose address missing here fails the start, naming it.
 */
function nativeAddresses(config) {
  return {
    'kafka:19092': `127.0.0.1:${config.ports.kafka}`,
    'postgres:5432': `127.0.0.1:${config.ports.postgres}`,
    'otel-collector:4318': `127.0.0.1:${config.ports.otlpHttp}`,
  };
}

/** Whether `value` holds the address `name:port` (after the start, a `//`, an `@` or a comma). */
export const namesContainer = (value, name) => new RegExp(`(^|[/@,])${name}:\\d`).test(value);

/** One service's definition from its (interpolated) compose block; `raw` is the block as written. */
function serviceDefinition(service, { block, raw, addresses, containerNames }) {
  const portVariable = /\$\{([A-Za-z0-9_]+)\}/.exec(String(raw.ports?.[0] ?? ''))?.[1];
  if (!portVariable) {
    throw new StackError('services', `docker-compose.yml: ${service} must publish its port from a .env variable, as notifier-consumer does with NOTIFIER_PORT`);
  }
  const port = parsePort(portVariable, publishedPort(block.ports[0]).host);
  const environment = {};
  for (const [key, value] of Object.entries(environmentOf(block))) {
    let native = String(value ?? '');
    for (const [inCompose, onHost] of Object.entries(addresses)) native = native.replaceAll(inCompose, onHost);
    const unknown = containerNames.find((name) => namesContainer(native, name));
    if (unknown) {
      throw new StackError('services', `docker-compose.yml gives ${service} ${key}=${value}: the native stack has no address for ${unknown} (scripts/stack/services.mjs, nativeAddresses)`);
    }
    environment[key] = native;
  }
  Object.assign(environment, { PORT: String(port), OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=native' });
  const dependsOn = dependenciesOf(block).map(([name]) => name).filter((name) => SERVICES.includes(name));
  return { port, portVariable, environment, dependsOn };
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
    const { raw, compose } = readCompose(config.paths.root, config.variables);
    const context = { addresses: nativeAddresses(config), containerNames: Object.keys(compose.services) };
    definitions.set(config, Object.fromEntries(SERVICES.map((service) => {
      if (!compose.services[service]) {
        throw new StackError('services', `${service} is a workspace with src/main.ts, but docker-compose.yml has no service ${service}`, {
          hint: 'add its block to docker-compose.yml (a copy of notifier-consumer\'s, renamed) and its port to .env',
        });
      }
      return [service, serviceDefinition(service, { ...context, block: compose.services[service], raw: raw.services[service] })];
    })));
  }
  return definitions.get(config);
}

/** The services in groups that start one after the other, each after what it depends_on in compose. */
export function startOrder(config) {
  const definitionsOf = serviceDefinitions(config);
  const groups = [];
  const started = new Set();
  while (started.size < SERVICES.length) {
    const group = SERVICES.filter((s) => !started.has(s) && definitionsOf[s].dependsOn.every((d) => started.has(d)));
    if (group.length === 0) throw new StackError('services', `docker-compose.yml: the services' depends_on form a cycle among ${SERVICES.filter((s) => !started.has(s)).join(', ')}`);
    group.forEach((s) => started.add(s));
    groups.push(group);
  }
  return groups;
}

function servicePort(service, config) {
  return serviceDefinitions(config)[service].port;
}

/** The environment of one service in the native stack (its compose environment, on 127.0.0.1). */
export function serviceEnvironment(service, config) {
  if (!SERVICES.includes(service)) throw new Error(`unknown service ${service}`);
  return serviceDefinitions(config)[service].environment;
}

function serviceDir(service, config) {
  return path.join(config.paths.root, service);
}

function readyUrl(service, config) {
  return `http://127.0.0.1:${servicePort(service, config)}/health/ready`;
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

/** One stack component per service, with the same shape as kafka, postgres, jaeger, collector. */
function serviceComponent(service) {
  return {
    name: service,
    describe: (config) => `http://127.0.0.1:${servicePort(service, config)} (ready: ${readyUrl(service, config)})`,
    ports: (config) => [{ port: servicePort(service, config), envVar: serviceDefinitions(config)[service].portVariable }],
    processSignature: (config) => ({ argv: NODE_ARGS, cwd: serviceDir(service, config) }),
    expectedStart: '~5-20 s',
    // Consumers leave their group on SIGTERM, which can take a few seconds (a fetch in flight).
    stopTimeoutMs: 20_000,

    start: (config) =>
      startDaemon(config, service, {
        command: process.execPath,
        args: NODE_ARGS,
        cwd: serviceDir(service, config),
        env: { ...process.env, ...serviceEnvironment(service, config) },
      }),

    async waitReady(config, pid) {
      await waitFor(service, `${readyUrl(service, config)} to answer 200`, async () => (await httpStatus(readyUrl(service, config))) === 200, {
        timeoutMs: 90_000, intervalMs: 500, pid, logFile: logFile(config, service),
      });
    },

    isHealthy: async (config) => (await httpStatus(readyUrl(service, config))) === 200,
  };
}

export const services = SERVICES.map(serviceComponent);
