// Configuration of the native stack: versions, ports and credentials come from the checkout's .env
// (the same file docker compose reads), so the two ways of running the demo cannot drift apart.
// A variable set in the environment wins over .env, as it does for compose.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';

/** Root of the checkout (scripts/stack/ is two levels below it). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * The Kafka topics of the demo, created before the services start: each topic and its dead-letter
 * topic (`.DLT`), where a consumer puts the messages it cannot process. docker compose's topic-init
 * container must create the same names with the same partition count. 12 partitions: a consumer
 * handles up to 12 messages at once (`partitionsConsumedConcurrently` in common/src/kafka), and a
 * group can scale out to 12 replicas.
 */
export const KAFKA_TOPICS = Object.freeze(
  ['student', 'student-billing', 'student.DLT', 'student-billing.DLT'].map((name) =>
    Object.freeze({ name, partitions: 12, replicationFactor: 1 }),
  ),
);

/**
 * The NestJS services: the workspaces of the root package.json that have a src/main.ts (the others,
 * `common`, are libraries). This is the one list of services; docker-compose.yml describes how each
 * one runs, and the native stack and the tests take both from there.
 */
export const SERVICES = Object.freeze(serviceWorkspaces(REPO_ROOT));

export function serviceWorkspaces(root) {
  const { workspaces } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return workspaces.filter((workspace) => existsSync(path.join(root, workspace, 'src', 'main.ts')));
}

/**
 * Ports that only exist in the native stack. In compose the collector and Jaeger each have their own
 * network namespace and use the default ports; on one host Jaeger has to move out of the collector's way.
 */
export const NATIVE_PORTS = Object.freeze({
  kafkaController: 9093, // KRaft controller listener, next to the broker's KAFKA_PORT
  collectorHealth: 13133,
  jaegerOtlpGrpc: 14317, // the collector exports here
  jaegerOtlpHttp: 14318,
  jaegerQueryGrpc: 16685,
  jaegerHealth: 13134,
});

/** The variables that move the native-only ports, e.g. to run a second stack beside the first. */
const NATIVE_PORT_VARIABLES = Object.freeze({
  kafkaController: 'KAFKA_CONTROLLER_PORT',
  collectorHealth: 'COLLECTOR_HEALTH_PORT',
  jaegerOtlpGrpc: 'JAEGER_OTLP_GRPC_PORT',
  jaegerOtlpHttp: 'JAEGER_OTLP_HTTP_PORT',
  jaegerQueryGrpc: 'JAEGER_QUERY_GRPC_PORT',
  jaegerHealth: 'JAEGER_HEALTH_PORT',
});

/** Every key the stack reads from .env (or the environment). All are required. */
const REQUIRED_KEYS = [
  'KAFKA_VERSION',
  'OTELCOL_VERSION',
  'JAEGER_GO_MODULE_VERSION',
  'PROMETHEUS_GO_MODULE_VERSION',
  'POSTGRES_VERSION',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'POSTGRES_PORT',
  'KAFKA_PORT',
  'OTLP_GRPC_PORT',
  'OTLP_HTTP_PORT',
  'JAEGER_UI_PORT',
  'METRICS_PORT',
  'PROMETHEUS_PORT',
  'API_PORT',
];

/** An on/off switch from the environment; unset is off. */
function parseSwitch(key, value = 'off') {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new Error(`${key}=${value}: use on or off`);
}

export function parsePort(key, value) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${key}=${value} is not a valid TCP port`);
  }
  return port;
}

/**
 * Loads the stack configuration. Tests import this to compare the native stack with compose.
 * @param {{ env?: NodeJS.ProcessEnv, envFile?: string }} [options]
 */
export function loadStackConfig({ env = process.env, envFile = path.join(REPO_ROOT, '.env') } = {}) {
  const fromFile = dotenv.parse(readFileSync(envFile, 'utf8'));
  const get = (key) => env[key] ?? fromFile[key];

  const missing = REQUIRED_KEYS.filter((key) => !get(key));
  if (missing.length > 0) {
    throw new Error(`missing in ${envFile} (or the environment): ${missing.join(', ')}`);
  }

  const cacheDir = path.resolve(
    env.STACK_CACHE_DIR || path.join(homedir(), '.cache', 'nestjs-kafka-tracing'),
  );
  const stateDir = path.join(REPO_ROOT, '.stack');

  return {
    versions: {
      kafka: get('KAFKA_VERSION'),
      otelcol: get('OTELCOL_VERSION'),
      jaegerGoModule: get('JAEGER_GO_MODULE_VERSION'),
      prometheusGoModule: get('PROMETHEUS_GO_MODULE_VERSION'),
      postgres: get('POSTGRES_VERSION'),
    },
    postgres: {
      user: get('POSTGRES_USER'),
      password: get('POSTGRES_PASSWORD'),
      db: get('POSTGRES_DB'),
    },
    ports: {
      postgres: parsePort('POSTGRES_PORT', get('POSTGRES_PORT')),
      kafka: parsePort('KAFKA_PORT', get('KAFKA_PORT')),
      otlpGrpc: parsePort('OTLP_GRPC_PORT', get('OTLP_GRPC_PORT')),
      otlpHttp: parsePort('OTLP_HTTP_PORT', get('OTLP_HTTP_PORT')),
      jaegerUi: parsePort('JAEGER_UI_PORT', get('JAEGER_UI_PORT')),
      metrics: parsePort('METRICS_PORT', get('METRICS_PORT')),
      prometheus: parsePort('PROMETHEUS_PORT', get('PROMETHEUS_PORT')),
      api: parsePort('API_PORT', get('API_PORT')),
      ...Object.fromEntries(
        Object.entries(NATIVE_PORTS).map(([key, port]) => {
          const variable = NATIVE_PORT_VARIABLES[key];
          return [key, env[variable] ? parsePort(variable, env[variable]) : port];
        }),
      ),
    },
    /** What compose interpolates docker-compose.yml with: .env, and the environment over it. */
    variables: { ...fromFile, ...env },
    // The collector adds otel/collector-tail-sampling.yaml to its configuration.
    tailSampling: parseSwitch('TAIL_SAMPLING', env.TAIL_SAMPLING),
    paths: {
      root: REPO_ROOT,
      cacheDir,
      stateDir,
      logsDir: path.join(stateDir, 'logs'),
      pidsDir: path.join(stateDir, 'pids'),
      otelDir: path.join(REPO_ROOT, 'otel'),
    },
  };
}

/** The DATABASE_URL the services use (password auth over TCP, like in compose). */
export function databaseUrl(config, host = '127.0.0.1') {
  const { user, password, db } = config.postgres;
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `postgres://${credentials}@${host}:${config.ports.postgres}/${encodeURIComponent(db)}`;
}
