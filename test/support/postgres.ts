/**
 * A throwaway PostgreSQL server for tests: `initdb` and `pg_ctl` in a temp dir, run as an
 * unprivileged user when the tests run as root (PostgreSQL refuses to run as root), on 127.0.0.1
 * and a random port, trust auth, the socket inside the temp dir. One server per test file
 * (beforeAll); a fresh database per test with {@link PgServer.createDatabase}.
 *
 * Outside CI (env CI unset) the tests skip with a printed reason when the binaries are missing;
 * under CI=true {@link startPostgres} throws loudly instead.
 */

import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQL } from 'bun';
import { printErr } from '../../src/lib/log.ts';

/** The unprivileged account the server runs as when the tests run as root. */
const RUN_AS = { uid: 65534, gid: 65534, name: 'nobody' };
/** The superuser initdb creates; trust auth, so no password. */
const SUPERUSER = 'postgres';

/** A running test server. */
export interface PgServer {
  /** URL of the `postgres` maintenance database, as the superuser. */
  readonly url: string;
  readonly port: number;
  /** The data directory (cluster, socket and server log). */
  readonly dir: string;
  /** Creates an empty database from template0 and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drops a database, ending its connections first (WITH FORCE). */
  dropDatabase(name: string): Promise<void>;
  /** Ends every backend that sits in LISTEN (pg_terminate_backend); returns how many. */
  terminateListeners(): Promise<number>;
  /** Stops the server (fast shutdown); the data stays. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  startServer(): Promise<void>;
  /** {@link stopServer} then {@link startServer}. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@link startPostgres}. */
export interface StartOptions {
  /** fsync and synchronous_commit on (benchmarks). Tests default to off: faster, same semantics. */
  durable?: boolean;
}

/** Where the PostgreSQL server binaries are, or why they are not usable. */
export type PgAvailability = { ok: true; binDir: string } | { ok: false; reason: string };

/** Finds initdb/pg_ctl/postgres: PG_BIN, then Debian's /usr/lib/postgresql/<newest>/bin. */
export function findPostgres(): PgAvailability {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(root, v, 'bin'));
  }
  for (const dir of candidates) {
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)))) {
      return { ok: true, binDir: dir };
    }
  }
  return {
    ok: false,
    reason: 'PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)',
  };
}

/**
 * True when the PostgreSQL tests should run. Prints why they skip; under CI=true it never skips
 * (startPostgres then fails loudly).
 */
export function postgresTestsEnabled(suite: string): boolean {
  const found = findPostgres();
  if (found.ok || process.env.CI === 'true') return true;
  printErr(`skipping ${suite}: ${found.reason}\n`);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

async function run(cmd: string[], what: string): Promise<void> {
  const argv = isRoot()
    ? ['setpriv', `--reuid=${RUN_AS.uid}`, `--regid=${RUN_AS.gid}`, '--clear-groups', ...cmd]
    : cmd;
  const proc = Bun.spawn(argv, {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/tmp' },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${err.trim() || out.trim()}`);
}

function serverOptions(dir: string, port: number, durable: boolean): string {
  const opts = [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    `-k ${dir}`,
    '-c max_connections=200',
    '-c shared_buffers=32MB',
  ];
  if (!durable) opts.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  return opts.join(' ');
}

/**
 * Creates and starts a cluster in a new temp dir.
 * @throws Error with initdb/pg_ctl's own message (and the server log) when it cannot start.
 */
export async function startPostgres(options: StartOptions = {}): Promise<PgServer> {
  const found = findPostgres();
  if (!found.ok) throw new Error(found.reason);
  const bin = (name: string) => join(found.binDir, name);
  // The server user must reach the directory: under root, /tmp rather than a private TMPDIR.
  const dir = mkdtempSync(join(isRoot() ? '/tmp' : tmpdir(), 'lifeline-pg-'));
  if (isRoot()) chownSync(dir, RUN_AS.uid, RUN_AS.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  await run(
    [bin('initdb'), '-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync'],
    'initdb',
  );
  const port = await freePort();
  const opts = serverOptions(dir, port, options.durable ?? false);
  const startServer = async () => {
    try {
      await run([bin('pg_ctl'), '-D', data, '-l', log, '-o', opts, '-w', 'start'], 'pg_ctl start');
    } catch (error) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`${(error as Error).message}\n${tail}`);
    }
  };
  const stopServer = () =>
    run([bin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'], 'pg_ctl stop');
  await startServer();
  return makeServer({ dir, port, startServer, stopServer });
}

function urlFor(port: number, database: string): string {
  return `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
}

function makeServer(s: {
  dir: string;
  port: number;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
}): PgServer {
  const url = urlFor(s.port, 'postgres');
  let running = true;
  let removed = false;
  const admin = async <T>(use: (sql: SQL) => Promise<T>): Promise<T> => {
    const sql = new SQL({ url, max: 1, connectionTimeout: 10 });
    try {
      return await use(sql);
    } finally {
      await sql.close();
    }
  };
  return {
    url,
    port: s.port,
    dir: s.dir,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await admin((sql) => sql.unsafe(`CREATE DATABASE ${name} TEMPLATE template0`));
      return urlFor(s.port, name);
    },
    async dropDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    terminateListeners() {
      return admin(async (sql) => {
        const rows = await sql`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND query ILIKE 'listen%'`;
        return rows.length;
      });
    },
    async stopServer() {
      if (!running) return;
      await s.stopServer();
      running = false;
    },
    async startServer() {
      if (running) return;
      await s.startServer();
      running = true;
    },
    async restart() {
      await this.stopServer();
      await this.startServer();
    },
    async stop() {
      if (removed) return;
      removed = true;
      try {
        if (running) await s.stopServer();
      } finally {
        running = false;
        rmSync(s.dir, { recursive: true, force: true });
      }
    },
  };
}

/** A per-test database name that is unique within a server. */
export function databaseName(prefix = 't'): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
}
