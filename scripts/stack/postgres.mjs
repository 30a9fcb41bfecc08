// PostgreSQL for the native stack: the machine's own server binaries (same major version as the
// compose image, POSTGRES_VERSION in .env) with a data directory that belongs to this checkout.

import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StackError, say, step } from './output.mjs';
import { captureCommand, logFile, runCommand, startDaemon } from './processes.mjs';
import { waitFor } from './readiness.mjs';

const SERVER_BINARIES = ['postgres', 'initdb', 'pg_isready', 'psql'];
const INSTALL_HINT = 'install the server with `apt-get install -y postgresql` (Debian/Ubuntu)';
// A Unix socket path is limited to 107 bytes; keep a margin for `/.s.PGSQL.<port>`.
const MAX_SOCKET_DIR_LENGTH = 90;

// ---------------------------------------------------------------------------------------------
// Server binaries

function majorOf(version) {
  return version.split('.')[0];
}

function hasServerBinaries(dir) {
  return SERVER_BINARIES.every((binary) => existsSync(path.join(dir, binary)));
}

function candidateBinDirs(major) {
  const candidates = [`/usr/lib/postgresql/${major}/bin`];
  const fromPgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromPgConfig.status === 0) candidates.push(fromPgConfig.stdout.trim());
  return candidates;
}

/**
 * Finds the server binaries of the major version .env asks for. Debian installs each major version
 * side by side under /usr/lib/postgresql/<major>/bin; elsewhere `pg_config --bindir` knows.
 * Returns { binDir, version } or throws with an install hint.
 */
export function findPostgresBinaries(config) {
  const wanted = majorOf(config.versions.postgres);
  const found = [];
  for (const dir of candidateBinDirs(wanted)) {
    if (!hasServerBinaries(dir)) continue;
    const output = spawnSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const version = /(\d+(?:\.\d+)?)/.exec(output)?.[1];
    if (version && majorOf(version) === wanted) return { binDir: dir, version };
    if (version) found.push(`${version} in ${dir}`);
  }
  const seen = found.length > 0 ? ` Found only PostgreSQL ${found.join(', ')}.` : '';
  throw new StackError(
    'postgres',
    `POSTGRES_VERSION=${config.versions.postgres} in .env needs the PostgreSQL ${wanted} server binaries ` +
      `(${SERVER_BINARIES.join(', ')}), as the compose image runs that major version.${seen}`,
    { hint: `${INSTALL_HINT.replace('postgresql', `postgresql-${wanted}`)}, or set POSTGRES_VERSION to the installed version` },
  );
}

// ---------------------------------------------------------------------------------------------
// The operating-system user that runs the server

/**
 * PostgreSQL refuses to run as root. When the stack runs as root, initdb and postgres run as the
 * `postgres` user that Debian's package creates; otherwise as the current user.
 * Returns { uid, gid } for child_process options, or {} when no switch is needed.
 */
function serverUser() {
  if (process.getuid() !== 0) return {};
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'postgres');
  if (!entry) {
    throw new StackError('postgres', 'running as root, but there is no `postgres` user to run the server as', {
      hint: `${INSTALL_HINT} (it creates the user), or run the stack as a normal user`,
    });
  }
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** True if `user` can create files in `dir` (every parent must be searchable by it). */
function writableBy(user, dir) {
  if (user.uid === undefined) return true;
  return spawnSync('test', ['-w', dir, '-a', '-x', dir], user).status === 0;
}

/**
 * Where the server keeps its files. Normally .stack/postgres in the checkout. When the server runs
 * as the `postgres` user and that user cannot reach the checkout (e.g. it lives in /root, mode 700),
 * or the socket path would be too long, the directory moves to the system temp dir, one folder per
 * checkout; `status` and the summary print the path.
 */
function postgresDirs(config, user) {
  const preferred = path.join(config.paths.stateDir, 'postgres');
  const shortEnough = path.join(preferred, 'socket').length <= MAX_SOCKET_DIR_LENGTH;
  const base = shortEnough && usableBy(user, preferred) ? preferred : fallbackDir(config);
  return { base, data: path.join(base, 'data'), socket: path.join(base, 'socket') };
}

/** Creates `dir` for the server user and checks that this user can actually work in it. */
function usableBy(user, dir) {
  ensureOwnedDir(dir, user);
  return writableBy(user, dir);
}

function fallbackDir(config) {
  const id = createHash('sha256').update(config.paths.root).digest('hex').slice(0, 12);
  return path.join(tmpdir(), `nestjs-kafka-tracing-${id}`, 'postgres');
}

/** A 0700 directory owned by the server user (PostgreSQL insists on it for the data directory). */
function ensureOwnedDir(dir, user) {
  mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 }); // parents stay searchable
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
}

// ---------------------------------------------------------------------------------------------
// Cluster initialisation and database

/**
 * Creates the cluster once. initdb writes into a temporary directory that is renamed when it has
 * finished, so a half-initialised directory is never started. Socket connections are trusted, so
 * the stack can create the role without a superuser password: the socket directory is 0700, only
 * the server's user (and root) can reach it. TCP connections need the password, as in compose.
 */
