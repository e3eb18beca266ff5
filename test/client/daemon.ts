/**
 * @module A lifeline daemon process for the client's end-to-end tests: started from source or as
 * the compiled binary on a fixed port with a data directory, so it can be killed and started
 * again at the same address. Also the skip condition for while the daemon does not yet serve
 * `/ws` and the client assets.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { childEnv, sourceCli, waitFor } from '../support/spawn.ts';

const ROOT = resolve(import.meta.dir, '..', '..');

/**
 * Why the daemon cannot run these tests yet (undefined when it can): it must mount the realtime
 * plugin and `clientAssetRoutes` (src/daemon/build.ts).
 */
export function daemonNotReady(): string | undefined {
  const parts = readFileSync(join(ROOT, 'src', 'daemon', 'build.ts'), 'utf8');
  if (!parts.includes('createRealtime'))
    return 'the daemon does not mount /ws yet (createRealtime)';
  if (!parts.includes('clientAssetRoutes')) return 'the daemon does not serve /client.js yet';
  return undefined;
}

/** A daemon process at a fixed address. */
export interface DaemonProcess extends AsyncDisposable {
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** SIGTERM (drain) or SIGKILL, then wait for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

/** Starts `serve` on `port` with `dataDir` and waits until /readyz answers 200. */
export async function startDaemon(input: {
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  binary?: string;
  cwd?: string;
}): Promise<DaemonProcess> {
  const command = input.binary ? [input.binary] : sourceCli();
  const args = ['serve', '--port', String(input.port), '--data-dir', input.dataDir];
  const proc: Subprocess<'ignore', 'ignore', 'pipe'> = Bun.spawn([...command, ...args], {
    cwd: input.cwd ?? ROOT,
    env: childEnv({ LIFELINE_LOG_LEVEL: 'warn', ...input.env }),
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let errText = '';
  void (async () => {
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      errText += decoder.decode(value);
    }
  })();
  const baseUrl = `http://127.0.0.1:${input.port}`;
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}: ${errText}`);
      return fetch(`${baseUrl}/readyz`).then(
        (answer) => answer.status === 200,
        () => false,
      );
    }, 20_000);
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await proc.exited;
  };
  return {
    baseUrl,
    wsUrl: `ws://127.0.0.1:${input.port}/ws`,
    stop,
    stderr: () => errText,
    [Symbol.asyncDispose]: () => stop('SIGKILL'),
  };
}
