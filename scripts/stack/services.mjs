// The three NestJS services, started last: built by the workspace's `npm run build` (incremental),
// then run with the same Node as this script and the same variables docker-compose.yml sets,
// pointed at 127.0.0.1.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { SERVICES, databaseUrl } from './config.mjs';
import { StackError, step } from './output.mjs';
import { logFile, runCommand, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

/**
 * How a service is started, here and in the Dockerfile's CMD (a test keeps the two equal).
 * `--import` (not `--require`): the tracing bootstrap must hook ESM imports such as kafkajs.
 * kafkajs 2.2.4 sets a negative timeout that Node 24 warns about, harmlessly (kafkajs issue 1751).
 * Under load V8 lets its young generation grow to its maximum (sized from the machine's memory):
 * each service was ~100 MB bigger at 200 requests/s, traced or not. 16 MB semi-spaces keep that in
 * check, for more frequent minor GCs (README, "Benchmark", has the figures before and after).
 */
export const NODE_ARGS = Object.freeze([
  '--disable-warning=TimeoutNegativeWarning',
  '--max-semi-space-size=16',
  '--import',
  '@demo/common/tracing',
  'dist/main.js',
]);

const PORT_KEYS = {
  'api-service': ['api', 'API_PORT'],
  'billing-consumer': ['billing', 'BILLING_PORT'],
  'notifier-consumer': ['notifier', 'NOTIFIER_PORT'],
};

function servicePort(service, config) {
  return config.ports[PORT_KEYS[service][0]];
}

/**
 * The environment of one service in the native stack: the keys docker-compose.yml sets for it,
 * with 127.0.0.1 addresses. Exported so a test can compare the keys with compose.
 */
export function serviceEnvironment(service, config) {
  if (!SERVICES.includes(service)) throw new Error(`unknown service ${service}`);
  const common = {
    OTEL_SERVICE_NAME: service,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${config.ports.otlpHttp}`,
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=native',
    KAFKA_BROKERS: `127.0.0.1:${config.ports.kafka}`,
    LOG_LEVEL: 'info',
    PORT: String(servicePort(service, config)),
  };
  switch (service) {
    case 'api-service':
      return { ...common, DATABASE_URL: databaseUrl(config), CLIENT_TRACEPARENT: process.env.CLIENT_TRACEPARENT ?? 'parent' };
    case 'billing-consumer':
      return {
        ...common,
        DATABASE_URL: databaseUrl(config),
        KAFKA_CONSUMER_GROUP: 'billing-consumer',
        BILLING_DELAY_MS: process.env.BILLING_DELAY_MS ?? '0',
      };
    case 'notifier-consumer':
      return { ...common, KAFKA_CONSUMER_GROUP: 'notifier-consumer' };
  }
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
  const [, envVar] = PORT_KEYS[service];
  return {
    name: service,
    describe: (config) => `http://127.0.0.1:${servicePort(service, config)} (ready: ${readyUrl(service, config)})`,
    ports: (config) => [{ port: servicePort(service, config), envVar }],
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
