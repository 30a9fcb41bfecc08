/**
 * The stand-in images keep what the compose files rely on, as each images/<name>/README.md lists it
 * (`npm run test:compose` builds them first). The Dockerfile frontend's is proven by the services' build.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { queryOnce } from '../../scripts/lib/postgres.mjs';
import { readCompose } from '../../scripts/stack/compose.mjs';
import { loadStackConfig } from '../../scripts/stack/config.mjs';
import { storedLogRecords, waitFor } from '../e2e/support.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const { variables } = loadStackConfig();
const IMAGES = {
  node: `node:${variables.SERVICES_NODE_VERSION}-slim`,
  postgres: `postgres:${variables.POSTGRES_VERSION}`,
  kafka: `apache/kafka:${variables.KAFKA_VERSION}`,
  collector: `otel/opentelemetry-collector-contrib:${variables.OTELCOL_VERSION}`,
  jaeger: `jaegertracing/jaeger:${variables.JAEGER_VERSION}`,
  prometheus: `prom/prometheus:v${variables.PROMETHEUS_VERSION}`,
  victorialogs: `victoriametrics/victoria-logs:v${variables.VICTORIALOGS_VERSION}`,
  golang: `golang:${variables.GO_VERSION}`,
};
const PREFIX = 'stand-in-test';

function docker(args, { expectFailure = false } = {}) {
  const result = spawnSync('docker', args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  assert.equal(result.status !== 0, expectFailure, `\`docker ${args.join(' ')}\`: exit ${result.status}\n${output.slice(-3000)}`);
  return output;
}
const succeeds = (args) => spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).status === 0;
/** The uid the container's main process runs as. */
const uidOf = (container) => docker(['exec', container, 'sh', '-c', "awk '/^Uid:/ { print $2 }' /proc/1/status"]);
const publishedPort = (container, port) => docker(['port', container, String(port)]).split('\n')[0].split(':').at(-1);

