// The Docker engine and client tools that `npm run test:compose` runs compose with, on a machine that
// has none of them and reaches no image registry: Debian's engine, and Compose, buildx, BuildKit and
// a registry built from the Go module proxy. Everything is cached in the stack's cache folder; the
// engine, the registry and BuildKit are this harness's own processes, on sockets and ports of its own.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { downloadGoModule, writableCopy } from '../../scripts/stack/go.mjs';
import { say, step } from '../../scripts/stack/output.mjs';
import { captureCommand, isAlive, runCommand } from '../../scripts/stack/processes.mjs';
import { poll, tcpOpen } from '../../scripts/stack/readiness.mjs';

/** The client tools, each pinned: the versions a Compose file with `COPY --parents` builds with. */
export const TOOLS = Object.freeze({
  compose: { module: 'github.com/docker/compose/v5', version: '5.6.0' },
  buildx: { module: 'github.com/docker/buildx', version: '0.38.2' },
  buildkit: { module: 'github.com/moby/buildkit', version: '0.26.3' },
  registry: { module: 'github.com/distribution/distribution/v3', version: '3.1.2' },
});

export function dockerPaths(cacheDir) {
  const home = path.join(cacheDir, 'docker');
  // Unix socket paths are limited to 108 bytes: the sockets live in /run, not in the cache.
  const run = '/run/nestjs-kafka-tracing-docker';
  return {
    home,
    bin: path.join(home, 'bin'),
    config: path.join(home, 'client-config'),
    plugins: path.join(home, 'client-config', 'cli-plugins'),
    logs: path.join(home, 'logs'),
    engineData: path.join(home, 'engine'),
    registryData: path.join(home, 'registry'),
    buildkitData: path.join(home, 'buildkit'),
    run,
    engineSocket: path.join(run, 'engine.sock'),
    buildkitSocket: path.join(run, 'buildkitd.sock'),
  };
}

/** The environment every docker command of the harness runs with: its engine, its plugins, its builder. */
export function dockerEnvironment(paths) {
  return {
    ...process.env,
    DOCKER_HOST: `unix://${paths.engineSocket}`,
    DOCKER_CONFIG: paths.config,
    BUILDX_BUILDER: 'nestjs-kafka-tracing',
    PATH: `${paths.bin}:${process.env.PATH}`,
  };
}

const log = (paths, name) => {
  mkdirSync(paths.logs, { recursive: true });
  return path.join(paths.logs, `${name}.log`);
};

/** `apt-get install` of Debian packages whose commands are missing. */
export async function ensureDebianPackages(paths, packages) {
  const missing = Object.entries(packages).filter(([command]) => !onPath(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await step('docker', `installing ${missing.join(', ')} from Debian's packages`, '~1 min', async () => {
    await runCommand('docker', 'apt-get', ['update', '-qq'], { env, log: log(paths, 'apt') });
    await runCommand('docker', 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, log: log(paths, 'apt') });
  });
}

function onPath(command) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(path.join(dir, command)));
}

/**
 * One Go program, built once into `target` (under a temporary name, renamed when complete, so an
 * interrupted build is never taken for a finished one). `go install` refuses Compose's and
 * BuildKit's modules (their go.mod has exclude directives): every tool is built in a copy of its module.
 */
async function buildGoProgram(paths, { name, module, version, pkg, target, ldflags = '', env = {}, expected }) {
  if (existsSync(target)) return;
  const source = path.join(paths.home, `src-${name}`);
  await step('docker', `compiling ${name} (${module}@v${version})`, expected, async () => {
    writableCopy(await downloadGoModule(module, version), source);
    await runCommand('docker', 'go', ['build', '-trimpath', `-ldflags=-s -w ${ldflags}`, '-o', `${target}.tmp`, pkg], {
      cwd: source,
      env: { ...process.env, ...env },
      log: log(paths, `build-${name}`),
      heartbeat: `compiling ${name}`,
    });
  });
  renameSync(`${target}.tmp`, target);
  rmSync(source, { recursive: true, force: true });
}

/** Compose and buildx as CLI plugins, buildkitd, the Dockerfile frontend and the registry, each once. */
export async function ensureTools(paths) {
  mkdirSync(paths.plugins, { recursive: true });
  mkdirSync(paths.bin, { recursive: true });
  const { compose, buildx, buildkit, registry } = TOOLS;
  await buildGoProgram(paths, {
    name: 'compose', ...compose, pkg: './cmd', target: path.join(paths.plugins, 'docker-compose'),
    ldflags: `-X ${compose.module}/internal.Version=v${compose.version}`, expected: '~1.5 min on 2 cores',
  });
  await buildGoProgram(paths, {
    name: 'buildx', ...buildx, pkg: './cmd/buildx', target: path.join(paths.plugins, 'docker-buildx'),
    ldflags: `-X ${buildx.module}/version.Version=v${buildx.version}`, expected: '~3.5 min on 2 cores',
  });
  await buildGoProgram(paths, {
    name: 'buildkitd', ...buildkit, pkg: './cmd/buildkitd', target: path.join(paths.bin, 'buildkitd'),
    ldflags: `-X ${buildkit.module}/version.Version=v${buildkit.version}`, expected: '~2 min on 2 cores',
  });
  // Static: it runs alone in a FROM scratch image (images/dockerfile-frontend).
  await buildGoProgram(paths, {
    name: 'dockerfile-frontend', ...buildkit, pkg: './frontend/dockerfile/cmd/dockerfile-frontend',
    target: path.join(paths.bin, 'dockerfile-frontend'), env: { CGO_ENABLED: '0' }, expected: '~1 min on 2 cores',
  });
  await buildGoProgram(paths, {
    name: 'registry', ...registry, pkg: './cmd/registry', target: path.join(paths.bin, 'registry'), expected: '~2.5 min on 2 cores',
  });
}

