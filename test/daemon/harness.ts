/**
 * @module A real `lifeline serve` process for the operations tests (issue 7): started from source
 * or as the compiled binary on port 0 with its own data directory, its stdout and stderr kept in
 * full (the logs test greps them), its port read from the `listening` log line, and helpers for
 * the bearer-key API, tokens and the database file.
 */
import { Database } from 'bun:sqlite';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { mintToken } from '../../src/realtime/auth.ts';
import {
  binaryPath,
  childEnv,
  collectText,
  parseLogLines,
  sourceCli,
  waitFor,
} from '../support/spawn.ts';

const ROOT = resolve(import.meta.dir, '..', '..');

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

/** Starts `serve --port 0` and waits until /readyz answers 200. */
export async function startServer(options: ServerOptions): Promise<OpsServer> {
  const command = options.binary ? [binaryPath()] : sourceCli();
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn(
    [...command, 'serve', '--port', '0', '--data-dir', options.dataDir],
    {
      cwd: ROOT,
      env: childEnv({
        LIFELINE_AUTH_JWT_SECRET: JWT_SECRET,
        LIFELINE_AUTH_API_KEY: API_KEY,
        LIFELINE_LOG_FORMAT: 'json',
        LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '1000',
        ...options.env,
      }),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    },
  );
  const out = { text: '' };
  const err = { text: '' };
  void collectText(proc.stdout, out);
  void collectText(proc.stderr, err);
  const logLines = () => parseLogLines(out.text);
  const waitForLog = async (msg: string, timeoutMs = 15_000) => {
    let found: Record<string, unknown> | undefined;
    await waitFor(() => {
      if (proc.exitCode !== null && found === undefined) {
        throw new Error(`daemon exited ${proc.exitCode} before "${msg}": ${err.text}${out.text}`);
      }
      found = logLines().find((line) => line.msg === msg);
      return found !== undefined;
    }, timeoutMs);
    return found as Record<string, unknown>;
  };
  let port: number;
  try {
    port = Number((await waitForLog('listening', 20_000)).port);
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (answer) => answer.status === 200,
          () => false,
        ),
      10_000,
    );
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    return proc.exited;
  };
  return {
    port,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    dataDir: options.dataDir,
    dbPath: join(options.dataDir, 'lifeline.db'),
    pid: proc.pid,
    exited: proc.exited,
    stdout: () => out.text,
    stderr: () => err.text,
    logLines,
    waitForLog,
    signal: (name) => proc.kill(name),
    stop,
    api: (method, path, body) =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    [Symbol.asyncDispose]: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await proc.exited;
    },
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
