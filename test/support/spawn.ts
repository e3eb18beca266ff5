/**
 * Runs the CLI from source or the compiled binary with a normalised environment, reading stdout,
 * stderr and the exit code together (Bun harness pattern).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '..', '..');

/** What a finished process left behind. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Environment for child processes: no colour, UTC, no inherited LIFELINE_* settings. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('LIFELINE_') && key !== 'NOTIFY_SOCKET')
      env[key] = value;
  }
  Object.assign(env, { NO_COLOR: '1', TZ: 'UTC' });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** The compiled binary; built by `npm test` (TEST_LIFELINE_BINARY) or here on first use. */
export function binaryPath(): string {
  const fromEnv = process.env.TEST_LIFELINE_BINARY;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const path = join(ROOT, 'dist', 'lifeline');
  const build = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', path], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
  });
  if (build.exitCode !== 0) throw new Error('building the binary failed');
  process.env.TEST_LIFELINE_BINARY = path;
  return path;
}

/** Command prefix that runs the CLI from source with Bun. */
export function sourceCli(): string[] {
  return [process.execPath, join(ROOT, 'src', 'cli', 'main.ts')];
}

/** Runs a command to completion. */
export async function run(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** Finds a free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; waits on a condition, not a time. */
export async function waitFor(
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(10);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Appends everything `stream` yields to `sink.text`; resolves when the stream ends. */
export function collectText(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  return (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sink.text += decoder.decode(value, { stream: true });
    }
    sink.text += decoder.decode();
  })();
}

/** The JSON log lines of a daemon's output; a partial last line or non-JSON text is skipped. */
export function parseLogLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A partial last line; the logs test checks the format on its own.
    }
  }
  return out;
}
