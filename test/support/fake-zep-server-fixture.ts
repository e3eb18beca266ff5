/**
 * @module The fake Zep server as a standalone process, for end-to-end tests of the compiled binary
 * (the binary cannot share memory with the test). Run it, read its URL from the first stdout line,
 * and steer it with JSON lines on stdin; {@link spawnFakeZepProcess} does all three.
 *
 *   bun test/support/fake-zep-server-fixture.ts --mode v2-ce [--port 0] [--api-key K]
 *     [--v1-bearer T] [--fault '{"kind":"status","status":503}'] [--validate]
 *
 * stdin commands, one JSON object per line, each answered by one JSON line on stdout:
 * `{"cmd":"setFault","fault":{…}|null}`, `{"cmd":"heal"}`, `{"cmd":"requests"}`,
 * `{"cmd":"clearRequests"}`, `{"cmd":"deliveries"}`, `{"cmd":"stats"}`, `{"cmd":"stop"}`.
 * The process exits on SIGTERM/SIGINT, on `stop`, and when its parent dies.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import type { FakeZep, Fault, ZepMode } from './fake-zep.ts';
import { startFakeZep } from './fake-zep.ts';

const MODES: readonly ZepMode[] = ['v1', 'v1-legacy-404', 'v2-ce', 'v2-cloud', 'v3'];

function write(value: unknown) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Answers one control command. */
async function runCommand(zep: FakeZep, command: { cmd?: string; fault?: Fault | null }) {
  switch (command.cmd) {
    case 'setFault':
      await zep.setFault(command.fault ?? null);
      return { ok: true };
    case 'heal':
      await zep.heal();
      return { ok: true };
    case 'requests':
      return { ok: true, requests: zep.requests() };
    case 'clearRequests':
      zep.clearRequests();
      return { ok: true };
    case 'deliveries':
      return { ok: true, deliveries: zep.deliveries(), duplicates: zep.duplicates() };
    case 'stats':
      return {
        ok: true,
        inFlight: zep.inFlight,
        peakInFlight: zep.peakInFlight,
        openConnections: zep.openConnections,
        requests: zep.requests().length,
        duplicates: zep.duplicates(),
      };
    case 'stop':
      await zep.stop();
      write({ ok: true });
      process.exit(0);
      break;
    default:
      return { ok: false, error: `unknown cmd ${String(command.cmd)}` };
  }
  return { ok: false };
}

async function main() {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'v1' },
      port: { type: 'string', default: '0' },
      'api-key': { type: 'string' },
      'v1-bearer': { type: 'string' },
      fault: { type: 'string' },
      validate: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode as ZepMode;
  if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);
  const zep = await startFakeZep({
    mode,
    port: Number(values.port),
    apiKey: values['api-key'],
    v1Bearer: values['v1-bearer'],
    validate: values.validate,
  });
  if (values.fault) await zep.setFault(JSON.parse(values.fault) as Fault);
  process.stdout.write(`${zep.url}\n`);
  const shutdown = () => void zep.stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && shutdown(), 500).unref();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    try {
      write(await runCommand(zep, JSON.parse(line)));
    } catch (error) {
      write({ ok: false, error: String(error) });
    }
  }
}

/** A fake Zep server in a child process, with its control channel. */
export interface FakeZepProcess extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
  /** Sends one control command and resolves with its JSON answer. */
  command(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Spawns the fixture with `bun` and waits for its URL.
 * @throws when the child exits before printing its URL.
 */
export async function spawnFakeZepProcess(args: string[]): Promise<FakeZepProcess> {
  const child = Bun.spawn([process.execPath, import.meta.path, ...args], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const lines = createInterface({
    input: Readable.fromWeb(child.stdout as unknown as NodeWebStream<Uint8Array>),
  });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error(`fake Zep fixture exited early (code ${await child.exited})`);
  let queue = Promise.resolve<Record<string, unknown>>({});
  const command = (cmd: Record<string, unknown>) => {
    queue = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      await child.stdin.flush();
      const next = await iterator.next();
      return next.done ? { ok: false, error: 'fixture closed' } : JSON.parse(next.value);
    });
    return queue;
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await child.exited;
  };
  return { url: first.value, pid: child.pid, command, stop, [Symbol.asyncDispose]: stop };
}

if (import.meta.main) await main();
