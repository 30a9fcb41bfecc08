// The OpenTelemetry Java agent on each Kafka node of the native stack: it reads the broker's own
// metrics from JMX (the agent's kafka-broker rules, and otel/kafka-broker-jmx.yaml for what they
// lack) and exports them over OTLP to the collector, beside the services' metrics. The jar comes
// from Maven Central as Kafka's do; its settings are those of the broker's compose block, so the
// two ways of running the demo export the same metrics under the same names.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { environmentOf, readComposeFiles } from './compose.mjs';
import { StackError, step } from './output.mjs';
import { logFile, runCommand } from './processes.mjs';
import { nativeAddresses, onHost } from './services.mjs';

const POM = path.join(import.meta.dirname, 'kafka-pom.xml');
const ARTIFACT = 'io.opentelemetry.javaagent:opentelemetry-javaagent';

export function brokerAgentPath(config) {
  return path.join(config.paths.cacheDir, `opentelemetry-javaagent-${config.versions.otelJavaagent}`, 'opentelemetry-javaagent.jar');
}

/** The jar's SHA-256 must be .env's OTEL_JAVAAGENT_SHA256, the one compose's build checks too. */
function assertChecksum(config, jar) {
  const actual = createHash('sha256').update(readFileSync(jar)).digest('hex');
  if (actual !== config.versions.otelJavaagentSha256) {
    throw new StackError('kafka', `${jar}: SHA-256 ${actual}, but .env's OTEL_JAVAAGENT_SHA256 is ${config.versions.otelJavaagentSha256}`, {
      hint: 'a new OTEL_JAVAAGENT_VERSION needs its checksum too (Maven Central serves <jar>.sha256)',
    });
  }
}

/**
 * Copies the agent jar into <cache>/opentelemetry-javaagent-<version>/, through a temporary folder
 * renamed once the checksum holds. kafka-pom.xml pins the dependency plugin that does it.
 */
export async function ensureBrokerAgent(config) {
  const jar = brokerAgentPath(config);
  if (existsSync(jar)) return jar;
  const folder = path.dirname(jar);
  const temporary = `${folder}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  await step('kafka', `downloading the OpenTelemetry Java agent ${config.versions.otelJavaagent} from Maven Central`, '~10 s', () =>
    runCommand('kafka', 'mvn', [
      '--batch-mode',
      '--quiet',
      '-f', POM,
      'dependency:copy',
      `-Dartifact=${ARTIFACT}:${config.versions.otelJavaagent}`,
      `-DoutputDirectory=${temporary}`,
      '-Dmdep.stripVersion=true',
    ], { cwd: config.paths.root, log: logFile(config, 'build-kafka'), heartbeat: 'downloading the agent' }),
  );
  assertChecksum(config, path.join(temporary, path.basename(jar)));
  rmSync(folder, { recursive: true, force: true });
  renameSync(temporary, folder);
  return jar;
}

/** Where a file mounted into the container (`./otel/x.yaml:/etc/otel/x.yaml:ro`) is on the host. */
function mountedFiles(config, block) {
  return Object.fromEntries((block.volumes ?? [])
    .map((volume) => String(volume).split(':'))
    .filter(([source]) => source.startsWith('./'))
    .map(([source, target]) => [target, path.join(config.paths.root, source)]));
}

/**
 * The agent's OTEL_* variables for a Kafka node (`kafka`, `kafka-2`...), from its compose block (the
 * cluster overlay merged in, in that topology): container addresses moved to the host as for the
 * services (nativeAddresses), the mounted rules file too, `deployment.environment.name=native`.
 */
export function brokerAgentEnvironment(config, name) {
  const { compose } = readComposeFiles(config.paths.root, config.variables, config.composeFiles);
  const block = compose.services[name];
  if (!block) throw new StackError(name, `${config.composeFiles.join(' + ')} has no service ${name}`);
  const files = mountedFiles(config, block);
  const addresses = nativeAddresses(config);
  const environment = Object.fromEntries(Object.entries(environmentOf(block))
    .filter(([key]) => key.startsWith('OTEL_'))
    .map(([key, value]) => [key, files[value] ?? onHost(value, addresses)]));
  const missing = ['OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_RESOURCE_ATTRIBUTES'].filter((key) => !environment[key]);
  if (missing.length > 0) {
    throw new StackError(name, `docker-compose.yml: ${name} sets no ${missing.join(', ')}: the broker's agent is configured in its block`);
  }
  return {
    ...environment,
    OTEL_RESOURCE_ATTRIBUTES: environment.OTEL_RESOURCE_ATTRIBUTES.replace('deployment.environment.name=compose', 'deployment.environment.name=native'),
  };
}
