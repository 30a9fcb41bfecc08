// controlsTheStack (scripts/lib/e2e-files.mjs): which end-to-end files run alone, because they stop or
// restart a component, and which run side by side (scripts/e2e.mjs).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { controlsTheStack, e2eTestFiles } from '../scripts/lib/e2e-files.mjs';

const folder = mkdtempSync(path.join(tmpdir(), 'e2e-files-'));
/** A test file with `source`, by its absolute path. */
function testFile(name, source) {
  const file = path.join(folder, name);
  writeFileSync(file, source);
  return file;
}

test('a file that imports a way to stop, start or reconfigure a component runs alone, on one line or several', () => {
  assert.equal(controlsTheStack(testFile('one-line.mjs', "import { postStudent, stop } from './support.mjs';\n")), true);
  assert.equal(controlsTheStack(testFile('several.mjs', "import {\n  env,\n  restartBillingWithDelay,\n} from '../../test/e2e/support.mjs';\n")), true);
  assert.equal(controlsTheStack(testFile('no-wait.mjs', "import { startNoWait } from './support.mjs';\n")), true);
});

test('a file that only posts and reads runs side by side, whatever else it names', () => {
  assert.equal(controlsTheStack(testFile('reads.mjs', "import { postStudent, waitForTrace } from './support.mjs';\n// stop('kafka') in a comment\n")), false);
  assert.equal(controlsTheStack(testFile('elsewhere.mjs', "import { stop } from './other.mjs';\n")), false);
});

test("the suite's files that stop a component are among those that run alone", () => {
  const alone = e2eTestFiles().filter(controlsTheStack).map((file) => path.basename(file));
  for (const name of ['delivery.e2e.test.mjs', 'outage.e2e.test.mjs', 'sampling.e2e.test.mjs', 'trace.e2e.test.mjs']) {
    assert.ok(alone.includes(name), `${name} runs alone`);
  }
  assert.ok(!alone.includes('conventions.e2e.test.mjs'), 'conventions.e2e runs side by side');
});
