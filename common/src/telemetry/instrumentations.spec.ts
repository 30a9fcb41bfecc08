import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { INSTRUMENTED_PACKAGES, instrumentations } from './instrumentations.js';

describe('the instrumentations and the ESM loader hook', () => {
  const enabled = instrumentations({}) as InstrumentationBase[];
  after(() => enabled.forEach((instrumentation) => instrumentation.disable()));

  it('the hook wraps every package an instrumentation patches', () => {
    const patched = new Set(enabled.flatMap((instrumentation) => instrumentation.getModuleDefinitions().map((module) => module.name)));
    assert.ok(patched.size > 0);
    assert.deepEqual([...patched].filter((name) => !INSTRUMENTED_PACKAGES.includes(name)), [], 'packages missing from INSTRUMENTED_PACKAGES');
  });
});
