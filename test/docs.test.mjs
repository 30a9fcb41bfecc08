// Keeps the README and docs/ honest: every relative link leads somewhere, and every
// `npm run <script>` they tell the reader to type is a script of the root package.json. Comments in
// the code and configuration that point into the docs point at a page and heading that exist.
import assert from 'node:assert/strict';
import { existsSync, globSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const DOCS = path.join(ROOT, 'docs');
const PAGES = [
  path.join(ROOT, 'README.md'),
  ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => path.join(DOCS, name)),
];

/** The text with fenced code blocks blanked out: a link inside a code sample is not a link. */
function withoutCodeBlocks(markdown) {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** Inline links and images, `[text](target)` and `![alt](target "title")`, outside code spans. */
function linkTargets(markdown) {
  const prose = withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown) {
  const anchors = new Set();
  for (const [, text] of withoutCodeBlocks(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const plain = text
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*~]/g, '');
    const slug = plain.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    let anchor = slug;
    for (let repeat = 1; anchors.has(anchor); repeat += 1) anchor = `${slug}-${repeat}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** The scripts named as `npm run <name>` (or `npm test`), code blocks included: that is where they are typed. */
function npmScripts(markdown) {
  const named = [...markdown.matchAll(/\bnpm run(?:\s+(?:--silent|-s))?\s+([\w-]+(?:[:.][\w-]+)*)/g)].map((match) => match[1]);
  if (/\bnpm test\b/.test(markdown)) named.push('test');
  return named;
}

/** What is wrong with one link of `page`, or undefined. */
function brokenLink(page, target) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:...: not a file
  const [file, anchor] = target.split('#');
  const resolved = file === '' ? page : path.resolve(path.dirname(page), decodeURIComponent(file));
  if (!existsSync(resolved)) return `${target}: no such file`;
  if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) return undefined;
  const anchors = headingAnchors(readFileSync(resolved, 'utf8'));
  return anchors.has(anchor) ? undefined : `${target}: no heading with the anchor #${anchor}`;
}

function problemsOf(page, markdown, scripts) {
  return [
    ...linkTargets(markdown).map((target) => brokenLink(page, target)),
    ...npmScripts(markdown).map((name) => (name in scripts ? undefined : `npm run ${name}: no such script in package.json`)),
  ].filter(Boolean);
}

/** The files whose comments may point into the docs, as `docs/<page>.md#<heading>` from the root. */
const POINTING = globSync(['.env', 'Dockerfile', 'docker-compose*.yml', 'otel/**/*.{yaml,yml}', 'chart/**/*.{yaml,tpl}', 'scripts/**/*.mjs', 'test/**/*.mjs', '*/src/**/*.ts'], {
  cwd: ROOT,
  exclude: (name) => name === 'node_modules',
}).filter((file) => file !== path.relative(ROOT, import.meta.filename)); // its samples are broken on purpose

/** The docs a text points at: `docs/observability.md#time-in-queue`, `README.md#fork-a-service`. */
function docReferences(text) {
  return [...text.matchAll(/(?<![\w./-])((?:README|docs\/[\w-]+)\.md(?:#[\w-]+)?)/g)].map((match) => match[1]);
}

const brokenReferences = (text) => docReferences(text).map((target) => brokenLink(path.join(ROOT, 'README.md'), target)).filter(Boolean);

const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('README and docs/', () => {
  for (const page of PAGES) {
    it(`${path.relative(ROOT, page)}: every relative link exists and every npm script named is defined`, () => {
      assert.deepEqual(problemsOf(page, readFileSync(page, 'utf8'), scripts), []);
    });
  }

  it('links every page of docs/ from the README', () => {
    const linked = new Set(linkTargets(readFileSync(PAGES[0], 'utf8')).map((target) => target.split('#')[0]));
    const unlinked = PAGES.slice(1).map((page) => path.relative(ROOT, page)).filter((page) => !linked.has(page));
    assert.deepEqual(unlinked, []);
  });

  it('catches a missing file, a missing heading and an unknown script', () => {
    const page = PAGES[0];
    const broken = '[a](docs/nowhere.md) [b](docs/tests.md#no-such-heading) [c](#run-it)\n\n```bash\nnpm run stak\n```\n';
    assert.deepEqual(problemsOf(page, broken, scripts), [
      'docs/nowhere.md: no such file',
      'docs/tests.md#no-such-heading: no heading with the anchor #no-such-heading',
      'npm run stak: no such script in package.json',
    ]);
  });

  it('finds every page and heading a comment in the code or configuration points at', () => {
    assert.ok(POINTING.length > 100, `the files are found (${POINTING.length})`);
    const broken = POINTING.flatMap((file) => brokenReferences(readFileSync(path.join(ROOT, file), 'utf8')).map((problem) => `${file}: ${problem}`));
    assert.deepEqual(broken, []);
  });

  it('catches a comment that points at a missing page or heading', () => {
    const comments = '# see docs/benchmark.md#memory and README.md\n// docs/nowhere.md, docs/tests.md#gone, ../docs/api.md is a link';
    assert.deepEqual(docReferences(comments), ['docs/benchmark.md#memory', 'README.md', 'docs/nowhere.md', 'docs/tests.md#gone']);
    assert.deepEqual(brokenReferences(comments), ['docs/nowhere.md: no such file', 'docs/tests.md#gone: no heading with the anchor #gone']);
  });

  it('makes anchors the way GitHub does', () => {
    const anchors = headingAnchors('# The telemetry set-up, in one file\n## Run it\n## Run it\n### `npm run peek`: a topic\n');
    assert.deepEqual([...anchors], ['the-telemetry-set-up-in-one-file', 'run-it', 'run-it-1', 'npm-run-peek-a-topic']);
  });
});
