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
 * Where a consumer of `topic` puts the messages it cannot process: the rule of `deadLetterTopic` in
 * common/src/kafka/dead-letters.ts (test/topics.test.mjs holds the two equal).
 */
export const deadLetterTopic = (topic) => `${topic}-dlt`;

/**
 * The topics a KAFKA_TOPICS value names, e.g. `student student-billing`. Letters, digits and '-'
 * only: Kafka warns about a name with '.' or '_' (they can collide in its metric names), and the
 * dead-letter topic adds a '-'.
 */
export function eventTopics(value = '') {
  const names = value.split(/\s+/).filter(Boolean);
  if (names.length === 0) throw new Error('KAFKA_TOPICS is empty: .env names the topics of the demo');
  const invalid = names.filter((name) => !/^[A-Za-z0-9-]+$/.test(name));
  if (invalid.length > 0) throw new Error(`KAFKA_TOPICS: ${invalid.join(', ')}: use letters, digits and '-' only`);
  return names;
}

/**
 * What is created before the services start: each topic and its dead-letter topic. 12 partitions:
 * a consumer handles up to 12 messages at once (`partitionsConsumedConcurrently` in common/src/kafka),
 * and a group can scale out to 12 replicas. The stack's: `config.topics`.
 */
export function kafkaTopics(events) {
  const names = events.flatMap((name) => [name, deadLetterTopic(name)]);
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) throw new Error(`KAFKA_TOPICS: ${repeated.join(', ')} named twice`);
  return names.map((name) => Object.freeze({ name, partitions: 12 }));
}

/**
 * The topics of the demo: KAFKA_TOPICS from the environment, or else from .env (the one list: compose's
 * kafka-init reads it too, and the chart's copy is checked against it). For the scripts that run
 * without the stack's configuration: the compose tools image has no .env, and compose gives it
 * KAFKA_TOPICS. The stack has them as `config.topics`.
 */
export function demoEventTopics(env = process.env) {
  const envFile = path.join(REPO_ROOT, '.env');
  if (env.KAFKA_TOPICS === undefined && !existsSync(envFile)) throw new Error('KAFKA_TOPICS is not set, and there is no .env to read it from');
  return eventTopics(env.KAFKA_TOPICS ?? dotenv.parse(readFileSync(envFile, 'utf8')).KAFKA_TOPICS);
}

/**
 * How `STACK_TOPOLOGY=cluster` differs from the single-node stack: docker-compose.cluster.yml is
 * merged over docker-compose.yml (three brokers, consumer replicas, an agent collector that routes
 * to two gateways); topics keep three copies and refuse a write that fewer than two brokers hold.
 */
export const CLUSTER = Object.freeze({
  composeOverlay: 'docker-compose.cluster.yml',
  brokers: 3,
  gateways: 2,
  replicationFactor: 3,
  minInsyncReplicas: 2,
});

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

/**
 * Native-only ports of what only the cluster topology runs, out of the way of the single-node
 * defaults: the controllers of brokers 2 and 3 (their client ports, KAFKA_2_PORT and KAFKA_3_PORT,
 * are in .env, compose publishes them), the gateway collectors, and the consumers' replicas, which
 * listen on their service's port + REPLICA_PORT_OFFSET x (replica - 1).
 */
