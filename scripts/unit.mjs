#!/usr/bin/env node
// Runs the unit tests: the compiled spec of every workspace's src/**/*.spec.ts, then test/*.test.mjs,
// then the Go consumer's (go test in receipt-consumer/).
// The specs are listed from their sources: one deleted or renamed since the last build is not run
// again from what dist/ still holds.
//
//   npm run test:unit                              after npm run build
//   npm run test:unit -- --test-name-pattern=fee   node --test options come first

import { spawnSync } from 'node:child_process';
import { existsSync, globSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

// Each workspace compiles src/ to dist/ (rootDir, outDir of its tsconfig.json).
const specs = globSync('*/src/**/*.spec.ts', { cwd: ROOT })
  .sort()
  .map((source) => source.replace(/^([^/]+)\/src\//, '$1/dist/').replace(/\.ts$/, '.js'));
const unbuilt = specs.filter((spec) => !existsSync(path.join(ROOT, spec)));
if (unbuilt.length > 0) {
  console.error(`test:unit: not built, run npm run build first:\n  ${unbuilt.join('\n  ')}`);
  process.exit(1);
}
const files = [...specs, ...globSync('test/*.test.mjs', { cwd: ROOT }).sort()];

// One file per core: node --test's default leaves one core free, which on 2 cores runs them one at a
// time, while most of a file's time is spent loading modules.
const concurrency = `--test-concurrency=${availableParallelism()}`;
const node = spawnSync(process.execPath, ['--test', '--test-reporter=spec', concurrency, ...process.argv.slice(2), ...files], { cwd: ROOT, stdio: 'inherit' });
console.log('\n--- receipt-consumer: go test ./...');
const go = spawnSync('go', ['test', './...'], { cwd: path.join(ROOT, 'receipt-consumer'), stdio: 'inherit' });
if (go.error) console.error(`test:unit: go test could not run (${go.error.message}): Go 1.26 or newer must be on the PATH`);
process.exit(node.status === 0 && go.status === 0 ? 0 : 1);
