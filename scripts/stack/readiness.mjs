// Readiness checks: every wait is bounded polling of something that proves the component works
// (a port, a health endpoint, pg_isready, an API answer), never a fixed sleep.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './output.mjs';
import { isAlive } from './processes.mjs';

/**
 * Polls `probe` until it returns a truthy value: `{ result }`, or `{ timedOut: true, lastError }`
 * after `timeoutMs`. `beforeRetry` may throw to give up early. The end-to-end tests wait with it too.
 */
export async function poll(probe, { timeoutMs, intervalMs = 250, beforeRetry = () => {} }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const result = await probe();
      if (result) return { result };
    } catch (error) {
      lastError = error;
    }
    beforeRetry();
    await sleep(intervalMs);
  }
  return { timedOut: true, lastError };
}

/**
 * Waits for a component: fails fast if the process being waited for has exited, and after
 * `timeoutMs` otherwise; the error names the component and what was waited for, and carries the log
 * file for the caller to print.
 */
export async function waitFor(component, what, probe, { timeoutMs, intervalMs, pid, logFile }) {
  const outcome = await poll(probe, {
    timeoutMs,
    intervalMs,
    beforeRetry: () => {
      if (pid !== undefined && !isAlive(pid)) throw new StackError(component, `exited while waiting for ${what}`, { logFile });
    },
  });
  if (!outcome.timedOut) return outcome.result;
  const detail = outcome.lastError ? ` (last error: ${outcome.lastError.message})` : '';
  throw new StackError(component, `timed out after ${timeoutMs / 1000} s waiting for ${what}${detail}`, { logFile });
}

/** True if something accepts TCP connections on host:port. */
export function tcpOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** GETs a URL and returns the response status (0 if nothing answered). */
export async function httpStatus(url, timeoutMs = 2000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** GETs a URL and returns its JSON body if it answered 200 with JSON, else undefined. */
export async function httpJson(url, timeoutMs = 2000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) return undefined;
    return await response.json();
  } catch {
    return undefined;
  }
}

/**
 * Refuses to start a component whose port is already taken by a process the stack did not start
 * (a system PostgreSQL on 5432, a compose stack still up...), with a message saying how to fix it.
 */
export async function assertPortsFree(component, ports) {
  for (const { port, envVar } of ports) {
    if (await tcpOpen(port)) {
      const override = envVar ? `, or choose another port with ${envVar}=<port>` : '';
      throw new StackError(
        component,
        `port ${port} on 127.0.0.1 is already in use by a process this stack did not start: stop it${override}`,
      );
    }
  }
}