describe('the stand-in images', () => {
  after(() => {
    const containers = docker(['ps', '-aq', '--filter', `name=${PREFIX}`]).split('\n').filter(Boolean);
    if (containers.length > 0) docker(['rm', '-f', '-v', ...containers]);
    spawnSync('docker', ['volume', 'rm', '-f', `${PREFIX}-postgres`, `${PREFIX}-kafka`, `${PREFIX}-victorialogs`]);
  });

  it(`${IMAGES.node}: node, npm, the node user 1000:1000, sleep and chown, node by default`, () => {
    const output = docker(['run', '--rm', IMAGES.node, 'sh', '-c',
      'node --version && npm --version && id node && command -v sleep chown && node -e "process.exit(typeof fetch === \'function\' ? 0 : 1)"']);
    assert.match(output, new RegExp(`^v${variables.SERVICES_NODE_VERSION}$`, 'm'));
    assert.match(output, /^\d+\.\d+\.\d+$/m, 'npm answers its version');
    assert.match(output, /uid=1000\(node\) gid=1000\(node\)/);
    assert.equal(docker(['image', 'inspect', '--format', '{{json .Config.Cmd}}', IMAGES.node]), '["node"]');
  });

  it(`${IMAGES.golang}: go of GO_VERSION and no other, GOPATH /go, modules from the proxy over TLS, a static binary`, () => {
    const program = 'package main\n\nimport _ "github.com/google/uuid"\n\nfunc main() {}\n';
    const output = docker(['run', '--rm', '--network', 'host', IMAGES.golang, 'sh', '-c', [
      'go version && go env GOPATH GOTOOLCHAIN GOPROXY',
      'mkdir /tmp/m && cd /tmp/m && go mod init m >/dev/null 2>&1',
      `printf '${program}' > main.go`,
      'go get github.com/google/uuid@v1.6.0 >/dev/null 2>&1 && CGO_ENABLED=0 go build -o m . && ./m && echo built',
      '(ldd ./m 2>&1 || true)',
    ].join(' && ')]);
    assert.match(output, new RegExp(`go version go${variables.GO_VERSION.replaceAll('.', '\\.')} linux/amd64`));
    assert.match(output, /^\/go\nlocal\nhttps:\/\/proxy\.golang\.org,direct$/m);
    assert.match(output, /^built$/m, 'a module from the proxy, built');
    assert.match(output, /not a dynamic executable/, 'static');
  });

  it(`${IMAGES.postgres}: POSTGRES_USER/PASSWORD/DB on an empty volume, password logins over TCP, runs as uid 999, keeps its data`, async () => {
    const name = `${PREFIX}-postgres`;
    docker(['run', '-d', '--name', name, '-v', `${name}:/var/lib/postgresql/data`, '-p', '127.0.0.1::5432',
      '-e', 'POSTGRES_USER=owner', '-e', 'POSTGRES_PASSWORD=secret', '-e', 'POSTGRES_DB=things', IMAGES.postgres]);
    const url = (password) => `postgres://owner:${password}@127.0.0.1:${publishedPort(name, 5432)}/things`;
    await waitFor('the stand-in Postgres to take connections', () => queryOnce(url('secret'), 'SELECT 1').then(() => true, () => false), { timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(docker(['exec', name, 'pg_isready', '--host=127.0.0.1', '--username=owner', '--dbname=things']).includes('accepting connections'), true);
    await queryOnce(url('secret'), 'CREATE TABLE kept (id int)');
    await assert.rejects(queryOnce(url('wrong'), 'SELECT 1'), /password authentication failed/);
    assert.equal(uidOf(name), '999');
    docker(['restart', name]);
    await waitFor('Postgres after a restart', () => queryOnce(url('secret'), 'SELECT count(*) FROM kept').then(() => true, () => false), { timeoutMs: 60_000, intervalMs: 500 });
  });

  it(`${IMAGES.kafka}: KAFKA_* and CLUSTER_ID make a KRaft node, KAFKA_OPTS reaches the JVM, the bin/ tools answer, runs as uid 1000, restarts on its data`, async () => {
    const name = `${PREFIX}-kafka`;
    docker(['run', '-d', '--name', name, '-v', `${name}:/var/lib/kafka/data`,
      ...['CLUSTER_ID=HD9m_gXZSFe45xDGzFAs6g', 'KAFKA_NODE_ID=1', 'KAFKA_PROCESS_ROLES=broker,controller',
        'KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093', 'KAFKA_LISTENERS=INTERNAL://:19092,CONTROLLER://:9093',
        'KAFKA_ADVERTISED_LISTENERS=INTERNAL://localhost:19092', 'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL', 'KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER', 'KAFKA_LOG_DIRS=/var/lib/kafka/data',
        'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1', 'KAFKA_HEAP_OPTS=-Xmx300m', 'KAFKA_OPTS=-Dstand.in.opts=passed'].flatMap((variable) => ['-e', variable]),
      IMAGES.kafka]);
    const apiVersions = ['exec', name, '/opt/kafka/bin/kafka-broker-api-versions.sh', '--bootstrap-server', 'localhost:19092'];
    await waitFor('the stand-in broker to answer', () => succeeds(apiVersions), { timeoutMs: 90_000, intervalMs: 2000 });
    docker(['exec', name, '/opt/kafka/bin/kafka-topics.sh', '--bootstrap-server', 'localhost:19092', '--create', '--topic', 'kept', '--partitions', '2']);
    assert.equal(uidOf(name), '1000');
    const cmdline = docker(['exec', name, 'sh', '-c', "tr '\\0' ' ' < /proc/1/cmdline"]);
    assert.match(cmdline, /-Xmx300m/, 'KAFKA_HEAP_OPTS sets the heap');
    assert.match(cmdline, /-Dstand\.in\.opts=passed .*kafka\.Kafka/, 'KAFKA_OPTS reaches the broker\'s JVM, before its main class');
    const properties = docker(['exec', name, 'cat', '/opt/kafka/config/server.properties']);
    assert.match(properties, /^inter\.broker\.listener\.name=INTERNAL$/m);
    assert.doesNotMatch(properties, /^opts=/m, 'KAFKA_OPTS is not a broker property');
    docker(['restart', name]);
    await waitFor('the broker after a restart', () => succeeds(apiVersions), { timeoutMs: 90_000, intervalMs: 2000 });
    assert.match(docker(['exec', name, '/opt/kafka/bin/kafka-topics.sh', '--bootstrap-server', 'localhost:19092', '--describe', '--topic', 'kept']), /PartitionCount: 2/);
  });

  it(`${IMAGES.collector}: the collector as entrypoint, with every component otel/*.yaml uses, as uid 10001`, () => {
    for (const files of [['collector.yaml'], ['collector.yaml', 'collector-agent.yaml'], ['collector.yaml', 'collector-tail-sampling.yaml', 'collector-gateway.yaml']]) {
      docker(['run', '--rm', '-v', `${path.join(ROOT, 'otel')}:/otel:ro`, '-e', 'HOSTNAME=test', '-e', 'GATEWAY_NAME=gateway-1', IMAGES.collector, 'validate',
        ...files.flatMap((file) => ['--config', `/otel/${file}`])]);
    }
    assert.equal(docker(['run', '--rm', '--entrypoint', 'id', IMAGES.collector, '-u']), '10001');
  });

  it(`${IMAGES.jaeger}: Jaeger as entrypoint, wget for the healthcheck, as uid 10001`, () => {
    docker(['run', '--rm', '-v', `${path.join(ROOT, 'otel')}:/otel:ro`, IMAGES.jaeger, 'validate', '--config', '/otel/jaeger.yaml']);
    assert.match(docker(['run', '--rm', '--entrypoint', 'sh', IMAGES.jaeger, '-c', 'command -v wget']), /wget$/);
    assert.equal(docker(['run', '--rm', '--entrypoint', 'id', IMAGES.jaeger, '-u']), '10001');
  });

  it(`${IMAGES.prometheus}: Prometheus as entrypoint, /prometheus writable by nobody, wget for the healthcheck`, () => {
    assert.match(docker(['run', '--rm', IMAGES.prometheus, '--version']), /^prometheus, version/m);
    assert.equal(docker(['run', '--rm', '--entrypoint', 'sh', IMAGES.prometheus, '-c', 'touch /prometheus/written && id -u']), '65534');
    assert.match(docker(['run', '--rm', '--entrypoint', 'sh', IMAGES.prometheus, '-c', 'command -v wget']), /wget$/);
  });

  it(`${IMAGES.victorialogs}: VictoriaLogs as entrypoint, run as compose runs it: writes its volume on /home/nonroot as uid 65532, takes OTLP logs, answers /health and LogsQL`, async () => {
    const name = `${PREFIX}-victorialogs`;
    assert.equal(docker(['image', 'inspect', '--format', '{{json .Config.Entrypoint}}', IMAGES.victorialogs]), '["/victoria-logs-prod"]');
    // Compose's user, flags, hardening and volume (a fresh one, on the directory compose mounts it on).
    const service = readCompose(ROOT, variables).compose.services.victorialogs;
    const dataDir = service.command.find((arg) => arg.startsWith('-storageDataPath=')).split('=')[1];
    const [, home] = service.volumes.map((volume) => String(volume).split(':')).find(([, target]) => dataDir.startsWith(`${target}/`));
    docker(['run', '-d', '--name', name, '--user', String(service.user), '--read-only', '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges:true', '-v', `${name}:${home}`, '-p', '127.0.0.1::9428', IMAGES.victorialogs, ...service.command]);
    const url = `http://127.0.0.1:${publishedPort(name, 9428)}`;
    await waitFor('the stand-in VictoriaLogs to answer /health', () => fetch(`${url}/health`).then((r) => r.status === 200, () => false), { timeoutMs: 30_000, intervalMs: 500 });

    // Nothing posted yet: the store is open in its data directory, on the volume, all 65532's.
    assert.equal(uidOf(name), '65532');
    assert.equal(docker(['exec', name, 'stat', '-c', '%u:%g', home, dataDir, `${dataDir}/flock.lock`]), '65532:65532\n65532:65532\n65532:65532');

    // One record in a trace, over OTLP/HTTP protobuf, as the collector's otlp_http exporter sends it.
    const traceId = randomBytes(16).toString('hex');
    const emitted = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: emitted })] });
    provider.getLogger('stand-in-test').emit({
      body: 'stand-in record',
      context: trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED }),
    });
    await provider.forceFlush();
    const otlp = new OTLPLogExporter({ url: `${url}/insert/opentelemetry/v1/logs` });
    const insert = await new Promise((resolve) => otlp.export(emitted.getFinishedLogRecords(), resolve));
    assert.equal(insert.code, ExportResultCode.SUCCESS, `OTLP/HTTP insert: ${insert.error?.message}`);
    await otlp.shutdown();
    // Found by its trace id, as Jaeger's link to a trace's logs asks (otel/jaeger-ui.json).
    const [record] = await waitFor('the record, by its trace id', async () => {
      const found = await storedLogRecords(`trace_id:${traceId}`, url);
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 15_000, intervalMs: 500 });
    assert.equal(record._msg, 'stand-in record');
    assert.deepEqual(await storedLogRecords(`trace_id:${randomBytes(16).toString('hex')}`, url), [], 'and nothing for another trace');
  });
});
