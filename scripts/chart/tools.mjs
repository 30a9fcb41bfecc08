// What checks the Helm chart (chart/) on a machine without a cluster, each fetched once into the
// stack's cache (~/.cache/nestjs-kafka-tracing, or STACK_CACHE_DIR) from package registries, like the
// native stack's programs: Helm, built from its Go module; the Kubernetes OpenAPI spec, which the
// k8s.io/kubernetes Go module carries; the CRDs of KEDA, CloudNativePG and the OpenTelemetry
// Operator, from their Go modules; Strimzi's CRDs, generated from its Java API model (Maven Central)
// by Strimzi's own generator, the way its build writes them. Versions come from .env.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadStackConfig } from '../stack/config.mjs';
import { downloadGoModule, installGoBinary } from '../stack/go.mjs';
import { StackError, step } from '../stack/output.mjs';
import { logFile, runCommand } from '../stack/processes.mjs';

export const CHART_DIR = path.resolve(import.meta.dirname, '..', '..', 'chart');

const VERSION_KEYS = {
  helm: 'HELM_VERSION',
  kubernetes: 'KUBERNETES_VERSION',
  strimzi: 'STRIMZI_VERSION',
  cloudnativePg: 'CLOUDNATIVE_PG_VERSION',
  otelOperator: 'OTEL_OPERATOR_VERSION',
  keda: 'KEDA_VERSION',
};

/** The stack's configuration (cache folder, logs) and the chart tools' versions from .env. */
export function chartToolsConfig(options) {
  const config = loadStackConfig(options);
  const missing = Object.values(VERSION_KEYS).filter((key) => !config.variables[key]);
  if (missing.length > 0) throw new Error(`missing in .env (or the environment): ${missing.join(', ')}`);
  const versions = Object.fromEntries(Object.entries(VERSION_KEYS).map(([name, key]) => [name, config.variables[key]]));
  return { ...config, chartVersions: versions };
}

/** <cache>/helm-<version>/helm, built once from helm.sh/helm/v<major>. */
export async function ensureHelm(config) {
  const version = config.chartVersions.helm;
  const binary = path.join(config.paths.cacheDir, `helm-${version}`, 'helm');
  if (!existsSync(binary)) {
    await installGoBinary(config, 'helm', {
      module: `helm.sh/helm/v${version.split('.')[0]}/cmd/helm`,
      version,
      binary,
      expected: '~2-4 min on 2 cores',
    });
  }
  return binary;
}

/** The operators' CRDs in their Go modules, and the file of each CRD the chart uses. */
const GO_MODULE_CRDS = [
  { module: 'github.com/kedacore/keda/v2', version: 'keda', files: ['config/crd/bases/keda.sh_scaledobjects.yaml'] },
  { module: 'github.com/cloudnative-pg/cloudnative-pg', version: 'cloudnativePg', files: ['config/crd/bases/postgresql.cnpg.io_clusters.yaml'] },
  {
    module: 'github.com/open-telemetry/opentelemetry-operator',
    version: 'otelOperator',
    files: ['config/crd/bases/opentelemetry.io_opentelemetrycollectors.yaml'],
  },
];

/** The Strimzi custom resources the chart uses, by the API class Strimzi generates each CRD from. */
const STRIMZI_CRDS = {
  Kafka: 'io.strimzi.api.kafka.model.kafka.Kafka',
  KafkaNodePool: 'io.strimzi.api.kafka.model.nodepool.KafkaNodePool',
  KafkaTopic: 'io.strimzi.api.kafka.model.topic.KafkaTopic',
};

/** `java -version` writes stderr, which execFileSync returns only on failure: ask with 2>&1. */
function javaVersion(java) {
  try {
    return Number(/version "(\d+)/.exec(execFileSync('sh', ['-c', '"$0" -version 2>&1', java], { encoding: 'utf8' }))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Strimzi's generator is compiled for Java 21. The stack itself needs 17, so a newer one is looked
 * for: JAVA_HOME, the java on PATH, then the JDKs installed side by side in /usr/lib/jvm.
 */
function java21() {
  const jvms = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').map((name) => path.join('/usr/lib/jvm', name, 'bin', 'java')) : [];
  const candidates = [process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', 'java'), 'java', ...jvms].filter(Boolean);
  const found = candidates.find((java) => javaVersion(java) >= 21);
  if (!found) {
    throw new StackError('chart', `Strimzi's CRD generator needs Java 21 or newer; none found (tried ${candidates.join(', ')})`, {
      hint: 'install a JDK 21+ (e.g. `apt-get install -y openjdk-21-jdk-headless`) or point JAVA_HOME at one',
    });
  }
  return found;
}

/** <cache>/strimzi-crds-<version>/<Kind>.yaml, generated once. */
async function ensureStrimziCrds(config) {
  const version = config.chartVersions.strimzi;
  const home = path.join(config.paths.cacheDir, `strimzi-crds-${version}`);
  const files = Object.keys(STRIMZI_CRDS).map((kind) => path.join(home, `${kind}.yaml`));
  if (existsSync(home)) return files;
  const temporary = `${home}.tmp-${process.pid}`;
  const lib = path.join(temporary, 'lib');
  const log = logFile(config, 'build-chart-schemas');
  rmSync(temporary, { recursive: true, force: true });
  await step('chart', `generating Strimzi ${version}'s CRDs from its API model (Maven Central)`, '~15 s', async () => {
    await runCommand('chart', 'mvn', [
      '--batch-mode', '--quiet',
      '-f', path.join(import.meta.dirname, 'strimzi-crds-pom.xml'),
      `-Dstrimzi.version=${version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${lib}`,
    ], { cwd: config.paths.root, log });
    // The same generator options as Strimzi's build of its installation files (io.strimzi:api's pom).
    await runCommand('chart', java21(), [
      '-cp', `${lib}/*`,
      'io.strimzi.crdgenerator.CrdGenerator',
      '--crd-api-version', 'v1', '--api-versions', 'v1', '--storage-version', 'v1',
      '--yaml',
      ...Object.entries(STRIMZI_CRDS).map(([kind, className]) => `${className}=${path.join(temporary, `${kind}.yaml`)}`),
    ], { cwd: temporary, log });
  });
  rmSync(lib, { recursive: true, force: true });
  renameSync(temporary, home);
  return files;
}

/**
 * Where the schemas are: the folder of the Kubernetes OpenAPI v3 spec (one JSON file per API
 * group version) and the CRD files of the operators.
 */
export async function ensureSchemaSources(config) {
  const versions = config.chartVersions;
  const kubernetes = await step('chart', `downloading the Go module k8s.io/kubernetes@v${versions.kubernetes} (its OpenAPI spec)`, '~20-60 s the first time', () =>
    downloadGoModule('k8s.io/kubernetes', versions.kubernetes),
  );
  const crdFiles = [];
  for (const { module, version, files } of GO_MODULE_CRDS) {
    const dir = await downloadGoModule(module, versions[version]);
    crdFiles.push(...files.map((file) => path.join(dir, file)));
  }
  crdFiles.push(...(await ensureStrimziCrds(config)));
  return { kubernetesSpecDir: path.join(kubernetes, 'api', 'openapi-spec', 'v3'), crdFiles };
}

// `node scripts/chart/tools.mjs` builds Helm only: CI does it at low priority beside the native tests.
if (import.meta.main) await ensureHelm(chartToolsConfig());
