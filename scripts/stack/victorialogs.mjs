// VictoriaLogs for the native stack, built from its Go module: the log store the collector sends
// the services' log records to (otel/collector.yaml, `otlp_http/logs`), with the same retention as
// compose (LOGS_RETENTION). It serves its own web UI, vmui, at /select/vmui/.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { installGoBinary } from './go.mjs';
import { logFile, startDaemon } from './processes.mjs';
import { httpStatus, waitFor } from './readiness.mjs';

const MODULE = 'github.com/VictoriaMetrics/VictoriaLogs';

function victoriaLogsPaths(config) {
  const home = path.join(config.paths.cacheDir, `victorialogs-${config.versions.victoriaLogs}`);
  return { binary: path.join(home, 'victoria-logs'), data: path.join(config.paths.stateDir, 'victorialogs') };
}

export function victoriaLogsBinaryPresent(config) {
  return existsSync(victoriaLogsPaths(config).binary);
}

/** Builds <cache>/victorialogs-<version>/victoria-logs once; returns its path. */
export async function ensureVictoriaLogsBinary(config) {
  const paths = victoriaLogsPaths(config);
  if (existsSync(paths.binary)) return paths.binary;
  await installGoBinary(config, 'victorialogs', {
    module: `${MODULE}/app/victoria-logs`,
    version: config.versions.victoriaLogs,
    binary: paths.binary,
    expected: '~1 min on 2 cores',
  });
  return paths.binary;
}

export const victoriaLogsUrl = (config) => `http://127.0.0.1:${config.ports.victoriaLogs}`;
/** Where the collector sends the log records (LOGS_OTLP_ENDPOINT in otel/collector.yaml). */
export const victoriaLogsOtlpEndpoint = (config) => `${victoriaLogsUrl(config)}/insert/opentelemetry/v1/logs`;
const isReady = async (config) => (await httpStatus(`${victoriaLogsUrl(config)}/health`)) === 200;

export const victoriaLogs = {
  name: 'victorialogs',
  describe: (config) => `${victoriaLogsUrl(config)}/select/vmui/ (LogsQL API /select/logsql/query), keeps ${config.logsRetention}`,
  ports: (config) => [{ port: config.ports.victoriaLogs, envVar: 'VICTORIALOGS_PORT' }],
  processSignature: (config) => ({ argv: [`-storageDataPath=${victoriaLogsPaths(config).data}`] }),
  expectedStart: '~1 s',

  async start(config) {
    const paths = victoriaLogsPaths(config);
    return startDaemon(config, 'victorialogs', {
      command: paths.binary,
      args: [
        `-storageDataPath=${paths.data}`,
        `-retentionPeriod=${config.logsRetention}`,
        `-httpListenAddr=127.0.0.1:${config.ports.victoriaLogs}`,
      ],
      cwd: config.paths.root,
    });
  },

  async waitReady(config, pid) {
    await waitFor('victorialogs', `${victoriaLogsUrl(config)}/health to answer 200`, () => isReady(config), {
      timeoutMs: 30_000, pid, logFile: logFile(config, 'victorialogs'),
    });
  },

  isHealthy: isReady,
};
