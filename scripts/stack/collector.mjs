// The OpenTelemetry Collector of the native stack, built from Go modules with the OpenTelemetry
// Collector Builder (otel/collector-builder.yaml) and run with otel/collector.yaml, the same
// configuration file docker compose mounts into the collector container.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { StackError, step } from './output.mjs';
import { logFile, runCommand, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

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
  };
}

/** `--config` arguments: collector.yaml, then the tail sampling overlay when TAIL_SAMPLING=on. */
function configArguments(config) {
  const paths = collectorPaths(config);
  const files = config.tailSampling ? [paths.config, paths.tailSampling] : [paths.config];
  return files.flatMap((file) => ['--config', file]);
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
 * folder; only the finished binary is renamed into place, so an interrupted build is never used.
 */
export async function ensureCollectorBinary(config) {
  const paths = collectorPaths(config);
  if (existsSync(paths.binary)) return;
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
}

/** The endpoints of otel/collector.yaml, moved to 127.0.0.1 and to Jaeger's native OTLP port. */
export function collectorEnvironment(config) {
  const { ports } = config;
  return {
    COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.otlpGrpc}`,
    COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlpHttp}`,
    COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${ports.collectorHealth}`,
    COLLECTOR_PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.metrics}`,
    JAEGER_OTLP_ENDPOINT: `127.0.0.1:${ports.jaegerOtlpGrpc}`,
    KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
    // A shell does not export HOSTNAME; Docker and Kubernetes set it in every container.
    HOSTNAME: hostname(),
  };
}

/** `otelcol validate`: a broken collector.yaml fails here with the collector's own message. */
async function validateConfig(config) {
  const paths = collectorPaths(config);
  await runCommand('collector', paths.binary, ['validate', ...configArguments(config)], {
    cwd: config.paths.root,
    env: { ...process.env, ...collectorEnvironment(config) },
    log: logFile(config, 'collector'),
  });
}

function healthUrl(config) {
  return `http://127.0.0.1:${config.ports.collectorHealth}/`;
}

export const collector = {
  name: 'collector',
  describe: (config) =>
    `OTLP http://127.0.0.1:${config.ports.otlpHttp} (gRPC 127.0.0.1:${config.ports.otlpGrpc}), health ${healthUrl(config)}, ` +
    `span metrics http://127.0.0.1:${config.ports.metrics}/metrics${config.tailSampling ? ', TAIL SAMPLING on' : ''}`,
  ports: (config) => [
    { port: config.ports.otlpGrpc, envVar: 'OTLP_GRPC_PORT' },
    { port: config.ports.otlpHttp, envVar: 'OTLP_HTTP_PORT' },
    { port: config.ports.collectorHealth },
    { port: config.ports.metrics, envVar: 'METRICS_PORT' },
  ],
  // The config path identifies it (not the binary path, which moves with STACK_CACHE_DIR).
  processSignature: (config) => ({ argv: ['otelcol', `--config ${collectorPaths(config).config}`] }),
  expectedStart: '~1 s',

  async start(config) {
    await validateConfig(config);
    return startDaemon(config, 'collector', {
      command: collectorPaths(config).binary,
      args: configArguments(config),
      cwd: config.paths.root,
      env: { ...process.env, ...collectorEnvironment(config) },
    });
  },

  async waitReady(config, pid) {
    await waitFor('collector', `its health check ${healthUrl(config)} to answer 200`, async () => (await httpStatus(healthUrl(config))) === 200, {
      timeoutMs: 30_000, pid, logFile: logFile(config, 'collector'),
    });
  },

  isHealthy: async (config) => (await httpStatus(healthUrl(config))) === 200,
};
