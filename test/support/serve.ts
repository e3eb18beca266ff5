/**
 * @module The one way tests start a real `lifeline serve` process: from source or the compiled
 * binary, on a fixed port or on port 0 (the port is then read from the `listening` log line, which
 * needs `LIFELINE_LOG_FORMAT=json`), with stdout and stderr kept in full, ready once `/readyz`
 * answers 200. The daemon harness (test/daemon/harness.ts), the cluster (test/support/cluster.ts)
 * and the client's daemon (test/client/daemon.ts) build on it.
 */
import { resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { childEnv, collectText, parseLogLines, waitFor } from './spawn.ts';

const ROOT = resolve(import.meta.dir, '..', '..');

/** How to start one `serve` process. */
export interface ServeOptions {
  /** The CLI command prefix: `sourceCli()` or `[binaryPath()]`. */
  command: string[];
  /** A fixed port, or 0 to let the daemon pick one. */
  port: number;
  dataDir: string;
  /** The child's extra environment (on top of `childEnv()`). */
  env?: Record<string, string>;
  cwd?: string;
  /** Where stdout and stderr are appended (default: fresh); a restarted instance keeps one pair. */
  sinks?: { out: { text: string }; err: { text: string } };
  /** How long to wait for readiness (default 20 s). */
  readyTimeoutMs?: number;
}

/** A running (or exited) `serve` process. */
export interface ServeProcess extends AsyncDisposable {
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  stdout(): string;
  stderr(): string;
  /** The stdout lines parsed as JSON (lines that are not JSON are skipped). */
  logLines(): Array<Record<string, unknown>>;
  /** Waits until a log line with this `msg` was written; throws if the process exits first. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  running(): boolean;
  /** Sends `signal` if the process still runs. */
  kill(signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): void;
  /** Sends `signal` if the process runs, then waits for the exit; resolves with the exit code. */
  stop(signal?: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): Promise<number>;
}

/** Starts `serve` and resolves once `/readyz` answers 200 (kills the process if it never does). */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const args = ['serve', '--port', String(options.port), '--data-dir', options.dataDir];
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn([...options.command, ...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const { out, err } = options.sinks ?? { out: { text: '' }, err: { text: '' } };
  void collectText(proc.stdout, out);
  void collectText(proc.stderr, err);
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const logLines = () => parseLogLines(out.text);
  const waitForLog = async (msg: string, timeoutMs = 15_000) => {
    let found: Record<string, unknown> | undefined;
    await waitFor(() => {
      found = logLines().find((line) => line.msg === msg);
      if (found === undefined && !running())
        throw new Error(`daemon exited ${proc.exitCode} before "${msg}": ${err.text}${out.text}`);
      return found !== undefined;
    }, timeoutMs);
    return found as Record<string, unknown>;
  };
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  let port = options.port;
  try {
    if (port === 0) port = Number((await waitForLog('listening', timeoutMs)).port);
    await waitFor(async () => {
      if (!running()) throw new Error(`daemon exited ${proc.exitCode}: ${err.text}`);
      return fetch(`http://127.0.0.1:${port}/readyz`).then(
        (answer) => answer.status === 200,
        () => false,
      );
    }, timeoutMs);
  } catch (error) {
    proc.kill('SIGKILL');
    await proc.exited;
    throw error;
  }
  const stop = async (signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL' = 'SIGTERM') => {
    if (running()) proc.kill(signal);
    return proc.exited;
  };
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pid: proc.pid,
    exited: proc.exited,
    stdout: () => out.text,
    stderr: () => err.text,
    logLines,
    waitForLog,
    running,
    kill: (signal) => {
      if (running()) proc.kill(signal);
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop('SIGKILL');
    },
  };
}

/** A request to `baseUrl` with the bearer `apiKey`; a body is sent as JSON. */
export function apiCall(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
