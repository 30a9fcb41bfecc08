// Process handling for the native stack: starting long-running components in the background with
// their own log file and pid file, running one-off commands, and stopping exactly what was started.

import { spawn, execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_HEADER, StackError, startHeartbeat } from './output.mjs';

const execFileAsync = promisify(execFile);

export function logFile(config, name) {
  return path.join(config.paths.logsDir, `${name}.log`);
}

export function pidFile(config, name) {
  return path.join(config.paths.pidsDir, `${name}.pid`);
}

export function readPid(config, name) {
  try {
    const pid = Number(readFileSync(pidFile(config, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function removePid(config, name) {
  rmSync(pidFile(config, name), { force: true });
}

/** True if the process exists and is not a zombie (a zombie has exited, only its entry is left). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false; // EPERM: it exists but belongs to another user
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Checks that a pid still runs the command the stack started, so that `down` never signals an
 * unrelated process that got the same pid after a reboot or a crash.
 * @param {{ argv: string[], cwd?: string }} expected substrings of the command line, working directory
 */
export function processMatches(pid, expected) {
  let argv;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return false;
  }
  if (!expected.argv.every((part) => argv.includes(part))) return false;
  if (expected.cwd === undefined) return true;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === expected.cwd;
  } catch {
    return false;
  }
}

/**
 * The pid of a component started by the stack, if that process is still alive and still the
 * expected command; a stale pid file is removed on the way.
 */
export function runningPid(config, component) {
  const pid = readPid(config, component.name);
  if (pid === undefined) return undefined;
  if (isAlive(pid) && processMatches(pid, component.processSignature(config))) return pid;
  removePid(config, component.name);
  return undefined;
}

/** Opens a log file for appending and writes a header, so successive runs stay distinguishable. */
function openLog(file, header) {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a');
  writeSync(fd, `\n${LOG_HEADER} ${new Date().toISOString()} ${header}\n`);
  return fd;
}

/**
 * Starts a long-running process in the background: its own process group (so Ctrl-C on `up` does
 * not take it down, and it outlives `up`), stdout and stderr appended to its log, pid in its pid file.
 * Returns the pid.
 */
export function startDaemon(config, name, { command, args, cwd, env, uid, gid }) {
  mkdirSync(config.paths.pidsDir, { recursive: true });
  const file = logFile(config, name);
  const fd = openLog(file, `${command} ${args.join(' ')}`);
  try {
    const child = spawn(command, args, {
      cwd,
      env,
      uid,
      gid,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) {
      throw new StackError(name, `could not start ${command}`, { logFile: file });
    }
    child.on('error', () => {}); // reported through the readiness wait and the log instead
    child.unref();
    writeFileSync(pidFile(config, name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a process: `signal` first, then SIGKILL if it is still alive after `timeoutMs`.
 * Returns how it ended: 'stopped' or 'killed'.
 */
export async function stopProcess(pid, { signal = 'SIGTERM', timeoutMs = 15_000 } = {}) {
  try {
    process.kill(pid, signal);
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

/**
 * Runs a command to completion with its output appended to a log file. With `heartbeat`, prints a
 * line every 30 s while it runs. Throws a StackError (with the log's tail) if it fails.
 */
export async function runCommand(component, command, args, options = {}) {
  const { cwd, env, uid, gid, log, input, heartbeat } = options;
  const fd = openLog(log, `${command} ${args.join(' ')}`);
  const stopHeartbeat = heartbeat ? startHeartbeat(component, heartbeat, log) : () => {};
  try {
    const code = await new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd,
        env,
        uid,
        gid,
        stdio: [input === undefined ? 'ignore' : 'pipe', fd, fd],
      });
      child.on('error', reject);
      child.on('close', (exitCode, signal) => resolve(exitCode ?? signal));
      if (input !== undefined) child.stdin.end(input);
    });
    if (code !== 0) {
      throw new StackError(component, `\`${command} ${args.join(' ')}\` failed (exit ${code})`, { logFile: log });
    }
  } catch (error) {
    if (error instanceof StackError) throw error;
    throw new StackError(component, `could not run ${command}: ${error.message}`, { logFile: log });
  } finally {
    stopHeartbeat();
    closeSync(fd);
  }
}

/** Runs a short command and returns its stdout (trimmed). Throws on a non-zero exit. */
export async function captureCommand(command, args, options = {}) {
  const { stdout } = await execFileAsync(command, args, { maxBuffer: 16 * 1024 * 1024, ...options });
  return stdout.trim();
}

/** Pids of a process and all its descendants (PostgreSQL runs one process per connection). */
function processTree(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process exited while we were reading /proc
    }
  }
  const tree = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop();
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function procField(file, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time in seconds (user + system) of a process and its descendants, those still running. */
export function cpuSeconds(rootPid) {
  const ticksPerSecond = 100;
  return processTree(rootPid).reduce((sum, pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, and cutime, cstime: those of children that exited (Postgres backends, say).
      return sum + (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
    } catch {
      return sum; // exited meanwhile
    }
  }, 0);
}

/**
 * Memory of a component in MB: `rss` of its main process, and `pss` of its whole process tree
 * (proportional set size: shared pages such as PostgreSQL's shared buffers are counted once, which
 * summing the RSS of every backend would not do).
 */
export function memoryMb(rootPid) {
  const pss = processTree(rootPid).reduce((sum, pid) => sum + procField(`/proc/${pid}/smaps_rollup`, 'Pss'), 0);
  return { rss: Math.round(rssMb(rootPid)), pss: Math.round(pss / 1024) };
}

/** Resident memory of one process in MB (cheap enough to sample often). */
export function rssMb(pid) {
  return procField(`/proc/${pid}/status`, 'VmRSS') / 1024;
}
