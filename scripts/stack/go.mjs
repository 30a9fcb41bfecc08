// Programs and files taken from the Go module proxy, cached in the stack's cache folder: the native
// stack's Prometheus and Jaeger, and the tools that check the Helm chart (Helm, the schemas).

import { chmodSync, cpSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { step } from './output.mjs';
import { captureCommand, logFile, runCommand } from './processes.mjs';

/**
 * Builds `binary` once with `go install <module>@v<version>` (the `tags` are build tags). The
 * program is installed into a temporary folder and moved into place when complete, so an
 * interrupted build is never taken for a finished one.
 */
export async function installGoBinary(config, component, { module, version, binary, tags = [], expected }) {
  const home = path.dirname(binary);
  const temporary = path.join(home, `bin-${process.pid}`);
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  const target = `${module}@v${version}`;
  await step(component, `compiling ${target}`, expected, () =>
    runCommand(component, 'go', ['install', ...(tags.length > 0 ? ['-tags', tags.join(',')] : []), '-trimpath', '-ldflags=-s -w', target], {
      cwd: config.paths.cacheDir,
      env: { ...process.env, GOBIN: temporary },
      log: logFile(config, `build-${component}`),
      heartbeat: `compiling ${path.basename(module)}`,
    }),
  );
  renameSync(path.join(temporary, path.basename(module)), binary);
  rmSync(temporary, { recursive: true, force: true });
}

/**
 * Downloads one Go module (checked against the checksum database) into the Go module cache and
 * returns its folder there, which is read-only. Nothing is built.
 */
export async function downloadGoModule(module, version) {
  const info = JSON.parse(await captureCommand('go', ['mod', 'download', '-json', `${module}@v${version}`]));
  if (info.Error) throw new Error(`go mod download ${module}@v${version}: ${info.Error}`);
  return info.Dir;
}

/** The module cache is read-only; a build as the main module (replace or exclude directives) needs a writable copy. */
function makeWritable(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(child);
    else if (entry.isFile()) chmodSync(child, 0o644);
  }
}

/** Copies a downloaded module (`downloadGoModule`'s folder) to `target`, writable, replacing what was there. */
export function writableCopy(moduleDir, target) {
  rmSync(target, { recursive: true, force: true });
  cpSync(moduleDir, target, { recursive: true });
  makeWritable(target);
  return target;
}
