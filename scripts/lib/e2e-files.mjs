// The end-to-end test files: the suite's own, test/e2e/, and each workspace's, <workspace>/test/,
// where a test of one service's internals sits beside its code. In file name order, whatever the
// folder.

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

/** What test/e2e/support.mjs gives a test to stop, start or reconfigure the stack's components. */
const STACK_CONTROLS = new Set(['stop', 'start', 'startNoWait', 'startWithTailSampling', 'restartBillingWithDelay']);

/**
 * Whether a test file stops or restarts components of the stack (it imports one of STACK_CONTROLS
 * from support.mjs): it then runs alone, since the tests running beside it would see them go. The
 * others only add their own students and traces, and run side by side.
 */
export function controlsTheStack(file) {
  const source = readFileSync(path.resolve(ROOT, file), 'utf8');
  const imported = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'[^']*\/support\.mjs'/g)]
    .flatMap(([, names]) => names.split(',').map((name) => name.trim()));
  return imported.some((name) => STACK_CONTROLS.has(name));
}
