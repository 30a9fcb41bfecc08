// The OpenTelemetry Collector of the native stack, built from Go modules with the OpenTelemetry
// Collector Builder (otel/collector-builder.yaml) and run with otel/collector.yaml, the same
// configuration file docker compose mounts into the collector container. In the cluster topology
// the same binary runs three times: `collector`, the agent (otel/collector-agent.yaml), and the
// gateways `collector-gateway-1` and `-2` (otel/collector-tail-sampling.yaml and
// otel/collector-gateway.yaml), with the same overlays docker-compose.cluster.yml mounts.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { StackError, step } from './output.mjs';
import { logFile, runCommand, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';
import { victoriaLogsOtlpEndpoint } from './victorialogs.mjs';

function collectorPaths(config) {
  const home = path.join(config.paths.cacheDir, `otelcol-${config.versions.otelcol}`);
  const manifest = path.join(config.paths.otelDir, 'collector-builder.yaml');
  // Keyed by the manifest's content: adding a component builds a new binary instead of reusing
  // one that lacks it.
  const manifestHash = createHash('sha256').update(readFileSync(manifest)).digest('hex').slice(0, 12);
  return {
    home,
    binary: path.join(home, `otelcol-${manifestHash}`),
    builderBin: path.join(home, 'builder-bin'),
    // Per build: two checkouts may build at once.
    work: path.join(home, `work-${process.pid}`),
    manifest,
    config: path.join(config.paths.otelDir, 'collector.yaml'),
    tailSampling: path.join(config.paths.otelDir, 'collector-tail-sampling.yaml'),
    agent: path.join(config.paths.otelDir, 'collector-agent.yaml'),
    gateway: path.join(config.paths.otelDir, 'collector-gateway.yaml'),
  };
}

/**
 * `--config` arguments: collector.yaml, then the overlays: the agent's in a cluster, else the tail
 * sampling one when TAIL_SAMPLING=on; a gateway's are tail sampling and its own.
 */
function configArguments(config, gateway) {
  const paths = collectorPaths(config);
  let overlays = config.tailSampling ? [paths.tailSampling] : [];
  if (config.topology === 'cluster') overlays = [paths.agent];
  if (gateway) overlays = [paths.tailSampling, paths.gateway];
  return [paths.config, ...overlays].flatMap((file) => ['--config', file]);
}

export function collectorBinaryPresent(config) {
  return existsSync(collectorPaths(config).binary);
}

/**
 * The builder manifest pins its own versions (YAML has no variables); refuse to build if the
 * collector's own modules differ from OTELCOL_VERSION, rather than cache a binary under the wrong
 * version. A contrib component may be held at an older release (the manifest says why), never a newer one.
 */
function assertManifestMatchesVersion(config, manifest) {
  const wanted = config.versions.otelcol;
  const text = readFileSync(manifest, 'utf8');
  const distVersion = /^\s*version:\s*(\S+)/m.exec(text)?.[1];
  // Components are released as v0.<minor>.x, in step with the collector; providers are v1.x.
  const components = [...text.matchAll(/gomod:\s*(\S+)\s+v(0\.\d+\.\d+)/g)].map(([, module, version]) => ({ module, version }));
  const minor = (version) => Number(version.split('.')[1]);
  const wrong = [
    ...(distVersion === wanted ? [] : [`dist ${distVersion}`]),
    ...components
      .filter(({ module, version }) => (module.includes('/opentelemetry-collector-contrib/') ? minor(version) > minor(wanted) : version !== wanted))
      .map(({ module, version }) => `${module} v${version}`),
  ];
  if (wrong.length > 0) {
    throw new StackError('collector', `${manifest} pins ${wrong.join(', ')} but OTELCOL_VERSION is ${wanted}`, {
      hint: 'update the versions in otel/collector-builder.yaml together with OTELCOL_VERSION in .env',
    });
  }
}

/**
 * Builds <cache>/otelcol-<version>/otelcol-<manifest hash> once. The builder generates and compiles in a work
 * folder; only the finished binary is renamed into place, so an interrupted build is never used. Returns its path.
 */
export async function ensureCollectorBinary(config) {
  const paths = collectorPaths(config);
  if (existsSync(paths.binary)) return paths.binary;
  assertManifestMatchesVersion(config, paths.manifest);
  const log = logFile(config, 'build-collector');

  await step('collector', `installing the collector builder v${config.versions.otelcol}`, '~15-30 s', () =>
    runCommand('collector', 'go', ['install', `go.opentelemetry.io/collector/cmd/builder@v${config.versions.otelcol}`], {
      cwd: config.paths.cacheDir,
      env: { ...process.env, GOBIN: paths.builderBin },
      log,
      heartbeat: 'installing the collector builder',
    }),
  );

  rmSync(paths.work, { recursive: true, force: true });
  mkdirSync(paths.work, { recursive: true });
  await step('collector', 'generating and compiling the collector', '~2-7 min on 2 cores', () =>
    // The manifest's output_path (./build) is relative to this working directory: the cache.
    runCommand('collector', path.join(paths.builderBin, 'builder'), ['--config', paths.manifest, '--ldflags=-s -w'], {
      cwd: paths.work,
      log,
      heartbeat: 'building the collector',
    }),
  );
  renameSync(path.join(paths.work, 'build', 'otelcol'), paths.binary);
  rmSync(paths.work, { recursive: true, force: true });
  return paths.binary;
}

/**
 * The endpoints of otel/collector.yaml, moved to 127.0.0.1 and to Jaeger's native OTLP port; in a
 * cluster, where the agent finds its gateways.
 */
export function collectorEnvironment(config) {
  const { ports } = config;
  return {
    COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.otlpGrpc}`,
    COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlpHttp}`,
    COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${ports.collectorHealth}`,
    COLLECTOR_PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.metrics}`,
    JAEGER_OTLP_ENDPOINT: `127.0.0.1:${ports.jaegerOtlpGrpc}`,
    LOGS_OTLP_ENDPOINT: victoriaLogsOtlpEndpoint(config),
    KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
    ...Object.fromEntries(config.cluster.gateways.map((gateway) => [`GATEWAY_${gateway.number}_ENDPOINT`, `127.0.0.1:${gateway.otlpGrpc}`])),
    // A shell does not export HOSTNAME; Docker and Kubernetes set it in every container.
    HOSTNAME: hostname(),
  };
}

