/**
 * The OpenTelemetry semantic conventions as the installed `@opentelemetry/semantic-conventions`
 * package lists them, and what they require of each kind of span in this project's traces: for
 * conventions.e2e (the whole trace) and go-consumer.e2e (the Go consumer's span).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import * as stable from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { APP_ATTRIBUTES } from '@demo/common/telemetry';

/**
 * The registry: every `ATTR_*` the package exports, stable and incubating. A template attribute
 * (`http.request.header.<key>`) is exported as a function of its key and stands for a prefix.
 */
function semanticConventionsRegistry() {
  const exported = Object.entries({ ...stable, ...incubating }).filter(([name]) => name.startsWith('ATTR_'));
  return {
    keys: new Set(exported.filter(([, value]) => typeof value === 'string').map(([, value]) => value)),
    prefixes: exported.filter(([, value]) => typeof value === 'function').map(([, template]) => template('')),
    deprecated: deprecatedKeys(),
  };
}

/** The keys whose declaration in the package's type definitions is marked `@deprecated`, with the note. */
function deprecatedKeys() {
  const dist = path.dirname(fileURLToPath(import.meta.resolve('@opentelemetry/semantic-conventions/incubating')));
  const declarations = readdirSync(dist)
    .filter((file) => file.endsWith('_attributes.d.mts'))
    .map((file) => readFileSync(path.join(dist, file), 'utf8'))
    .join('\n');
  const keys = new Map();
  for (const [, comment, key] of declarations.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*declare const ATTR_\w+: "([^"]+)"/g)) {
    const note = /@deprecated (.*)/.exec(comment)?.[1];
    if (note) keys.set(key, note);
  }
  assert.ok(keys.has('db.system'), `the deprecated attributes, read from ${dist} (db.system among them)`);
  return keys;
}

/** Tags Jaeger adds to every span from the span itself (its kind, scope, status) or its own format. */
const JAEGER_TAGS = new Set(['span.kind', 'otel.scope.name', 'otel.scope.version', 'otel.status_code', 'otel.status_description', 'error', 'internal.span.format']);

/** Process tags the collector adds on the way to Jaeger, for Jaeger (otel/collector.yaml, resource/machine). */
const COLLECTOR_TAGS = new Set(
  parse(readFileSync(new URL('../../otel/collector.yaml', import.meta.url), 'utf8')).processors['resource/machine'].attributes.map((attribute) => attribute.key),
);

/**
 * Attributes instrumentation-kafkajs 0.33 still names as the conventions did, which the installed
 * package marks deprecated (`messaging.system.name`, `kafka.*`). The instrumentation has no switch
 * for the new names (no OTEL_SEMCONV_STABILITY_OPT_IN for messaging): they change when it does.
 */
const INSTRUMENTATION_DEPRECATED = new Set([
  'messaging.system',
  'messaging.kafka.message.key',
  'messaging.kafka.offset',
  'messaging.kafka.cluster.id',
]);

/**
 * What the conventions (v1.44) require of each kind of span in this trace: the attributes at
 * "Required", and those "Conditionally Required" whose condition holds for every such span here.
 */
export const REQUIRED = {
  // docs/http/http-spans.md, HTTP server: method, path and scheme Required; the status code
  // "if and only if one was sent"; the route "if available" (Express names it).
  'http server': ['http.request.method', 'url.path', 'url.scheme', 'http.response.status_code', 'http.route'],
  // docs/database/database-spans.md: db.system.name Required; docs/database/postgresql.md:
  // db.namespace "if available without an additional network call" (the connection's database).
  'db client': ['db.system.name', 'db.namespace'],
  // docs/messaging/messaging-spans.md: system and operation name Required; operation type "if
  // applicable", the destination "if the span describes an operation on a single message or destination".
  'messaging send': ['messaging.system', 'messaging.operation.name', 'messaging.operation.type', 'messaging.destination.name'],
  // The same, and docs/messaging/kafka.md: the consumer group "if applicable" (every consumer has one).
  'messaging process': [
    'messaging.system',
    'messaging.operation.name',
    'messaging.operation.type',
    'messaging.destination.name',
    'messaging.consumer.group.name',
  ],
  // The project's own spans (`bill student`, `notify student`): the conventions require nothing.
  internal: [],
};

/** The convention a span falls under, from its kind and what it describes. */
export function conventionOf(span) {
  if (span.kind === 'server') return 'http server';
  if (span.kind === 'client' && 'db.system.name' in span.tags) return 'db client';
  if (span.kind === 'producer') return 'messaging send';
  if (span.kind === 'consumer') return 'messaging process';
  if (span.kind === 'internal') return 'internal';
  return `no convention for a ${span.kind} span (tags ${Object.keys(span.tags).join(', ')})`;
}

const registry = semanticConventionsRegistry();
const ownKeys = new Set(Object.values(APP_ATTRIBUTES));
export const isRegistered = (key) => registry.keys.has(key) || registry.prefixes.some((prefix) => key.startsWith(prefix));

/** Attributes of `spans` neither in the registry nor declared in attributes.ts, one line each. */
export function unregisteredAttributes(spans) {
  return spans.flatMap((span) =>
    Object.keys(span.tags)
      .filter((key) => !JAEGER_TAGS.has(key) && !ownKeys.has(key) && !isRegistered(key))
      .map((key) => `${span.name} (${span.service}): ${key}`),
  );
}

/** Deprecated attributes of `spans`, but those instrumentation-kafkajs still sets, one line each. */
export function deprecatedAttributes(spans) {
  return spans.flatMap((span) =>
    Object.keys(span.tags)
      .filter((key) => registry.deprecated.has(key) && !INSTRUMENTATION_DEPRECATED.has(key))
      .map((key) => `${span.name} (${span.service}): ${key} (${registry.deprecated.get(key)})`),
  );
}

/** Attributes the conventions require of each span's kind that it lacks, one line each. */
export function missingRequiredAttributes(spans) {
  return spans.flatMap((span) => {
    const convention = conventionOf(span);
    const required = REQUIRED[convention];
    if (!required) return [`${span.name} (${span.service}): ${convention}`];
    return required.filter((key) => !(key in span.tags)).map((key) => `${span.name} (${span.service}) [${convention}]: ${key}`);
  });
}

/** Resource attributes (Jaeger's process tags) neither registered nor added by the collector, or deprecated. */
export function unregisteredResourceAttributes(traces) {
  return traces
    .flatMap((trace) => Object.values(trace.processes).flatMap((process) => process.tags.map((tag) => `${process.serviceName}: ${tag.key}`)))
    .filter((entry) => {
      const key = entry.slice(entry.indexOf(': ') + 2);
      return (!isRegistered(key) && !COLLECTOR_TAGS.has(key)) || registry.deprecated.has(key);
    });
}
