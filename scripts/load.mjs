#!/usr/bin/env node
// Posts students at a fixed rate, to fill Jaeger's search with traces worth looking at.
//
//   npm run load                                 20 students a second for 60 s
//   npm run load -- --rate 50 --duration 30
//
// The API from API_URL, or the native stack's config. Open loop: see scripts/lib/load.mjs.

import { parseArgs } from 'node:util';
import { endProgressLine, openLoop, progressLine, summarize } from './lib/load.mjs';
import { loadStackConfig } from './stack/config.mjs';

const USAGE = 'usage: npm run load -- [--rate <per second, 1-1000>] [--duration <seconds, 1-3600>]';

let rate;
let seconds;
try {
  const { values } = parseArgs({ options: { rate: { type: 'string', default: '20' }, duration: { type: 'string', default: '60' } } });
  [rate, seconds] = [Number(values.rate), Number(values.duration)];
  if (!(rate >= 1 && rate <= 1000 && seconds >= 1 && seconds <= 3600)) throw new Error(USAGE);
} catch {
  console.error(USAGE);
  process.exit(2);
}

const apiUrl = process.env.API_URL ?? `http://127.0.0.1:${loadStackConfig().ports.api}`;
console.log(`load: ${rate} POST /api/v1/students a second for ${seconds} s to ${apiUrl}`);
const results = await openLoop({ apiUrl, rate, seconds, onProgress: progressLine('load') });
endProgressLine();
const summary = summarize(results, seconds);
const statuses = Object.entries(summary.statuses).map(([status, n]) => `${n} × ${status}`).join(', ');
console.log(`load: ${summary.count} requests (${statuses}); latency p50 ${summary.p50.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms, max ${summary.max.toFixed(1)} ms`);
if (summary.ok !== summary.count) process.exitCode = 1;
