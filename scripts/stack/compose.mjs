// docker-compose.yml read the way compose reads it, for the native stack (each service's
// environment, port and start order come from its compose block) and for test/compose.test.mjs.
// Where a Docker engine exists, `docker compose config` does the same; none runs here.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseDocument, visit } from 'yaml';

/**
 * Compose's interpolation of one string: $$ escapes, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}. Stricter than compose on one point: a
 * variable that is not in `vars` and has no default throws instead of becoming "".
 */
export function interpolate(value, vars) {
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
export function interpolateDeep(node, vars) {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((item) => interpolateDeep(item, vars));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [interpolate(key, vars), interpolateDeep(value, vars)]),
    );
  }
  return node;
}

/** docker-compose.yml of `root` as written (`raw`) and interpolated with `vars` (`compose`). */
export function readCompose(root, vars) {
  // merge: `<<: *anchor`, as compose does.
  const raw = parseYaml(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  return { raw, compose: interpolateDeep(raw, vars) };
}

/** Where an override file's `!reset` and `!override` tags are kept through parsing. */
const RESET = '__compose_reset__';
const OVERRIDE = '__compose_override__';

/** Keys whose lists an override file replaces; compose appends to the others (ports, volumes...). */
const REPLACED_LISTS = new Set(['command', 'entrypoint', 'test', 'profiles']);

/** An override file, its `!reset` (drop the base's value) and `!override` (replace it) tags kept. */
function parseOverride(text) {
  const document = parseDocument(text, { merge: true });
  visit(document, {
    Pair(_, pair) {
      const tag = pair.value?.tag;
      if (tag === '!reset') pair.value = document.createNode({ [RESET]: true });
      if (tag === '!override') pair.value = document.createNode({ [OVERRIDE]: pair.value.toJSON() });
    },
  });
  return document.toJS();
}

/** Compose's merge of an override over a base: maps merged, lists appended unless replaced or tagged. */
function mergeOverride(base, override, key) {
  if (override && typeof override === 'object' && !Array.isArray(override)) {
    if (override[OVERRIDE] !== undefined) return override[OVERRIDE];
    if (!base || typeof base !== 'object' || Array.isArray(base)) base = {};
    const merged = { ...base };
    for (const [name, value] of Object.entries(override)) {
      if (value && value[RESET]) delete merged[name];
      else merged[name] = mergeOverride(base[name], value, name);
    }
    return merged;
  }
  if (Array.isArray(override) && Array.isArray(base) && !REPLACED_LISTS.has(key)) {
    return [...base, ...override.filter((item) => !base.includes(item))];
  }
  return override;
}

/**
 * docker-compose.yml and the override files after it, merged as `docker compose -f a -f b` does,
 * as written (`raw`) and interpolated (`compose`); `base` is docker-compose.yml alone, as written.
 */
export function readComposeFiles(root, vars, files) {
  const [first, ...overrides] = files;
  const base = parseYaml(readFileSync(path.join(root, first), 'utf8'), { merge: true });
  const raw = overrides.reduce((merged, file) => mergeOverride(merged, parseOverride(readFileSync(path.join(root, file), 'utf8'))), base);
  return { base, raw, compose: interpolateDeep(raw, vars) };
}

/** A service's environment as an object, whether written as a map or as a KEY=VALUE list. */
export function environmentOf(service) {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((entry) => {
    const index = entry.indexOf('=');
    return index === -1 ? [entry, null] : [entry.slice(0, index), entry.slice(index + 1)];
  }));
}

/** depends_on as [name, { condition, ... }] pairs (the short list form has no condition). */
export function dependenciesOf(service) {
  const dependsOn = service.depends_on ?? {};
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => [name, {}]);
  return Object.entries(dependsOn);
}

/** A published port 'IP:HOST:CONTAINER' (short syntax) as numbers and interface. */
export function publishedPort(spec) {
  const [, ip, host, container] = /^(?:([\d.]+):)?(\d+):(\d+)$/.exec(String(spec)) ?? [];
  if (host === undefined) throw new Error(`published port ${spec}: expected [IP:]HOST:CONTAINER`);
  return { ip, host: Number(host), container: Number(container) };
}