/** A gateway's endpoints, its name (app.collector.gateway) and its queue directory. */
export function gatewayEnvironment(config, gateway) {
  return {
    ...collectorEnvironment(config),
    COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${gateway.otlpGrpc}`,
    COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${gateway.otlpHttp}`,
    COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${gateway.health}`,
    GATEWAY_NAME: `gateway-${gateway.number}`,
    GATEWAY_METRICS_ENDPOINT: `127.0.0.1:${config.ports.otlpGrpc}`,
    COLLECTOR_QUEUE_DIR: path.join(config.paths.stateDir, `collector-gateway-${gateway.number}`, 'queue'),
  };
}

/**
 * One collector process: `collector` (the only one, or the cluster's agent) or, given its number,
 * a gateway of the cluster.
 */
function collectorComponent(number) {
  const name = number ? `collector-gateway-${number}` : 'collector';
  const gatewayOf = (config) => config.cluster.gateways.find((gateway) => gateway.number === number);
  const environment = (config) => (number ? gatewayEnvironment(config, gatewayOf(config)) : collectorEnvironment(config));
  const healthUrl = (config) => `http://127.0.0.1:${number ? gatewayOf(config).health : config.ports.collectorHealth}/`;

  /** `otelcol validate`: a broken configuration fails here with the collector's own message. */
  const validateConfig = (config) =>
    runCommand(name, collectorPaths(config).binary, ['validate', ...configArguments(config, number)], {
      cwd: config.paths.root,
      env: { ...process.env, ...environment(config) },
      log: logFile(config, name),
    });

  return {
    name,
    number,
    describe: (config) => {
      if (number) {
        return `gateway: OTLP gRPC 127.0.0.1:${gatewayOf(config).otlpGrpc}, health ${healthUrl(config)}, tail sampling, span metrics`;
      }
      const role = config.topology === 'cluster' ? ', agent: routes traces to the gateways by trace id' : '';
      return `OTLP http://127.0.0.1:${config.ports.otlpHttp} (gRPC 127.0.0.1:${config.ports.otlpGrpc}), health ${healthUrl(config)}, ` +
        `span metrics http://127.0.0.1:${config.ports.metrics}/metrics${config.tailSampling && !role ? ', TAIL SAMPLING on' : ''}${role}`;
    },
    ports: (config) => (number
      ? [{ port: gatewayOf(config).otlpGrpc, envVar: `GATEWAY_${number}_OTLP_GRPC_PORT` }, { port: gatewayOf(config).otlpHttp, envVar: `GATEWAY_${number}_OTLP_HTTP_PORT` }, { port: gatewayOf(config).health, envVar: `GATEWAY_${number}_HEALTH_PORT` }]
      : [
        { port: config.ports.otlpGrpc, envVar: 'OTLP_GRPC_PORT' },
        { port: config.ports.otlpHttp, envVar: 'OTLP_HTTP_PORT' },
        { port: config.ports.collectorHealth },
        { port: config.ports.metrics, envVar: 'METRICS_PORT' },
      ]),
    // The config paths identify it (not the binary path, which moves with STACK_CACHE_DIR); the pid
    // file tells the two gateways apart.
    processSignature: (config) => ({ argv: ['otelcol', `--config ${number ? collectorPaths(config).gateway : collectorPaths(config).config}`] }),
    expectedStart: '~1 s',

    async start(config) {
      await validateConfig(config);
      return startDaemon(config, name, {
        command: collectorPaths(config).binary,
        args: configArguments(config, number),
        cwd: config.paths.root,
        env: { ...process.env, ...environment(config) },
      });
    },

    async waitReady(config, pid) {
      await waitFor(name, `its health check ${healthUrl(config)} to answer 200`, async () => (await httpStatus(healthUrl(config))) === 200, {
        timeoutMs: 30_000, pid, logFile: logFile(config, name),
      });
    },

    isHealthy: async (config) => (await httpStatus(healthUrl(config))) === 200,
  };
}

export const collector = collectorComponent(undefined);
/** The gateways any topology may run; `gateways(config)` are the ones this one does. */
const allGateways = [1, 2].map(collectorComponent);
export const gateways = (config) => allGateways.filter((gateway) => gateway.number <= config.cluster.gateways.length);
