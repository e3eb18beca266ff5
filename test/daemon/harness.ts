/**
 * @module A real `lifeline serve` process for the operations tests (issue 7): started from source
 * or as the compiled binary on port 0 with its own data directory, its stdout and stderr kept in
 * full (the logs test greps them), its port read from the `listening` log line, and helpers for
 * the bearer-key API, tokens and the database file.
 */
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { mintToken } from '../../src/realtime/auth.ts';
import { apiCall, startServe } from '../support/serve.ts';
import { binaryPath, sourceCli } from '../support/spawn.ts';

/**
 * The HS256 secret every ops daemon verifies tokens with (≥ 32 bytes, docs/design.md#token-rules).
 */
export const JWT_SECRET = 'ops-test-secret-0123456789abcdef-0123456789';
/** The bearer key of the server-to-server and admin API. */
export const API_KEY = 'ops-test-api-key-9f8e7d6c5b4a39281706';

/** Mints a token for `userId` with {@link JWT_SECRET}. */
export function tokenFor(userId: string, ttlS = 600): Promise<string> {
  return mintToken({ secret: JWT_SECRET, userId, ttlS });
}

/** How to start a daemon. */
export interface ServerOptions {
  dataDir: string;
  /** Run the compiled binary (default: the CLI from source). */
  binary?: boolean;
  /** LIFELINE_* settings on top of the defaults below. */
  env?: Record<string, string>;
}

/** A running daemon process. */
export interface OpsServer extends AsyncDisposable {
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly dbPath: string;
  readonly pid: number;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The stdout lines parsed as JSON (lines that are not JSON are skipped). */
  logLines(): Array<Record<string, unknown>>;
  /** Waits until a log line with this `msg` was written. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  signal(name: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): void;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number>;
  /** A request with the API key; JSON bodies. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
}

/** Starts `serve --port 0` and waits until /readyz answers 200 (test/support/serve.ts). */
export async function startServer(options: ServerOptions): Promise<OpsServer> {
  const server = await startServe({
    command: options.binary ? [binaryPath()] : sourceCli(),
    port: 0,
    dataDir: options.dataDir,
    env: {
      LIFELINE_AUTH_JWT_SECRET: JWT_SECRET,
      LIFELINE_AUTH_API_KEY: API_KEY,
      LIFELINE_LOG_FORMAT: 'json',
      LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '1000',
      ...options.env,
    },
  });
  return {
    ...server,
    dataDir: options.dataDir,
    dbPath: join(options.dataDir, 'lifeline.db'),
    signal: (name) => server.kill(name),
    stop: () => server.stop('SIGTERM'),
    api: (method, path, body) => apiCall(server.baseUrl, API_KEY, method, path, body),
  };
}

/** Opens the daemon's database file read-only (WAL readers do not block the daemon). */
export function openReadOnly(path: string): Database {
  return new Database(path, { readonly: true, strict: true });
}

/** `PRAGMA integrity_check` of a database file: `ok` when sound. */
export function integrityCheck(path: string): string {
  const db = new Database(path, { strict: true });
  try {
    const rows = db.query('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>;
    return rows.map((row) => row.integrity_check).join('\n');
  } finally {
    db.close();
  }
}

/** The source CLI or the binary, with the settings {@link startServer} uses, for one command. */
export function cliCommand(binary: boolean, args: string[]): string[] {
  return [...(binary ? [binaryPath()] : sourceCli()), ...args];
}
