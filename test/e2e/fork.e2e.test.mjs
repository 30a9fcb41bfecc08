/**
 * Adding a service, the way the README's "Fork a service" says, in a scratch copy of this checkout:
 * a fourth service, enrolment-consumer, made from notifier-consumer, consuming `student-billing`
 * from the end of the topic. It is built, passes `npm run test:unit`, runs on the running native
 * stack through the stack's own start command, its consumer span shows up in the trace of a POST,
 * and it leaves alone a student billed before it started.
 * Each step is its own test: the first one that fails names the step of the sequence that broke.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAncestor, postStudent, traceIdOf, waitFor, waitForTrace } from './support.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SOURCE = 'notifier-consumer';
const SERVICE = 'enrolment-consumer';
const PORT_VARIABLE = 'ENROLMENT_PORT';
/** The business span of the copied handler, renamed so that the new service's span is recognisable. */
const SPANS = { before: 'notify student', after: 'welcome enrolled student' };

/** Runs a command in the scratch copy; returns its output, or fails with it. */
function runIn(cwd, command, args, { env = process.env, timeoutMs = 180_000 } = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  assert.equal(result.status, 0, `\`${[command, ...args].join(' ')}\` in ${cwd} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output.slice(-4000)}`);
  return output;
}

/** The checkout's files as git sees them (tracked and new, not ignored), its installed node_modules, a git repository. */
function scratchCopy() {
  const scratch = mkdtempSync(path.join(tmpdir(), 'fork-'));
  const files = runIn(ROOT, 'git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0');
  for (const file of files.filter((each) => each && existsSync(path.join(ROOT, each)))) {
    cpSync(path.join(ROOT, file), path.join(scratch, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
  runIn(scratch, 'git', ['init', '--quiet']); // a checkout, as a fork is (the static check asks git for its files)
  return scratch;
}

function edit(file, change) {
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `${file}: the edit changed nothing`);
  writeFileSync(file, after);
}

/** A TCP port nothing listens on now, for the new service (the copy's .env says 3003). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

describe(`adding ${SERVICE}, a copy of ${SOURCE}`, () => {
  let scratch;
  let stackEnv;
  let started = false;
  let failedStep;
  /** The trace of a student billed and notified before the new service started. */
  let billedBefore;

  /** One step of the sequence; after a failure the later steps fail, naming it, instead of running. */
  const step = (name, body) => it(name, async () => {
    assert.equal(failedStep, undefined, `not run: the step "${failedStep}" failed`);
    try {
      await body();
    } catch (error) {
      failedStep = name;
      throw error;
    }
  });

  before(async () => {
    scratch = scratchCopy();
    stackEnv = { ...process.env, [PORT_VARIABLE]: String(await freePort()) };
  });

  after(() => {
    if (started) runIn(scratch, process.execPath, ['scripts/stack.mjs', 'stop', SERVICE], { env: stackEnv });
    rmSync(scratch, { recursive: true, force: true });
  });

  step(`1. copy ${SOURCE}/ to ${SERVICE}/, rename it in its package.json, rename its business span, start its group at the end of the topic`, () => {
    cpSync(path.join(scratch, SOURCE), path.join(scratch, SERVICE), { recursive: true });
    edit(path.join(scratch, SERVICE, 'package.json'), (text) => text.replace(`"name": "${SOURCE}"`, `"name": "${SERVICE}"`));
    const sources = readdirSync(path.join(scratch, SERVICE, 'src'), { recursive: true }).filter((file) => file.endsWith('.ts'));
    const withSpan = sources.filter((file) => readFileSync(path.join(scratch, SERVICE, 'src', file), 'utf8').includes(`'${SPANS.before}'`));
    assert.ok(withSpan.length > 0, `a source of ${SOURCE} names the span '${SPANS.before}'`);
    for (const file of withSpan) {
      edit(path.join(scratch, SERVICE, 'src', file), (text) => text.replaceAll(`'${SPANS.before}'`, `'${SPANS.after}'`));
    }
    edit(path.join(scratch, SERVICE, 'src', 'main.ts'), (text) => text.replace('fromBeginning: true', 'fromBeginning: false'));
  });

  step('2. add it to the workspaces of the root package.json, and `npm install` to record it in package-lock.json', () => {
    edit(path.join(scratch, 'package.json'), (text) => {
      const manifest = JSON.parse(text);
      manifest.workspaces.push(SERVICE);
      return `${JSON.stringify(manifest, null, 2)}\n`;
    });
    // --package-lock-only: the copy shares the checkout's node_modules, which must stay untouched.
    runIn(scratch, 'npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund']);
    assert.ok(JSON.parse(readFileSync(path.join(scratch, 'package-lock.json'), 'utf8')).packages[SERVICE], `package-lock.json lists ${SERVICE}`);
  });

  step(`3. add its docker-compose.yml block (a copy of ${SOURCE}'s: name, group, port) and its port to .env`, () => {
    edit(path.join(scratch, 'docker-compose.yml'), (text) => {
      const start = text.indexOf(`\n  ${SOURCE}:\n`);
      assert.notEqual(start, -1, `docker-compose.yml has a ${SOURCE} block`);
      const end = text.indexOf('\n\n', start + 1);
      const block = text.slice(start, end)
        .replaceAll(SOURCE, SERVICE)
        .replaceAll('NOTIFIER_PORT', PORT_VARIABLE)
        .replaceAll('3002', '3003');
      return text.slice(0, end) + block + text.slice(end);
    });
    edit(path.join(scratch, '.env'), (text) => text.replace(/^NOTIFIER_PORT=.*$/m, (line) => `${line}\n${PORT_VARIABLE}=3003`));
  });

  step('4. npm run build', () => {
    runIn(scratch, 'npm', ['run', 'build']);
    assert.ok(existsSync(path.join(scratch, SERVICE, 'dist/main.js')), `${SERVICE}/dist/main.js was built`);
  });

  step('5. npm run test:unit passes', () => {
    // Without the variable that makes a test file report to this test runner instead of printing.
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    // The spec reporter ends with the failures in full, which runIn's message keeps.
    const output = runIn(scratch, 'npm', ['run', 'test:unit'], { env, timeoutMs: 300_000 });
    assert.match(output, /^ℹ fail 0$/m, output);
    assert.match(output, /^ℹ pass [1-9]\d*$/m, 'the unit tests ran');
  });

  step(`6. the native stack starts it (node scripts/stack.mjs start ${SERVICE})`, async () => {
    billedBefore = await postStudent({ firstname: 'Billed', lastname: 'Before' }).then(traceIdOf);
    await waitForTrace(billedBefore, (spans) => spans.some((s) => s.service === 'notifier-consumer' && s.name === 'notify student'));
    started = true;
    runIn(scratch, process.execPath, ['scripts/stack.mjs', 'start', SERVICE], { env: stackEnv });
  });

  step(`7. a POST's trace holds ${SERVICE}'s process student-billing span and its business span`, async () => {
    const consumerSpan = (spans) => spans.find((s) => s.service === SERVICE && s.kind === 'consumer' && s.name === 'process student-billing');
    // A new group starting at the end of the topic takes the offsets of its first join: a student
    // billed before that is not handled. Ready means handling: POST until one is.
    const handled = await waitFor(`${SERVICE} to handle a new student`, async () => {
      const response = await postStudent({ firstname: 'Enrolment', lastname: 'Fork' });
      assert.equal(response.status, 201, await response.text());
      try {
        return (await waitForTrace(traceIdOf(response), (spans) => consumerSpan(spans) && spans.some((s) => s.name === SPANS.after), 15_000)).spans;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 90_000, intervalMs: 0 });
    const business = handled.find((s) => s.service === SERVICE && s.name === SPANS.after);
    assert.ok(business, `${SERVICE}'s "${SPANS.after}" span is in the trace: ${handled.map((s) => `${s.name} (${s.service})`).join(', ')}`);
    assert.ok(isAncestor(handled, consumerSpan(handled), business), 'the business span runs inside the consumer span');
    const producer = handled.find((s) => s.service === 'billing-consumer' && s.kind === 'producer' && s.name === 'send student-billing');
    assert.ok(producer && isAncestor(handled, producer, consumerSpan(handled)), 'the consumer span descends from billing\'s send');
  });

  step(`8. ${SERVICE} left alone the student billed before it started (fromBeginning: false)`, async () => {
    const { spans } = await waitForTrace(billedBefore, () => true);
    assert.deepEqual(spans.filter((s) => s.service === SERVICE).map((s) => s.name), []);
  });
});
