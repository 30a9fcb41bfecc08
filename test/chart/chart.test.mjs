// The Helm chart (chart/), checked as far as a machine without a cluster can: `helm lint`, `helm
// template` with the default values and with each chart/ci/*-values.yaml, every rendered object
// validated strictly against the Kubernetes API's schemas and the operators' CRD schemas (an
// unknown field or a wrong type fails), and the chart compared with what the rest of the project
// says: .env's topics, the services' compose environment, otel/*.yaml, .env's versions.
// Helm and the schemas are fetched once into the stack's cache (scripts/chart/tools.mjs).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import dotenvParser from 'dotenv';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import { CHART_DIR, chartToolsConfig, ensureHelm, ensureSchemaSources } from '../../scripts/chart/tools.mjs';
import { createValidator, manifestObjects } from '../../scripts/chart/validate.mjs';
import { ensureCollectorBinary } from '../../scripts/stack/collector.mjs';
import { environmentOf, readCompose } from '../../scripts/stack/compose.mjs';
import { SERVICES, eventTopics, kafkaTopics } from '../../scripts/stack/config.mjs';
import { ensureJaegerBinary } from '../../scripts/stack/jaeger.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const dotenv = dotenvParser.parse(readFileSync(path.join(ROOT, '.env'), 'utf8'));
/** What compose and the native stack create: each topic .env names, and its dead-letter topic. */
const TOPICS = kafkaTopics(eventTopics(dotenv.KAFKA_TOPICS));

const config = chartToolsConfig();
const helm = await ensureHelm(config);
const validate = createValidator(await ensureSchemaSources(config));

/** Helm's output; on failure, an error whose message carries Helm's own. */
function runHelm(args) {
  try {
    return execFileSync(helm, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`helm ${args.join(' ')} failed:\n${error.stdout}${error.stderr}`);
  }
}

const render = (chart, valuesArgs = []) => manifestObjects(runHelm(['template', 'demo', chart, '--namespace', 'demo', ...valuesArgs]));

/** Every problem of every object, as `Kind/name: /path: message`. */
const problemsOf = (objects) => objects.flatMap((object) => validate(object).map((problem) => `${object.kind}/${object.metadata?.name}: ${problem}`));

