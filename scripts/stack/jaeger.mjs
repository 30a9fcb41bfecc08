// Jaeger v2 for the native stack, built from its Go module and run with otel/jaeger.yaml, the same
// configuration file docker compose mounts into the Jaeger container, and in the cluster topology
// the overlay otel/jaeger-badger.yaml: traces on disk in .stack/jaeger-badger.

import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { step } from './output.mjs';
import { downloadGoModule, writableCopy } from './go.mjs';
import { logFile, runCommand, startDaemon } from './processes.mjs';
import { prometheusUrl } from './prometheus.mjs';
import { httpJson, httpStatus, waitFor } from './readiness.mjs';

const MODULE = 'github.com/jaegertracing/jaeger';

function jaegerPaths(config) {
  const home = path.join(config.paths.cacheDir, `jaeger-${config.versions.jaegerGoModule}`);
  return {
    home,
    binary: path.join(home, 'jaeger'),
    source: path.join(home, 'src'),
    config: path.join(config.paths.otelDir, 'jaeger.yaml'),
    badger: path.join(config.paths.otelDir, 'jaeger-badger.yaml'),
    badgerData: path.join(config.paths.stateDir, 'jaeger-badger'),
  };
}

/** `--config` arguments: jaeger.yaml, and the Badger overlay in a cluster. */
function configArguments(config) {
  const paths = jaegerPaths(config);
  const files = config.topology === 'cluster' ? [paths.config, paths.badger] : [paths.config];
  return files.flatMap((file) => ['--config', file]);
}

export function jaegerBinaryPresent(config) {
  return existsSync(jaegerPaths(config).binary);
}

/**
 * Builds <cache>/jaeger-<module version>/jaeger once. `go install module@version` is refused
 * because Jaeger's go.mod has replace directives, so the module is downloaded, copied, and built
 * there as the main module. The binary is written under a temporary name and renamed when complete.
 * Returns its path.
 */
export async function ensureJaegerBinary(config) {
  const paths = jaegerPaths(config);
  if (existsSync(paths.binary)) return paths.binary;
  const version = `v${config.versions.jaegerGoModule}`;
  const log = logFile(config, 'build-jaeger');

  const moduleDir = await step('jaeger', `downloading the Go module ${MODULE}@${version}`, '~5-30 s', () =>
    downloadGoModule(MODULE, config.versions.jaegerGoModule),
  );

  writableCopy(moduleDir, paths.source);

  const temporary = `${paths.binary}.tmp`;
  await step('jaeger', 'compiling Jaeger (./cmd/jaeger)', '~5-12 min on 2 cores', () =>
    runCommand('jaeger', 'go', ['build', '-trimpath', '-ldflags=-s -w', '-o', temporary, './cmd/jaeger'], {
      cwd: paths.source,
      log,
      heartbeat: 'compiling Jaeger',
    }),
  );
  renameSync(temporary, paths.binary);
  rmSync(paths.source, { recursive: true, force: true });
  return paths.binary;
}

/** The endpoints of otel/jaeger.yaml, on 127.0.0.1 and out of the collector's way, and Prometheus. */
export function jaegerEnvironment(config) {
  const { ports } = config;
  return {
    JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.jaegerOtlpGrpc}`,
    JAEGER_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.jaegerOtlpHttp}`,
    JAEGER_QUERY_ENDPOINT: `127.0.0.1:${ports.jaegerUi}`,
    JAEGER_QUERY_GRPC_ENDPOINT: `127.0.0.1:${ports.jaegerQueryGrpc}`,
    JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${ports.jaegerHealth}`,
    PROMETHEUS_URL: prometheusUrl(config),
    JAEGER_UI_CONFIG: path.join(config.paths.otelDir, 'jaeger-ui.json'),
    JAEGER_BADGER_DIR: jaegerPaths(config).badgerData,
  };
}

async function validateConfig(config) {
  const paths = jaegerPaths(config);
  await runCommand('jaeger', paths.binary, ['validate', ...configArguments(config)], {
    cwd: config.paths.root,
    env: { ...process.env, ...jaegerEnvironment(config) },
    log: logFile(config, 'jaeger'),
  });
}

const healthUrl = (config) => `http://127.0.0.1:${config.ports.jaegerHealth}/status`;
export const jaegerUrl = (config) => `http://127.0.0.1:${config.ports.jaegerUi}`;

/** The query API answers JSON, e.g. {"data":["api-service",...]}; that is what users and tests call. */
async function queryApiAnswers(config) {
  const body = await httpJson(`${jaegerUrl(config)}/api/services`);
  return body !== undefined && 'data' in body;
}

export const jaeger = {
  name: 'jaeger',
  describe: (config) =>
    `${jaegerUrl(config)} (API /api/traces/<id>), OTLP gRPC 127.0.0.1:${config.ports.jaegerOtlpGrpc}`,
  ports: (config) => [
    { port: config.ports.jaegerUi, envVar: 'JAEGER_UI_PORT' },
    { port: config.ports.jaegerOtlpGrpc },
    { port: config.ports.jaegerOtlpHttp },
    { port: config.ports.jaegerQueryGrpc },
    { port: config.ports.jaegerHealth },
  ],
  // The config path identifies it (not the binary path, which moves with STACK_CACHE_DIR).
  processSignature: (config) => ({ argv: [`--config ${jaegerPaths(config).config}`] }),
  expectedStart: '~2 s',

  async start(config) {
    await validateConfig(config);
    const paths = jaegerPaths(config);
    return startDaemon(config, 'jaeger', {
      command: paths.binary,
      args: configArguments(config),
      cwd: config.paths.root,
      env: { ...process.env, ...jaegerEnvironment(config) },
    });
  },

  async waitReady(config, pid) {
    const options = { timeoutMs: 60_000, pid, logFile: logFile(config, 'jaeger') };
    await waitFor('jaeger', `its health check ${healthUrl(config)} to answer 200`, async () => (await httpStatus(healthUrl(config))) === 200, options);
    await waitFor('jaeger', `${jaegerUrl(config)}/api/services to answer JSON`, () => queryApiAnswers(config), options);
  },

  isHealthy: queryApiAnswers,
};
