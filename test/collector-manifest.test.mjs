// The collector's builder manifest (otel/collector-builder.yaml) compiles exactly the components the
// collector configurations use: `otelcol validate` at start-up catches one that is missing, this
// catches one left over, which would only make the binary bigger and its build slower.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';

const OTEL = path.resolve(import.meta.dirname, '..', 'otel');
const KINDS = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', connectors: 'connector', extensions: 'extension' };

/** The component types (`otlp_grpc`, `file_storage`...) a collector configuration declares, by kind. */
function declaredTypes(file) {
  const config = parseYaml(readFileSync(path.join(OTEL, file), 'utf8')) ?? {};
  return Object.keys(KINDS).flatMap((kind) => Object.keys(config[kind] ?? {}).map((id) => `${kind}:${id.split('/')[0]}`));
}

/**
 * The module a component type comes from: its name without underscores, plus its kind
 * (`span_metrics` -> spanmetricsconnector); storage extensions drop the kind (filestorage), and
 * `otlp_grpc` is the otlp exporter's canonical name.
 */
function moduleOf(kindAndType) {
  const [kind, type] = kindAndType.split(':');
  const name = type === 'otlp_grpc' ? 'otlp' : type.replaceAll('_', '');
  return kind === 'extensions' && name.endsWith('storage') ? name : `${name}${KINDS[kind]}`;
}

test('the builder manifest compiles exactly the components the collector configurations use', () => {
  const configs = readdirSync(OTEL).filter((file) => /^collector.*\.yaml$/.test(file) && file !== 'collector-builder.yaml');
  assert.ok(configs.includes('collector-gateway.yaml') && configs.includes('collector-agent.yaml'), configs.join(', '));
  const used = new Set(configs.flatMap(declaredTypes).map(moduleOf));
  const manifest = parseYaml(readFileSync(path.join(OTEL, 'collector-builder.yaml'), 'utf8'));
  const compiled = new Set(Object.keys(KINDS).flatMap((kind) => (manifest[kind] ?? []).map(({ gomod }) => gomod.split(' ')[0].split('/').at(-1))));
  assert.deepEqual([...used].sort(), [...compiled].sort());
});