export const CLUSTER_PORTS = Object.freeze({
  KAFKA_2_CONTROLLER_PORT: 9095,
  KAFKA_3_CONTROLLER_PORT: 9097,
  GATEWAY_1_OTLP_GRPC_PORT: 4417,
  GATEWAY_1_OTLP_HTTP_PORT: 4418,
  GATEWAY_1_HEALTH_PORT: 13135,
  GATEWAY_2_OTLP_GRPC_PORT: 4427,
  GATEWAY_2_OTLP_HTTP_PORT: 4428,
  GATEWAY_2_HEALTH_PORT: 13136,
  REPLICA_PORT_OFFSET: 50,
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
  'OTEL_JAVAAGENT_VERSION',
  'OTEL_JAVAAGENT_SHA256',
  'OTELCOL_VERSION',
  'JAEGER_GO_MODULE_VERSION',
  'PROMETHEUS_GO_MODULE_VERSION',
  'VICTORIALOGS_VERSION',
  'LOGS_RETENTION',
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
  'VICTORIALOGS_PORT',
  'API_PORT',
  'KAFKA_2_PORT',
  'KAFKA_3_PORT',
];

/** The topology from STACK_TOPOLOGY: `single` (the default) or `cluster`. */
function parseTopology(value = 'single') {
  if (value === 'single' || value === 'cluster') return value;
  throw new Error(`STACK_TOPOLOGY=${value}: use single or cluster`);
}

/** The cluster's ports, each from its variable (.env or the environment) or its default. */
function clusterPorts(get, ports) {
  const port = (variable) => (get(variable) ? parsePort(variable, get(variable)) : CLUSTER_PORTS[variable]);
  const brokers = [{ node: 1, port: ports.kafka, controller: ports.kafkaController, envVar: 'KAFKA_PORT' }];
  for (let node = 2; node <= CLUSTER.brokers; node += 1) {
    brokers.push({ node, port: port(`KAFKA_${node}_PORT`), controller: port(`KAFKA_${node}_CONTROLLER_PORT`), envVar: `KAFKA_${node}_PORT` });
  }
  const gateways = Array.from({ length: CLUSTER.gateways }, (_, index) => ({
    number: index + 1,
    otlpGrpc: port(`GATEWAY_${index + 1}_OTLP_GRPC_PORT`),
    otlpHttp: port(`GATEWAY_${index + 1}_OTLP_HTTP_PORT`),
    health: port(`GATEWAY_${index + 1}_HEALTH_PORT`),
  }));
  const replicaPortOffset = port('REPLICA_PORT_OFFSET');
  return { brokers, gateways, replicaPortOffset };
}

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

  const topology = parseTopology(env.STACK_TOPOLOGY);
  const cacheDir = path.resolve(
    env.STACK_CACHE_DIR || path.join(homedir(), '.cache', 'nestjs-kafka-tracing'),
  );
  const stateDir = path.join(REPO_ROOT, '.stack');

  const config = {
    topology,
    versions: {
      kafka: get('KAFKA_VERSION'),
      otelJavaagent: get('OTEL_JAVAAGENT_VERSION'),
      otelJavaagentSha256: get('OTEL_JAVAAGENT_SHA256'),
      otelcol: get('OTELCOL_VERSION'),
      jaegerGoModule: get('JAEGER_GO_MODULE_VERSION'),
      prometheusGoModule: get('PROMETHEUS_GO_MODULE_VERSION'),
      victoriaLogs: get('VICTORIALOGS_VERSION'),
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
      victoriaLogs: parsePort('VICTORIALOGS_PORT', get('VICTORIALOGS_PORT')),
      api: parsePort('API_PORT', get('API_PORT')),
      ...Object.fromEntries(
        Object.entries(NATIVE_PORTS).map(([key, port]) => {
          const variable = NATIVE_PORT_VARIABLES[key];
          return [key, env[variable] ? parsePort(variable, env[variable]) : port];
        }),
      ),
    },
    logsRetention: get('LOGS_RETENTION'),
    /** What compose interpolates docker-compose.yml with: .env, and the environment over it. */
    variables: { ...fromFile, ...env },
    // The collector adds otel/collector-tail-sampling.yaml to its configuration (the cluster's
    // gateways always do).
    tailSampling: parseSwitch('TAIL_SAMPLING', env.TAIL_SAMPLING),
    // receipt-consumer, the opt-in Go consumer (docs/go-consumer.md), runs too.
    goConsumer: parseSwitch('GO_CONSUMER', env.GO_CONSUMER),
    paths: {
      root: REPO_ROOT,
      cacheDir,
      stateDir,
      logsDir: path.join(stateDir, 'logs'),
      pidsDir: path.join(stateDir, 'pids'),
      otelDir: path.join(REPO_ROOT, 'otel'),
    },
  };
  // One broker, one collector, one replica of each service unless the topology is `cluster`.
  config.cluster = topology === 'cluster'
    ? clusterPorts(get, config.ports)
    : { brokers: [{ node: 1, port: config.ports.kafka, controller: config.ports.kafkaController, envVar: 'KAFKA_PORT' }], gateways: [], replicaPortOffset: 0 };
  config.kafka = topology === 'cluster'
    ? { replicationFactor: CLUSTER.replicationFactor, minInsyncReplicas: CLUSTER.minInsyncReplicas }
    : { replicationFactor: 1, minInsyncReplicas: 1 };
  config.topics = kafkaTopics(eventTopics(get('KAFKA_TOPICS')));
  config.composeFiles = topology === 'cluster' ? ['docker-compose.yml', CLUSTER.composeOverlay] : ['docker-compose.yml'];
  return config;
}

/** The bootstrap list of the stack's brokers, e.g. 127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096. */
export function kafkaBrokers(config) {
  return config.cluster.brokers.map((broker) => `127.0.0.1:${broker.port}`);
}

/** The DATABASE_URL the services use (password auth over TCP, like in compose). */
export function databaseUrl(config, host = '127.0.0.1') {
  const { user, password, db } = config.postgres;
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `postgres://${credentials}@${host}:${config.ports.postgres}/${encodeURIComponent(db)}`;
}