const VARIANTS = [
  { name: 'the default values', args: [] },
  ...readdirSync(path.join(CHART_DIR, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .map((file) => ({ name: `chart/ci/${file}`, args: ['--values', path.join(CHART_DIR, 'ci', file)] })),
];

const defaults = render(CHART_DIR);
const find = (objects, kind, nameSuffix) => objects.find((object) => object.kind === kind && object.metadata.name.endsWith(nameSuffix));
const deploymentOf = (objects, service) => find(objects, 'Deployment', `-${service}`);
const containerOf = (deployment) => deployment.spec.template.spec.containers[0];
const envOf = (container) => Object.fromEntries(container.env.map((entry) => [entry.name, entry.value ?? entry.valueFrom]));

// A copy of the chart to break on purpose, symbolic links followed.
const scratch = mkdtempSync(path.join(tmpdir(), 'chart-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
function brokenChart(name, file, from, to) {
  const copy = path.join(scratch, name);
  cpSync(CHART_DIR, copy, { recursive: true, dereference: true });
  const template = path.join(copy, 'templates', file);
  const text = readFileSync(template, 'utf8');
  assert.ok(text.includes(from), `${file} no longer contains ${from}`);
  writeFileSync(template, text.replace(from, to));
  return copy;
}

describe('the chart renders valid manifests', () => {
  for (const { name, args } of VARIANTS) {
    test(`helm lint --strict passes with ${name}`, () => {
      assert.match(runHelm(['lint', '--strict', CHART_DIR, ...args]), /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    test(`every object rendered with ${name} is valid against the Kubernetes and CRD schemas`, () => {
      const objects = render(CHART_DIR, args);
      assert.deepEqual(problemsOf(objects), []);
      const kinds = new Set(objects.map((object) => `${object.apiVersion}/${object.kind}`));
      for (const kind of ['apps/v1/Deployment', 'apps/v1/StatefulSet', 'v1/Service', 'v1/ConfigMap', 'kafka.strimzi.io/v1/Kafka', 'kafka.strimzi.io/v1/KafkaNodePool',
        'kafka.strimzi.io/v1/KafkaTopic', 'postgresql.cnpg.io/v1/Cluster', 'opentelemetry.io/v1beta1/OpenTelemetryCollector']) {
        assert.ok(kinds.has(kind), `${kind} is rendered`);
      }
    });
  }
});

describe('the checks fail on broken input', () => {
  test('the validator names an unknown field and a wrong type, in a Deployment and in custom resources', () => {
    const deployment = structuredClone(deploymentOf(defaults, 'api-service'));
    deployment.spec.replicas = 'two';
    containerOf(deployment).imagePullPolicyy = 'Always';
    assert.deepEqual(validate(deployment), [
      '/spec/replicas: must be integer',
      '/spec/template/spec/containers/0: unknown field "imagePullPolicyy"',
    ]);

    const scaledObject = structuredClone(find(defaults, 'ScaledObject', '-billing-consumer'));
    scaledObject.spec.maxReplicaCount = '12';
    scaledObject.spec.pollingIntervall = 15;
    assert.deepEqual(validate(scaledObject), ['/spec: unknown field "pollingIntervall"', '/spec/maxReplicaCount: must be integer']);

    const topic = structuredClone(find(defaults, 'KafkaTopic', 'student'));
    topic.spec.partitionss = topic.spec.partitions;
    topic.spec.replicas = '3';
    assert.deepEqual(validate(topic), ['/spec: unknown field "partitionss"', '/spec/replicas: must be integer']);

    // A PersistentVolumeClaim's class is storageClassName: Strimzi's `class` or CloudNativePG's
    // `storageClass` in a volumeClaimTemplate is an unknown field.
    const statefulSet = structuredClone(find(defaults, 'StatefulSet', '-victorialogs'));
    statefulSet.spec.volumeClaimTemplates[0].spec.storageClass = 'fast';
    statefulSet.spec.replicas = '1';
    assert.deepEqual(validate(statefulSet), ['/spec/replicas: must be integer', '/spec/volumeClaimTemplates/0/spec: unknown field "storageClass"']);

    // A custom resource's metadata is checked as an ObjectMeta.
    const cluster = structuredClone(find(defaults, 'Cluster', '-postgres'));
    cluster.metadata.label = {};
    assert.deepEqual(validate(cluster), ['/metadata: unknown field "label"']);

    assert.deepEqual(validate({ apiVersion: 'kafka.strimzi.io/v1beta2', kind: 'Kafka', metadata: { name: 'old' } }), [
      'kafka.strimzi.io/v1beta2/Kafka: no schema for this apiVersion and kind',
    ]);
  });

  test('a misspelled field in a template is caught once rendered', () => {
    const chart = brokenChart('misspelled', 'services.yaml', 'containerPort:', 'containerport:');
    assert.deepEqual(
      problemsOf(render(chart)).filter((problem) => problem.includes('unknown field "containerport"')).length,
      SERVICES.length,
    );
  });

  test('helm lint fails on a template that does not parse', () => {
    const chart = brokenChart('unparsable', 'postgres.yaml', '{{ .Values.postgres.instances }}', '{{ .Values.postgres.instances }');
    assert.throws(() => runHelm(['lint', '--strict', chart]), /postgres\.yaml.*(unexpected|bad character)/s);
  });
});

describe('the chart deploys what the rest of the project describes', () => {
  test('the Kafka topics are .env\'s and their dead-letter topics, each on 3 replicas with min.insync.replicas=2', () => {
    const topics = defaults.filter((object) => object.kind === 'KafkaTopic');
    assert.deepEqual(
      topics.map((topic) => ({ name: topic.spec.topicName, partitions: topic.spec.partitions })),
      TOPICS.map(({ name, partitions }) => ({ name, partitions })),
    );
    for (const topic of topics) {
      assert.equal(topic.spec.replicas, 3);
      assert.equal(topic.spec.config['min.insync.replicas'], 2);
    }
    const kafka = find(defaults, 'Kafka', '');
    assert.equal(kafka.spec.kafka.config['min.insync.replicas'], 2);
    assert.equal(find(defaults, 'KafkaNodePool', '-nodes').spec.replicas, 3);
    assert.deepEqual(find(defaults, 'KafkaNodePool', '-nodes').spec.roles, ['controller', 'broker']);
  });

  test('the brokers serve their own metrics through Strimzi\'s JMX exporter, under the names docs/observability.md lists', () => {
    const kafka = find(defaults, 'Kafka', '');
    const { type, valueFrom } = kafka.spec.kafka.metricsConfig;
    assert.equal(type, 'jmxPrometheusExporter');
    const configMap = find(defaults, 'ConfigMap', `-${valueFrom.configMapKeyRef.name.split('-').at(-1)}`);
    assert.equal(configMap?.metadata.name, valueFrom.configMapKeyRef.name, 'the ConfigMap the Kafka names');
    const { rules } = parseYaml(configMap.data[valueFrom.configMapKeyRef.key]);
    // The JMX exporter appends _total to a COUNTER, as the collector's Prometheus exporter does.
    const served = new Set(rules.map((rule) => (rule.type === 'COUNTER' ? `${rule.name}_total` : rule.name)));
    const section = readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8').split(/^## /m).find((part) => part.startsWith('The brokers\' own metrics'));
    const table = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| what'));
    const documented = table.flatMap((line) => [...line.split('|')[2].matchAll(/`([a-zA-Z_0-9]+)`/g)].map((match) => match[1]));
    assert.ok(documented.length >= 8, `the table of docs/observability.md: ${documented}`);
    assert.deepEqual(documented.filter((name) => !served.has(name)), [], 'every metric the docs list, under its name');
    for (const rule of rules) assert.match(rule.pattern, /^kafka\.(network|server|controller)<type=/, `${rule.name}: a Kafka MBean`);
  });

  test('KEDA scales each consumer on its compose consumer group and its topic, up to the topic\'s partitions', () => {
    const { compose } = readCompose(ROOT, dotenv);
    const scaledObjects = defaults.filter((object) => object.kind === 'ScaledObject');
    assert.deepEqual(scaledObjects.map((object) => object.spec.scaleTargetRef.name).sort(),
      ['billing-consumer', 'notifier-consumer'].map((service) => deploymentOf(defaults, service).metadata.name));
    for (const scaledObject of scaledObjects) {
      const service = SERVICES.find((name) => scaledObject.metadata.name.endsWith(`-${name}`));
      const [trigger] = scaledObject.spec.triggers;
      assert.equal(trigger.type, 'kafka');
      assert.equal(trigger.metadata.consumerGroup, environmentOf(compose.services[service]).KAFKA_CONSUMER_GROUP);
      const topic = TOPICS.find(({ name }) => name === trigger.metadata.topic);
      assert.ok(topic, `${service} scales on a topic of the demo, not ${trigger.metadata.topic}`);
      assert.ok(scaledObject.spec.maxReplicaCount <= topic.partitions, `${service}: no more replicas than ${topic.name}'s partitions`);
      assert.equal(trigger.metadata.bootstrapServers, envOf(containerOf(deploymentOf(defaults, service))).KAFKA_BROKERS);
    }
  });

  test('each service gets every variable its compose block sets, the database URL from CloudNativePG\'s Secret', () => {
    const { compose } = readCompose(ROOT, dotenv);
    const postgres = find(defaults, 'Cluster', '-postgres');
    for (const service of SERVICES) {
      const env = envOf(containerOf(deploymentOf(defaults, service)));
      const missing = Object.keys(environmentOf(compose.services[service])).filter((name) => !(name in env));
      assert.deepEqual(missing, [], `${service}: set in docker-compose.yml, not by the chart`);
      assert.equal(env.OTEL_SERVICE_NAME, service);
      if ('DATABASE_URL' in env) {
        assert.deepEqual(env.DATABASE_URL, { secretKeyRef: { name: `${postgres.metadata.name}-app`, key: 'uri' } });
      }
    }
    assert.equal(postgres.spec.bootstrap.initdb.database, dotenv.POSTGRES_DB);
    assert.equal(postgres.spec.bootstrap.initdb.owner, dotenv.POSTGRES_USER);
  });

  test('the services send to the agents, with the pod\'s name as service.instance.id, and the agents route traces by id to the gateways', () => {
    const agent = find(defaults, 'OpenTelemetryCollector', '-agent');
    const gateway = find(defaults, 'OpenTelemetryCollector', '-gateway');
    for (const service of SERVICES) {
      const container = containerOf(deploymentOf(defaults, service));
      const env = envOf(container);
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://${agent.metadata.name}-collector:4318`);
      assert.deepEqual(env.POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } });
      assert.match(env.OTEL_RESOURCE_ATTRIBUTES, /(^|,)service\.instance\.id=\$\(POD_NAME\)(,|$)/);
      // $(POD_NAME) is expanded only from a variable defined earlier in the list.
      assert.ok(container.env.findIndex((entry) => entry.name === 'POD_NAME') < container.env.findIndex((entry) => entry.name === 'OTEL_RESOURCE_ATTRIBUTES'));
    }
    const { load_balancing: loadBalancing } = agent.spec.config.exporters;
    assert.equal(loadBalancing.routing_key, 'traceID');
    assert.equal(loadBalancing.resolver.dns.hostname, `${gateway.metadata.name}-collector-headless.demo.svc.cluster.local`);
    assert.deepEqual(agent.spec.config.service.pipelines.traces.exporters, ['load_balancing']);
    assert.equal(gateway.spec.mode, 'statefulset');
  });

  test('the services run as non-root on a read-only root filesystem, probed on their health endpoints', () => {
    for (const service of SERVICES) {
      const deployment = deploymentOf(defaults, service);
      const container = containerOf(deployment);
      assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
      assert.equal(container.livenessProbe.httpGet.path, '/health/live');
      // The image's command (`node --import @demo/common/tracing dist/main.js`) is kept.
      assert.equal(container.command, undefined);
      assert.equal(container.args, undefined);
    }
  });

  test('the collector and Jaeger run otel/*.yaml: the chart\'s files are links to them', () => {
    for (const file of ['collector.yaml', 'collector-tail-sampling.yaml', 'jaeger.yaml', 'jaeger-ui.json']) {
      const link = path.join(CHART_DIR, 'files', file);
      assert.ok(lstatSync(link).isSymbolicLink(), `chart/files/${file} is a symbolic link`);
      assert.equal(path.resolve(path.dirname(link), readlinkSync(link)), path.join(ROOT, 'otel', file));
    }
    const otel = (file) => parseYaml(readFileSync(path.join(ROOT, 'otel', file), 'utf8'));
    const gateway = find(defaults, 'OpenTelemetryCollector', '-gateway').spec.config;
    assert.deepEqual(gateway.connectors, otel('collector.yaml').connectors);
    assert.deepEqual(gateway.processors.tail_sampling, otel('collector-tail-sampling.yaml').processors.tail_sampling);
    const pipelines = { ...otel('collector.yaml').service.pipelines, ...otel('collector-tail-sampling.yaml').service.pipelines };
    // The consumer lag is asked of the brokers by the lag collector alone.
    const withoutLag = { ...pipelines.metrics, receivers: pipelines.metrics.receivers.filter((receiver) => receiver !== 'kafka_metrics') };
    assert.deepEqual(gateway.service.pipelines, { ...pipelines, metrics: withoutLag });
    const lag = find(defaults, 'OpenTelemetryCollector', '-lag').spec;
    assert.equal(lag.replicas, 1);
    assert.deepEqual(lag.config.receivers.kafka_metrics, otel('collector.yaml').receivers.kafka_metrics);
    const jaeger = parseYaml(find(defaults, 'ConfigMap', '-jaeger').data['config.yaml']);
    assert.deepEqual(jaeger.service, otel('jaeger.yaml').service);
    assert.deepEqual(Object.keys(jaeger.extensions.jaeger_storage.backends), ['elasticsearch']);
    assert.equal(jaeger.exporters.jaeger_storage_exporter.trace_storage, 'elasticsearch');
  });

  test('VictoriaLogs runs as one non-root node, on its own volume, probed on /health, keeping .env\'s LOGS_RETENTION', () => {
    const statefulSet = find(defaults, 'StatefulSet', '-victorialogs');
    const service = find(defaults, 'Service', '-victorialogs');
    assert.ok(statefulSet && service, 'a StatefulSet and a Service named <release>-victorialogs');
    assert.equal(statefulSet.spec.replicas, 1);
    assert.equal(statefulSet.spec.serviceName, service.metadata.name);
    const pod = statefulSet.spec.template;
    assert.deepEqual(Object.entries(service.spec.selector).filter(([key, value]) => pod.metadata.labels[key] !== value), [], 'the Service selects the pod');
    const container = containerOf(statefulSet);
    const port = container.ports.find(({ containerPort }) => containerPort === 9428);
    assert.ok(port, 'the container listens on 9428');
    assert.deepEqual(service.spec.ports.map(({ port: servicePort, targetPort }) => ({ servicePort, targetPort })), [{ servicePort: 9428, targetPort: port.name }]);

    // Its data on the volume of its claim template, kept for .env's LOGS_RETENTION.
    const flags = Object.fromEntries(container.args.map((arg) => arg.replace(/^-+/, '').split('=')));
    assert.equal(flags.retentionPeriod, dotenv.LOGS_RETENTION, '-retentionPeriod is .env\'s LOGS_RETENTION');
    assert.equal(flags.httpListenAddr, ':9428');
    const [claim] = statefulSet.spec.volumeClaimTemplates;
    assert.match(claim.spec.resources.requests.storage, /^\d+[GMT]i$/);
    assert.equal(container.volumeMounts.find(({ name }) => name === claim.metadata.name)?.mountPath, flags.storageDataPath, 'the claim is mounted where -storageDataPath points');

    // The image has no shell: the probes are HTTP requests.
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.deepEqual(probe.httpGet, { path: '/health', port: port.name });
    }

    // Non-root (the distroless image's `nonroot`), the volume writable through its group.
    const { securityContext } = pod.spec;
    assert.equal(securityContext.runAsNonRoot, true, 'runAsNonRoot');
    assert.ok(securityContext.runAsUser > 0, `runAsUser ${securityContext.runAsUser}`);
    assert.ok(securityContext.fsGroup > 0, `fsGroup ${securityContext.fsGroup}`);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.ok(container.resources.requests.memory && container.resources.limits.memory, 'memory requested and limited');
  });

  test('the agents send the log records to the gateways, which write them to VictoriaLogs\' Service', () => {
    const agent = find(defaults, 'OpenTelemetryCollector', '-agent');
    const gateway = find(defaults, 'OpenTelemetryCollector', '-gateway');
    const service = find(defaults, 'Service', '-victorialogs');
    // Every exporter of the agents' logs pipeline leads to the gateways.
    const gatewayHost = `${gateway.metadata.name}-collector`;
    const logExporters = agent.spec.config.service.pipelines.logs.exporters;
    assert.ok(logExporters.length > 0);
    for (const exporter of logExporters) {
      const settings = agent.spec.config.exporters[exporter];
      assert.ok(settings, `the agents' logs exporter ${exporter} is declared`);
      // The gateways' Service (any gateway), or their headless Service (load_balancing, by trace id).
      const target = settings.endpoint ?? settings.resolver?.dns?.hostname;
      assert.ok([`${gatewayHost}:`, `${gatewayHost}-headless.`].some((prefix) => target?.startsWith(prefix)),
        `the agents' logs exporter ${exporter} sends to ${target}, not to the gateways`);
    }
    // The gateways run otel/collector.yaml's logs pipeline, its endpoint filled in by LOGS_OTLP_ENDPOINT.
    const { exporters, service: { pipelines } } = gateway.spec.config;
    assert.ok(pipelines.logs.exporters.includes('otlp_http/logs'));
    assert.match(exporters['otlp_http/logs'].logs_endpoint, /^\$\{env:LOGS_OTLP_ENDPOINT(:-[^}]*)?\}$/);
    const env = Object.fromEntries(gateway.spec.env.map(({ name, value }) => [name, value]));
    const [{ port }] = service.spec.ports;
    assert.equal(env.LOGS_OTLP_ENDPOINT, `http://${service.metadata.name}:${port}/insert/opentelemetry/v1/logs`);
  });

  test('Jaeger\'s trace view links to the trace\'s logs: otel/jaeger-ui.json, at victorialogs.uiUrl', () => {
    const uiConfigOf = (objects) => {
      const deployment = find(objects, 'Deployment', '-jaeger');
      const container = containerOf(deployment);
      const file = envOf(container).JAEGER_UI_CONFIG;
      assert.ok(file, 'JAEGER_UI_CONFIG is set');
      const mount = container.volumeMounts.find(({ mountPath }) => mountPath === file);
      assert.ok(mount, `a volume is mounted at ${file}`);
      const volume = deployment.spec.template.spec.volumes.find(({ name }) => name === mount.name);
      const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === volume.configMap?.name);
      assert.ok(configMap?.data[mount.subPath], `${file} is the key ${mount.subPath} of a ConfigMap of the chart`);
      return JSON.parse(configMap.data[mount.subPath]);
    };
    const otelUi = JSON.parse(readFileSync(path.join(ROOT, 'otel', 'jaeger-ui.json'), 'utf8'));
    // By default, the link leads to a port-forward on localhost:9428, as compose publishes it.
    assert.deepEqual(uiConfigOf(defaults), otelUi);
    const [link] = otelUi.linkPatterns;
    assert.equal(link.type, 'traces');
    assert.match(link.url, /^http:\/\/localhost:9428\/select\/vmui\/.*trace_id.*#\{traceID[^}]*\}/);
    // Elsewhere, where victorialogs.uiUrl says.
    const [moved] = uiConfigOf(render(CHART_DIR, ['--set', 'victorialogs.uiUrl=https://logs.example.com/victorialogs/'])).linkPatterns;
    assert.equal(moved.url, link.url.replace('http://localhost:9428', 'https://logs.example.com/victorialogs'));
  });

  test('the collector, Jaeger and VictoriaLogs images are the versions .env pins', () => {
    const images = defaults.flatMap((object) => object.kind === 'OpenTelemetryCollector'
      ? [object.spec.image]
      : (object.spec?.template?.spec?.containers ?? []).map((container) => container.image));
    assert.ok(images.includes(`otel/opentelemetry-collector-contrib:${dotenv.OTELCOL_VERSION}`));
    assert.ok(images.includes(`jaegertracing/jaeger:${dotenv.JAEGER_VERSION}`));
    assert.ok(images.includes(`victoriametrics/victoria-logs:v${dotenv.VICTORIALOGS_VERSION}`), `VictoriaLogs' image among ${images}`);
  });
});

/**
 * `<program> validate --config <file>` on a configuration the chart renders, with the environment
 * its pod would have (a value from a Secret stands in as a placeholder). Fails with the program's message.
 */
function validateWith(program, name, configuration, environment) {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(file, stringifyYaml(configuration));
  try {
    execFileSync(program, ['validate', '--config', file], { env: { PATH: process.env.PATH, HOSTNAME: 'pod-0', ...environment }, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`${path.basename(program)} validate refused ${name}:\n${error.stdout}${error.stderr}`);
  }
}
const podEnvironment = (entries = []) => Object.fromEntries(entries.map((entry) => [entry.name, entry.value ?? 'from-a-secret']));

// The programs of the native stack, built once into the same cache: the chart runs the contrib
// image, whose components include every one the native build compiles in.
describe('the collector and Jaeger accept the configurations the chart renders', () => {
  for (const { name, args } of VARIANTS) {
    test(`otelcol validate: every collector rendered with ${name}`, async () => {
      const otelcol = await ensureCollectorBinary(config);
      const collectors = render(CHART_DIR, args).filter((object) => object.kind === 'OpenTelemetryCollector');
      assert.deepEqual(collectors.map((object) => object.metadata.name.split('-').at(-1)).sort(), ['agent', 'gateway', 'lag']);
      for (const { metadata, spec } of collectors) validateWith(otelcol, metadata.name, spec.config, podEnvironment(spec.env));
    });
  }

  test('jaeger validate: the Jaeger configuration', async () => {
    const jaeger = await ensureJaegerBinary(config);
    const configuration = parseYaml(find(defaults, 'ConfigMap', '-jaeger').data['config.yaml']);
    validateWith(jaeger, 'jaeger', configuration, podEnvironment(containerOf(find(defaults, 'Deployment', '-jaeger')).env));
  });
});
