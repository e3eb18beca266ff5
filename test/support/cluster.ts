/**
 * @module A lifeline cluster for tests (issue 9): a real PostgreSQL server (test/support/postgres.ts),
 * one fresh database, and N instances of the compiled binary (`storage.backend = "postgres"`) on
 * fixed ports, each with its own data directory, instance id `i0`, `i1`, … and the same token key
 * and API key. Instances can be killed and restarted on the same port; logs are kept in full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { mintToken } from '../../src/realtime/auth.ts';
import { databaseName, type PgServer, startPostgres } from './postgres.ts';
import {
  binaryPath,
  childEnv,
  collectText,
  freePort,
  parseLogLines,
  sourceCli,
  waitFor,
} from './spawn.ts';

const ROOT = resolve(import.meta.dir, '..', '..');

/** The HS256 secret every instance verifies tokens with. */
export const CLUSTER_JWT_SECRET = 'cluster-test-secret-0123456789abcdef-012345';
/** The bearer key of the server-to-server and admin API, the same on every instance. */
export const CLUSTER_API_KEY = 'cluster-test-api-key-5a4b3c2d1e0f98765432';

/** One running (or stopped) instance. */
export interface ClusterInstance {
  /** `i0`, `i1`, … (cluster.instance_id). */
  readonly id: string;
  /** `http://127.0.0.1:<port>`; the same across restarts. */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  /** The current process id (changes on restart). */
  readonly pid: number;
  /** Resolves with the exit code of the current process. */
  readonly exited: Promise<number>;
  /** Sends a signal to the current process (SIGKILL for a crash). */
  kill(signal?: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): void;
  /** Stops the process if it runs (SIGTERM, or `signal`), then starts it again; waits for /readyz 200. */
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stdout lines of every process of this instance, parsed as JSON. */
  logLines(): Array<Record<string, unknown>>;
  /** Everything written to stderr. */
  stderr(): string;
  /** A request with the API key; JSON bodies. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
}

/** What {@link startCluster} returns. */
export interface Cluster extends AsyncDisposable {
  readonly instances: ClusterInstance[];
  readonly pg: PgServer;
  /** URL of the cluster's database (superuser, trust auth). */
  readonly dbUrl: string;
  /** A token for `userId`, valid on every instance. */
  token(userId: string, ttlS?: number): Promise<string>;
  /** Kills every instance, stops PostgreSQL, removes the directories. Safe twice. */
  stop(): Promise<void>;
}

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** How many instances (default 2). */
  n?: number;
  /** LIFELINE_* settings for every instance, on top of the defaults. */
  env?: Record<string, string>;
  /** Per-instance settings, by index. */
  envOf?: (index: number) => Record<string, string>;
  /** Run from source instead of the compiled binary (faster to iterate; default: binary). */
  source?: boolean;
  /** Reuse a running PostgreSQL server instead of starting one (it is not stopped then). */
  pg?: PgServer;
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

interface InstanceSpec {
  id: string;
  port: number;
  dataDir: string;
  command: string[];
  env: Record<string, string>;
}

function startInstance(spec: InstanceSpec): ClusterInstance {
  const url = `http://127.0.0.1:${spec.port}`;
  const out = { text: '' };
  const err = { text: '' };
  let proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  const spawn = () => {
    proc = Bun.spawn(
      [...spec.command, 'serve', '--port', String(spec.port), '--data-dir', spec.dataDir],
      { cwd: ROOT, env: childEnv(spec.env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    void collectText(proc.stdout, out);
    void collectText(proc.stderr, err);
  };
  spawn();
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    id: spec.id,
    url,
    wsUrl: `ws://127.0.0.1:${spec.port}/ws`,
    port: spec.port,
    get pid() {
      return proc.pid;
    },
    get exited() {
      return proc.exited;
    },
    kill: (signal = 'SIGKILL') => {
      if (running()) proc.kill(signal);
    },
    async restart(signal = 'SIGTERM') {
      if (running()) proc.kill(signal);
      await proc.exited;
      spawn();
      await waitUntilReady(this, 30_000);
    },
    logLines: () => parseLogLines(out.text),
    stderr: () => err.text,
    api: (method, path, body) =>
      fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${CLUSTER_API_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
  };
}

/** Waits until the instance answers /readyz 200; throws with its stderr if it exited first. */
export async function waitUntilReady(instance: ClusterInstance, timeoutMs = 30_000): Promise<void> {
  let exited = false;
  void instance.exited.then(() => {
    exited = true;
  });
  await waitFor(async () => {
    if (exited) throw new Error(`instance ${instance.id} exited: ${instance.stderr()}`);
    return ready(instance.url);
  }, timeoutMs);
}

/** Starts PostgreSQL (unless given), a fresh database and `n` instances; waits until all are ready. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const n = options.n ?? 2;
  const ownPg = options.pg === undefined;
  const pg = options.pg ?? (await startPostgres());
  const dbUrl = await pg.createDatabase(databaseName('cluster'));
  const root = mkdtempSync(join(tmpdir(), 'lifeline-cluster-'));
  const command = options.source ? sourceCli() : [binaryPath()];
  const instances: ClusterInstance[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const instance of instances) instance.kill('SIGKILL');
    await Promise.all(instances.map((instance) => instance.exited));
    rmSync(root, { recursive: true, force: true });
    if (ownPg) await pg.stop();
  };
  try {
    for (let index = 0; index < n; index += 1) {
      const id = `i${index}`;
      const dataDir = join(root, id);
      instances.push(
        startInstance({
          id,
          port: freePort(),
          dataDir,
          command,
          env: {
            LIFELINE_STORAGE_BACKEND: 'postgres',
            LIFELINE_STORAGE_POSTGRES_URL: dbUrl,
            LIFELINE_CLUSTER_INSTANCE_ID: id,
            LIFELINE_AUTH_JWT_SECRET: CLUSTER_JWT_SECRET,
            LIFELINE_AUTH_API_KEY: CLUSTER_API_KEY,
            LIFELINE_LOG_FORMAT: 'json',
            LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '1000',
            ...options.env,
            ...options.envOf?.(index),
          },
        }),
      );
    }
    await Promise.all(instances.map((instance) => waitUntilReady(instance)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    instances,
    pg,
    dbUrl,
    token: (userId, ttlS = 600) => mintToken({ secret: CLUSTER_JWT_SECRET, userId, ttlS }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
