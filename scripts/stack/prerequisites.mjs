// Checks the tools the stack needs before anything starts, and names every missing one with the
// way to install it. Build tools (mvn, go) are only required while their output is not cached yet.

import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { brokerAgentPath } from './broker-agent.mjs';
import { StackError } from './output.mjs';
import { collectorBinaryPresent } from './collector.mjs';
import { jaegerBinaryPresent } from './jaeger.mjs';
import { kafkaJarsPresent } from './kafka.mjs';
import { findPostgresBinaries } from './postgres.mjs';
import { prometheusBinaryPresent } from './prometheus.mjs';
import { victoriaLogsBinaryPresent } from './victorialogs.mjs';

const MINIMUM_NODE_MAJOR = 24;

/** The first executable called `name` on PATH, or undefined. */
export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MINIMUM_NODE_MAJOR) return undefined;
  return `Node ${MINIMUM_NODE_MAJOR} or newer (this is ${process.version}; the services run on the same Node): ` +
    '`npm install --prefix ~/.cache/nestjs-kafka-tracing/node node@24`, then put ' +
    '~/.cache/nestjs-kafka-tracing/node/node_modules/.bin first on PATH';
}

function checkCommand(name, why, install) {
  return findOnPath(name) ? undefined : `\`${name}\` (${why}): ${install}`;
}

function checkPostgres(config) {
  try {
    findPostgresBinaries(config);
    return undefined;
  } catch (error) {
    return `${error.message} Fix: ${error.hint}`;
  }
}

/** Throws one error listing every missing prerequisite, or returns quietly. */
export function checkPrerequisites(config) {
  const problems = [
    checkNode(),
    checkCommand('java', 'runs Kafka', '`apt-get install -y openjdk-17-jre-headless` (Java 17 or newer)'),
    kafkaJarsPresent(config) && existsSync(brokerAgentPath(config))
      ? undefined
      : checkCommand('mvn', 'downloads the Kafka jars and the brokers\' OpenTelemetry agent once', '`apt-get install -y maven`'),
    collectorBinaryPresent(config) && jaegerBinaryPresent(config) && prometheusBinaryPresent(config) && victoriaLogsBinaryPresent(config)
      ? undefined
      : checkCommand('go', 'builds the collector, Jaeger, Prometheus and VictoriaLogs once',
        'Go 1.26.7 or newer (the Prometheus module asks for it): `apt-get install -y golang` where the distribution ships it (Debian 12 has 1.19: too old), ' +
        'otherwise the tarball from https://go.dev/dl/'),
    checkPostgres(config),
  ].filter(Boolean);

  if (problems.length > 0) {
    throw new StackError('prerequisites', `missing:\n  - ${problems.join('\n  - ')}`);
  }
}
