/**
 * @module A lifeline cluster for tests (issue 9): a real PostgreSQL server (test/support/postgres.ts),
 * one fresh database, and N instances of the compiled binary (`storage.backend = "postgres"`) on
 * fixed ports, each with its own data directory, instance id `i0`, `i1`, … and the same token key
 * and API key. Instances can be killed and restarted on the same port; logs are kept in full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../src/realtime/auth.ts';
import { databaseName, type PgServer, startPostgres } from './postgres.ts';
import { apiCall, type ServeProcess, startServe } from './serve.ts';
import { binaryPath, freePort, parseLogLines, sourceCli } from './spawn.ts';

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

interface InstanceSpec {
  id: string;
  port: number;
  dataDir: string;
  command: string[];
  env: Record<string, string>;
}

/** Starts one instance (test/support/serve.ts) and resolves once it answers /readyz 200. */
async function startInstance(spec: InstanceSpec): Promise<ClusterInstance> {
  const sinks = { out: { text: '' }, err: { text: '' } };
  const launch = () =>
    startServe({ ...spec, sinks, readyTimeoutMs: 30_000 }).catch((error: unknown) => {
      throw new Error(`instance ${spec.id}: ${String(error)}`);
    });
  let server: ServeProcess = await launch();
  return {
    id: spec.id,
    url: server.baseUrl,
    wsUrl: server.wsUrl,
    port: spec.port,
    get pid() {
      return server.pid;
    },
    get exited() {
      return server.exited;
    },
    kill: (signal = 'SIGKILL') => server.kill(signal),
    async restart(signal = 'SIGTERM') {
      await server.stop(signal);
      server = await launch();
    },
    logLines: () => parseLogLines(sinks.out.text),
    stderr: () => sinks.err.text,
    api: (method, path, body) => apiCall(server.baseUrl, CLUSTER_API_KEY, method, path, body),
  };
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
    const started = await Promise.allSettled(
      Array.from({ length: n }, (_, index) =>
        startInstance({
          id: `i${index}`,
          port: freePort(),
          dataDir: join(root, `i${index}`),
          command,
          env: {
            LIFELINE_STORAGE_BACKEND: 'postgres',
            LIFELINE_STORAGE_POSTGRES_URL: dbUrl,
            LIFELINE_CLUSTER_INSTANCE_ID: `i${index}`,
            LIFELINE_AUTH_JWT_SECRET: CLUSTER_JWT_SECRET,
            LIFELINE_AUTH_API_KEY: CLUSTER_API_KEY,
            LIFELINE_LOG_FORMAT: 'json',
            LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '1000',
            ...options.env,
            ...options.envOf?.(index),
          },
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') instances.push(result.value);
    const failed = started.find(
      (result): result is PromiseRejectedResult => result.status === 'rejected',
    );
    if (failed) throw failed.reason;
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
