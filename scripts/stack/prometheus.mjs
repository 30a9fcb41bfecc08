// Prometheus for the native stack, built from its Go module and run with otel/prometheus.yml, the
// same file docker compose mounts into the prometheus container (with the collector's address
// moved to 127.0.0.1). It scrapes the collector's span metrics and answers Jaeger's Monitor tab.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installGoBinary } from './go.mjs';
import { StackError } from './output.mjs';
import { logFile, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

const MODULE = 'github.com/prometheus/prometheus';

/** The scrape target as written in otel/prometheus.yml: the collector's container address. */
const COMPOSE_TARGET = 'otel-collector:8889';

function prometheusPaths(config) {
  const home = path.join(config.paths.cacheDir, `prometheus-${config.versions.prometheusGoModule}`);
  return {
    home,
    binary: path.join(home, 'prometheus'),
    sharedConfig: path.join(config.paths.otelDir, 'prometheus.yml'),
    nativeConfig: path.join(config.paths.stateDir, 'prometheus.yml'),
    data: path.join(config.paths.stateDir, 'prometheus'),
  };
}

export function prometheusBinaryPresent(config) {
  return existsSync(prometheusPaths(config).binary);
}

/**
 * Builds <cache>/prometheus-<module version>/prometheus once. `remove_all_sd` leaves out the
 * cloud service discoveries (AWS, Azure, Kubernetes...): static targets are all the demo needs,
 * and the build takes minutes less.
 */
export async function ensurePrometheusBinary(config) {
  const paths = prometheusPaths(config);
  if (existsSync(paths.binary)) return;
  await installGoBinary(config, 'prometheus', {
    module: `${MODULE}/cmd/prometheus`,
    version: config.versions.prometheusGoModule,
    binary: paths.binary,
    tags: ['remove_all_sd'],
    expected: '~2-5 min on 2 cores',
  });
}

/**
 * otel/prometheus.yml with the collector's native address. Prometheus has no environment
 * placeholders in scrape targets, hence a copy in .stack/ rather than a second hand-written file.
 */
function writeNativeConfig(config) {
  const paths = prometheusPaths(config);
  const shared = readFileSync(paths.sharedConfig, 'utf8');
  if (!shared.includes(`'${COMPOSE_TARGET}'`)) {
    throw new StackError('prometheus', `${paths.sharedConfig} no longer scrapes '${COMPOSE_TARGET}'`, {
      hint: `scripts/stack/prometheus.mjs replaces that target with the native collector address: update both together`,
    });
  }
  writeFileSync(paths.nativeConfig, shared.replaceAll(`'${COMPOSE_TARGET}'`, `'127.0.0.1:${config.ports.metrics}'`));
  return paths.nativeConfig;
}

/** Jaeger's metric backend (PROMETHEUS_URL in otel/jaeger.yaml). */
export const prometheusUrl = (config) => `http://127.0.0.1:${config.ports.prometheus}`;
const readyUrl = (config) => `${prometheusUrl(config)}/-/ready`;
const isReady = async (config) => (await httpStatus(readyUrl(config))) === 200;

export const prometheus = {
  name: 'prometheus',
  describe: (config) => `${prometheusUrl(config)} (PromQL API /api/v1/query), scrapes 127.0.0.1:${config.ports.metrics}`,
  ports: (config) => [{ port: config.ports.prometheus, envVar: 'PROMETHEUS_PORT' }],
  processSignature: (config) => ({ argv: [`--config.file=${prometheusPaths(config).nativeConfig}`] }),
  expectedStart: '~1-2 s',

  async start(config) {
    const paths = prometheusPaths(config);
    const configFile = writeNativeConfig(config);
    return startDaemon(config, 'prometheus', {
      command: paths.binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${paths.data}`,
        `--web.listen-address=127.0.0.1:${config.ports.prometheus}`,
      ],
      cwd: config.paths.root,
    });
  },

  async waitReady(config, pid) {
    await waitFor('prometheus', `${readyUrl(config)} to answer 200`, () => isReady(config), {
      timeoutMs: 30_000, pid, logFile: logFile(config, 'prometheus'),
    });
  },

  isHealthy: isReady,
};
