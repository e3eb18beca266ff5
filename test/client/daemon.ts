/**
 * @module A lifeline daemon process for the client's end-to-end tests: started from source or as
 * the compiled binary on a fixed port with a data directory, so it can be killed and started
 * again at the same address.
 */
import { startServe } from '../support/serve.ts';
import { sourceCli } from '../support/spawn.ts';

/** A daemon process at a fixed address. */
export interface DaemonProcess extends AsyncDisposable {
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** SIGTERM (drain) or SIGKILL, then wait for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

/** Starts `serve` on `port` with `dataDir` and waits until /readyz answers 200 (test/support/serve.ts). */
export async function startDaemon(input: {
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  binary?: string;
  cwd?: string;
}): Promise<DaemonProcess> {
  const server = await startServe({
    command: input.binary ? [input.binary] : sourceCli(),
    port: input.port,
    dataDir: input.dataDir,
    env: { LIFELINE_LOG_LEVEL: 'warn', ...input.env },
    ...(input.cwd === undefined ? {} : { cwd: input.cwd }),
  });
  return {
    baseUrl: server.baseUrl,
    wsUrl: server.wsUrl,
    stop: async (signal = 'SIGTERM') => {
      await server.stop(signal);
    },
    stderr: server.stderr,
    [Symbol.asyncDispose]: server[Symbol.asyncDispose],
  };
}
