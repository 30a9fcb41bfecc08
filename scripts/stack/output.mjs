// Console output of the stack: one line per event, prefixed with the component, so that steps
// running in parallel (a Go build next to Kafka starting) stay readable.

import { readFileSync } from 'node:fs';

const PREFIX_WIDTH = 20;

/** Prints one line for a component, e.g. `[kafka]            started`. */
export function say(component, message) {
  console.log(`${`[${component}]`.padEnd(PREFIX_WIDTH)} ${message}`);
}

/** `1.2 s`, `3 min 05 s`: short enough for progress lines. */
export function formatDuration(ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/**
 * Runs a long step and reports its start (with the expected duration, so nobody thinks it hangs)
 * and its end (with the measured duration). Returns the step's result and records the timing.
 */
export async function step(component, description, expected, run) {
  say(component, `${description} (expected ${expected}) ...`);
  const started = performance.now();
  const result = await run();
  const elapsed = performance.now() - started;
  say(component, `${description}: done in ${formatDuration(elapsed)}`);
  timings.push({ component, description, ms: elapsed });
  return result;
}

/** Durations of the steps run by this process, for the final summary. */
export const timings = [];

/**
 * While a quiet command runs (a Go build prints nothing for minutes), print a line every interval
 * with the elapsed time and the last line of its log, so it is visibly alive.
 * Returns a function that stops the heartbeat.
 */
export function startHeartbeat(component, what, logFile, intervalMs = 30_000) {
  const started = performance.now();
  let previous = lastLine(logFile);
  const timer = setInterval(() => {
    // Quote the log only when it moved: a Go compile is silent after its downloads.
    const last = lastLine(logFile);
    const detail = last && last !== previous ? ` (last output: ${last.slice(0, 100)})` : '';
    previous = last;
    say(component, `still ${what}, ${formatDuration(performance.now() - started)} elapsed${detail}`);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function lastLine(file) {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.at(-1)?.trim() ?? '';
  } catch {
    return '';
  }
}

/** Header line that processes.mjs writes into a log before each command it starts. */
export const LOG_HEADER = '=====';

/**
 * The last `count` lines of a log file, for error messages: only from the latest command's header
 * on, since logs are appended to across runs and older output would mislead.
 */
export function tailFile(file, count = 40) {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const lastHeader = lines.findLastIndex((line) => line.startsWith(LOG_HEADER));
    return lines.slice(Math.max(lastHeader, lines.length - count, 0)).join('\n');
  } catch {
    return '(no log yet)';
  }
}

/**
 * An error that names the component and points at its log: the top level prints the message,
 * then the end of the log, so the cause is visible without opening files.
 */
export class StackError extends Error {
  constructor(component, message, { logFile, hint } = {}) {
    super(message);
    this.component = component;
    this.logFile = logFile;
    this.hint = hint;
  }
}