/** Starts `command` detached, its output in a log, its pid in a file; returns the pid. */
function startDaemon(paths, name, command, args, env = process.env) {
  const out = openSync(log(paths, name), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  child.unref();
  writeFileSync(path.join(paths.run, `${name}.pid`), String(child.pid));
  return child.pid;
}

function runningDaemon(paths, name) {
  try {
    const pid = Number(readFileSync(path.join(paths.run, `${name}.pid`), 'utf8'));
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntil(what, probe, timeoutMs, logName, paths) {
  const outcome = await poll(probe, { timeoutMs, intervalMs: 250 });
  if (outcome.timedOut) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s; see ${log(paths, logName)}`);
}

const engineAnswers = (paths) => captureCommand('docker', ['version', '--format', '{{.Server.Version}}'], { env: dockerEnvironment(paths) })
  .then(Boolean, () => false);

/**
 * The harness's engine (Debian's dockerd, data in the cache), its registry on 127.0.0.1:`registryPort`
 * (a mirror of docker.io for BuildKit: the base images and the Dockerfile frontend are pushed there)
 * and its BuildKit daemon (host network for RUN steps, as a `docker build` on this machine has), used
 * through buildx's remote driver. Started unless running; they outlive the test run (`stopDaemons`).
 */
export async function startDaemons(paths, { registryPort }) {
  mkdirSync(paths.run, { recursive: true });
  if (!runningDaemon(paths, 'dockerd')) {
    rmSync(paths.engineSocket, { force: true });
    startDaemon(paths, 'dockerd', 'dockerd', [
      '--data-root', paths.engineData, '--exec-root', path.join(paths.run, 'engine'), '--pidfile', path.join(paths.run, 'engine-self.pid'),
      '-H', `unix://${paths.engineSocket}`,
      // Engine 20.10's own BuildKit pulls the Dockerfile frontend too: from the harness's registry.
      '--registry-mirror', `http://127.0.0.1:${registryPort}`,
    ]);
  }
  await waitUntil('the Docker engine', () => engineAnswers(paths), 60_000, 'dockerd', paths);

  if (!runningDaemon(paths, 'registry')) {
    const registryConfig = path.join(paths.run, 'registry.yml');
    writeFileSync(registryConfig, [
      'version: 0.1',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${paths.registryData}`,
      'http:',
      `  addr: 127.0.0.1:${registryPort}`,
      'log:',
      '  level: warn',
      '',
    ].join('\n'));
    startDaemon(paths, 'registry', path.join(paths.bin, 'registry'), ['serve', registryConfig]);
  }
  await waitUntil(`the registry on 127.0.0.1:${registryPort}`, () => tcpOpen(registryPort), 30_000, 'registry', paths);

  if (!runningDaemon(paths, 'buildkitd')) {
    const buildkitConfig = path.join(paths.run, 'buildkitd.toml');
    writeFileSync(buildkitConfig, [
      `root = "${paths.buildkitData}"`,
      '[grpc]',
      `  address = ["unix://${paths.buildkitSocket}"]`,
      '[worker.oci]',
      '  enabled = true',
      '  networkMode = "host"',
      '  gc = true',
      '  gckeepstorage = "10GB"',
      '[worker.containerd]',
      '  enabled = false',
      '[registry."docker.io"]',
      `  mirrors = ["127.0.0.1:${registryPort}"]`,
      `[registry."127.0.0.1:${registryPort}"]`,
      '  http = true',
      '',
    ].join('\n'));
    rmSync(paths.buildkitSocket, { force: true });
    startDaemon(paths, 'buildkitd', path.join(paths.bin, 'buildkitd'), ['--config', buildkitConfig]);
  }
  await waitUntil('BuildKit', () => existsSync(paths.buildkitSocket), 30_000, 'buildkitd', paths);

  const env = dockerEnvironment(paths);
  const builders = await captureCommand('docker', ['buildx', 'ls', '--format', '{{.Name}}'], { env });
  if (!builders.split('\n').includes(env.BUILDX_BUILDER)) {
    await captureCommand('docker', ['buildx', 'create', '--name', env.BUILDX_BUILDER, '--driver', 'remote', `unix://${paths.buildkitSocket}`], { env });
  }
  say('docker', `Docker Engine ${await captureCommand('docker', ['version', '--format', '{{.Server.Version}}'], { env })}, ` +
    `Compose ${await captureCommand('docker', ['compose', 'version', '--short'], { env })}, BuildKit v${TOOLS.buildkit.version}, registry on 127.0.0.1:${registryPort}`);
  return env;
}

/** Stops BuildKit, the registry and the engine (the engine stops its containers first). */
export async function stopDaemons(paths) {
  for (const name of ['buildkitd', 'registry', 'dockerd']) {
    const pid = runningDaemon(paths, name);
    if (!pid) continue;
    process.kill(pid, 'SIGTERM');
    await poll(() => !isAlive(pid), { timeoutMs: 30_000 });
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}
