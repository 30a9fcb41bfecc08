// Strict validation of Kubernetes manifests without a cluster: every object is checked against the
// JSON schema the API server would apply, from the Kubernetes OpenAPI v3 spec for built-in kinds
// and from the CRD's openAPIV3Schema for custom resources. Strict as `kubectl apply
// --validate=strict` is: a field the schema does not name fails (the schemas leave that open, so
// every object schema that lists its properties is closed here, except where the schema says
// x-kubernetes-preserve-unknown-fields), and so does a value of the wrong type.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * Closes every object schema that lists its properties, down properties, items and maps. The
 * branches of anyOf/oneOf are left as they are: each may name only part of the properties.
 */
function closeObjects(schema) {
  if (schema === null || typeof schema !== 'object') return;
  if (schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) {
    schema.additionalProperties = false;
  }
  for (const child of Object.values(schema.properties ?? {})) closeObjects(child);
  if (typeof schema.additionalProperties === 'object') closeObjects(schema.additionalProperties);
  closeObjects(schema.items);
  for (const branch of schema.allOf ?? []) closeObjects(branch);
}

const gvk = (apiVersion, kind) => `${apiVersion}/${kind}`;

/**
 * A validator for the given schemas: `kubernetesSpecDir` holds the OpenAPI v3 spec of the
 * Kubernetes API (api/openapi-spec/v3 of the k8s.io/kubernetes module), `crdFiles` are YAML files
 * of CustomResourceDefinitions. Returns validate(object) -> list of problems (empty when valid).
 */
export function createValidator({ kubernetesSpecDir, crdFiles }) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const schemaRefs = new Map();

  for (const file of readdirSync(kubernetesSpecDir).filter((name) => name.endsWith('.json'))) {
    const spec = JSON.parse(readFileSync(path.join(kubernetesSpecDir, file), 'utf8'));
    const components = spec.components?.schemas ?? {};
    for (const schema of Object.values(components)) closeObjects(schema);
    const id = `urn:kubernetes:${file}`;
    ajv.addSchema(spec, id);
    for (const [name, schema] of Object.entries(components)) {
      for (const { group, version, kind } of schema['x-kubernetes-group-version-kind'] ?? []) {
        const key = gvk(group ? `${group}/${version}` : version, kind);
        // The same kind is described in every file that refers to it; the first one does.
        if (!schemaRefs.has(key)) schemaRefs.set(key, `${id}#/components/schemas/${name}`);
      }
    }
  }

  // A custom resource's metadata is an ObjectMeta, which the CRD's schema leaves unchecked.
  const objectMeta = `urn:kubernetes:api__v1_openapi.json#/components/schemas/${OBJECT_META}`;
  for (const file of crdFiles) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = document.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        const schema = structuredClone(version.schema.openAPIV3Schema);
        closeObjects(schema);
        schema.properties.metadata = { $ref: objectMeta };
        const id = `urn:crd:${crd.metadata.name}:${version.name}`;
        ajv.addSchema(schema, id);
        schemaRefs.set(gvk(`${crd.spec.group}/${version.name}`, crd.spec.names.kind), id);
      }
    }
  }

  const compiled = new Map();
  return function validate(object) {
    const key = gvk(object?.apiVersion, object?.kind);
    const ref = schemaRefs.get(key);
    if (ref === undefined) return [`${key}: no schema for this apiVersion and kind`];
    if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
    const check = compiled.get(ref);
    if (check(object)) return [];
    return describeErrors(check.errors);
  };
}

/** Ajv's errors as `/spec/replicas: must be integer`, `/spec: unknown field "replica"`. */
function describeErrors(errors) {
  const messages = errors
    // Which branch of an int-or-string or a oneOf failed says nothing the failures inside do not.
    .filter((error) => !['anyOf', 'oneOf', 'if'].includes(error.keyword))
    .map((error) => error.keyword === 'additionalProperties'
      ? `${error.instancePath || '/'}: unknown field "${error.params.additionalProperty}"`
      : `${error.instancePath || '/'}: ${error.message}`);
  return [...new Set(messages)];
}

/** The objects of a multi-document YAML stream such as `helm template` prints (empty documents left out). */
export function manifestObjects(text) {
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw document.errors[0];
    return document.toJS();
  }).filter((object) => object !== null);
}