async function initClusterOnce(config, bin, dirs, user) {
  if (existsSync(path.join(dirs.data, 'PG_VERSION'))) return;
  const temporary = `${dirs.data}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  ensureOwnedDir(dirs.base, user);
  await step('postgres', 'initialising the database cluster (initdb)', '~2 s', () =>
    runCommand('postgres', path.join(bin.binDir, 'initdb'), [
      '--pgdata', temporary,
      '--username', 'postgres',
      '--auth-local', 'trust',
      '--auth-host', 'scram-sha-256',
      '--encoding', 'UTF8',
      '--locale', 'C',
      '--no-instructions',
    ], { cwd: dirs.base, log: logFile(config, 'postgres-setup'), ...user }),
  );
  renameSync(temporary, dirs.data);
}

/**
 * Creates (or updates) the application role and database from POSTGRES_USER/PASSWORD/DB.
 * Idempotent: psql's \gexec only runs the statements the SELECTs produce. The values travel as
 * environment variables read with \getenv (psql 15+), so the password appears neither on a command
 * line nor in a log, and :'name' quotes them: never pasted into SQL.
 */
const ROLE_AND_DATABASE_SQL = `
\\getenv app_user STACK_APP_USER
\\getenv app_password STACK_APP_PASSWORD
\\getenv app_db STACK_APP_DB
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'app_user', :'app_password') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db') \\gexec
\\connect :"app_db"
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
`;

async function ensureRoleAndDatabase(config) {
  const { bin, dirs, user } = context(config);
  await runCommand('postgres', path.join(bin.binDir, 'psql'), [
    '--no-psqlrc', '--quiet',
    '--host', dirs.socket,
    '--port', String(config.ports.postgres),
    '--username', 'postgres',
    '--dbname', 'postgres',
    '--set', 'ON_ERROR_STOP=1',
  ], {
    cwd: dirs.base,
    env: {
      ...process.env,
      STACK_APP_USER: config.postgres.user,
      STACK_APP_PASSWORD: config.postgres.password,
      STACK_APP_DB: config.postgres.db,
    },
    log: logFile(config, 'postgres-setup'),
    input: ROLE_AND_DATABASE_SQL,
    ...user,
  });
}

/** pg_isready over TCP on 127.0.0.1: the same path the services use. */
async function acceptsConnections(config) {
  const { bin } = context(config);
  try {
    await captureCommand(path.join(bin.binDir, 'pg_isready'), [
      '--host', '127.0.0.1', '--port', String(config.ports.postgres), '--timeout', '2',
    ]);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Component

const contexts = new WeakMap();

/** Binaries, directories and OS user, resolved once per configuration. */
function context(config) {
  if (!contexts.has(config)) {
    const bin = findPostgresBinaries(config);
    const user = serverUser();
    contexts.set(config, { bin, user, dirs: postgresDirs(config, user) });
  }
  return contexts.get(config);
}

export function postgresDataDir(config) {
  return context(config).dirs.data;
}

export const postgres = {
  name: 'postgres',
  describe: (config) =>
    `postgres://${config.postgres.user}@127.0.0.1:${config.ports.postgres}/${config.postgres.db} (data ${postgresDataDir(config)})`,
  ports: (config) => [{ port: config.ports.postgres, envVar: 'POSTGRES_PORT' }],
  processSignature: (config) => ({ argv: ['postgres', `-D ${postgresDataDir(config)}`] }),
  expectedStart: '~2 s, plus initdb the first time',
  // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to disconnect.
  stopSignal: 'SIGINT',

  async start(config) {
    const { bin, dirs, user } = context(config);
    if (dirs.base !== path.join(config.paths.stateDir, 'postgres')) {
      say('postgres', `the postgres user cannot use the checkout: data directory is ${dirs.base}`);
    }
    await initClusterOnce(config, bin, dirs, user);
    ensureOwnedDir(dirs.socket, user);
    return startDaemon(config, 'postgres', {
      command: path.join(bin.binDir, 'postgres'),
      args: [
        '-D', dirs.data,
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `port=${config.ports.postgres}`,
        // Socket inside the stack's directory: no clash with a system server in /var/run/postgresql.
        '-c', `unix_socket_directories=${dirs.socket}`,
        // Log to stderr, which startDaemon sends to .stack/logs/postgres.log.
        '-c', 'logging_collector=off',
        // Counts every statement the services run (pg_stat_statements): `npm run bench` reads it.
        '-c', 'shared_preload_libraries=pg_stat_statements',
      ],
      cwd: dirs.base,
      env: { ...process.env, LC_ALL: 'C' },
      ...user,
    });
  },

  async waitReady(config, pid) {
    await waitFor('postgres', `pg_isready on 127.0.0.1:${config.ports.postgres}`, () => acceptsConnections(config), {
      timeoutMs: 30_000, pid, logFile: logFile(config, 'postgres'),
    });
  },

  afterReady: ensureRoleAndDatabase,

  isHealthy: acceptsConnections,
};
