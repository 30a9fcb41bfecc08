// The end-to-end test files: the suite's own, test/e2e/, and each workspace's, <workspace>/test/,
// where a test of one service's internals sits beside its code. In file name order, whatever the
// folder: the order they run in, one after the other on the one stack.

import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The files, relative to the checkout's root. */
export function e2eTestFiles() {
  const { workspaces } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const patterns = ['test/e2e/*.e2e.test.mjs', ...workspaces.map((workspace) => `${workspace}/test/*.e2e.test.mjs`)];
  const name = (file) => path.basename(file);
  return globSync(patterns, { cwd: ROOT }).sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
