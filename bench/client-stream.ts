/**
 * Streaming replies through the client SDK (issue 17): N users (default 1,000), each with one
 * client from client/index.ts in this process, send one message at once to the compiled binary,
 * whose HTTP assistant is the paced backend of bench/assistant-backend.ts (`deltas` text-deltas per
 * reply, each stamped with its write time). Every client consumes its reply through the state:
 * a `subscribe` listener reads the reply's text on each change event and takes the stamps of the
 * deltas it shows for the first time. Measured per way of consuming, one after the other against
 * the same daemon and backend (fresh users each time):
 *
 * - `raw`: the baseline — the same users reading `reply.delta` frames off their own WebSocket
 *   (bench/assistant-tabs.ts `LifelineTab`), no SDK, no state;
 * - `sync`: the SDK with batching off (a `scheduleFrame` that calls back at once: one change event
 *   per delta);
 * - `default`: the SDK's default outside browsers (the end of the task, `queueMicrotask`);
 * - `frame16`: the SDK with a 16 ms frame (`setTimeout(…, 16)`, what `requestAnimationFrame` gives a
 *   60 Hz browser tab).
 *
 * Reported: this process's CPU (`process.cpuUsage`, user + system) per 1,000 deltas, change events,
 * and backend write → visible-in-the-client latency per delta p50/p99, each against `raw`.
 *
 *   bun bench/client-stream.ts [--clients 1000] [--quick] [--deltas 200] [--rate 10]
 *                              [--repeat 1] [--modes raw,sync,default,frame16]
 *                              [--binary dist/lifeline] [--write]
 *
 * The baseline (`raw`) should stay in `--modes`: every other column is compared with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type FrameScheduler, type LifelineClient } from '../client/index.ts';
import { printErr } from '../src/lib/log.ts';
import { mintToken } from '../src/realtime/auth.ts';
import { type DaemonProcess, startDaemon } from '../test/client/daemon.ts';
import { binaryPath, freePort, waitFor } from '../test/support/spawn.ts';
import { DELTA_CHARS, nowMs, parseDelta } from './assistant-backend.ts';
import { deltaIndices, LifelineTab, type Sink } from './assistant-tabs.ts';
import { renderClientStream } from './client-stream-report.ts';
import { replaceSection } from './report.ts';

const ROOT = resolve(import.meta.dir, '..');
const JWT = 'bench-client-stream-secret-0123456789abcdef';
const WHSEC = `whsec_${Buffer.from('bench-client-stream-whsec').toString('base64')}`;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    clients: { type: 'string' },
    quick: { type: 'boolean' },
    deltas: { type: 'string' },
    rate: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'raw,sync,default,frame16' },
    binary: { type: 'string' },
    write: { type: 'boolean' },
  },
});
const quick = values.quick === true;
const CLIENTS = Number(values.clients ?? (quick ? '50' : '1000'));
const DELTAS = Number(values.deltas ?? (quick ? '50' : '200'));
const RATE = Number(values.rate);
const REPEAT = Number(values.repeat);

/** How the clients of one case consume their replies. */
export type Mode = 'raw' | 'sync' | 'default' | 'frame16';
const ALL_MODES: readonly Mode[] = ['raw', 'sync', 'default', 'frame16'];
const MODES = values.modes.split(',') as Mode[];
for (const mode of MODES) {
  if (!ALL_MODES.includes(mode))
    throw new Error(`--modes: ${mode} is not one of ${ALL_MODES.join(', ')}`);
}

const SCHEDULERS: Record<Exclude<Mode, 'raw'>, FrameScheduler | undefined> = {
  sync: (callback) => callback(),
  default: undefined, // the SDK's own default in Bun
  frame16: (callback) => void setTimeout(callback, 16),
};

/** What one case measured. */
export interface CaseResult {
  mode: Mode;
  clients: number;
  /** Backend write → the client shows the delta, ms, one per delta. */
  latencies: number[];
  /** Deltas the clients showed. */
  deltas: number;
  /** Change events heard by the `subscribe` listeners (0 for `raw`). */
  events: number;
  /** This process's CPU from the sends to the last reply's end, ms. */
  cpuMs: number;
  elapsedMs: number;
  /** Replies whose final text held every delta once, in order. */
  exact: number;
  problems: string[];
}

/** One user reading its reply through the SDK's state, as a page would render it. */
class StateReader {
  events = 0;
  shown = 0;
  final: string | undefined;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    readonly client: LifelineClient,
    readonly thread: string,
    private readonly sink: Sink,
  ) {
    client.subscribe(() => this.onChange());
  }

  private onChange(): void {
    this.events += 1;
    const thread = this.client.getState().threads[this.thread];
    if (!thread || this.final !== undefined) return;
    const streaming = thread.replies?.find((reply) => reply.status === 'streaming');
    const text =
      streaming?.text ?? thread.messages.findLast((m) => m.role === 'assistant')?.content;
    if (text === undefined) return;
    this.take(text);
    if (!streaming) {
      this.final = text;
      this.resolveDone();
    }
  }

  /** Records the latency of every delta the text shows for the first time. */
  private take(text: string): void {
    const whole = Math.floor(text.length / DELTA_CHARS);
    if (whole <= this.shown) return;
    const now = nowMs();
    for (let i = this.shown; i < whole; i += 1) {
      const stamp = parseDelta(text.slice(i * DELTA_CHARS, (i + 1) * DELTA_CHARS));
      if (stamp) this.sink.latencies.push(now - stamp.sentMs);
    }
    this.shown = whole;
  }
}

function exactText(text: string | undefined): boolean {
  if (text === undefined) return false;
  const all = deltaIndices(text, DELTA_CHARS);
  return all.length === DELTAS && all.every((d, i) => d.index === i);
}

/** `work`, or a recorded problem once `ms` pass (a run never hangs). */
async function deadline(work: Promise<unknown>, ms: number, sink: Sink): Promise<void> {
  let timer: Timer | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(
      () => resolve(void sink.problems.push(`not every reply ended in ${ms} ms`)),
      ms,
    );
  });
  await Promise.race([work, late]);
  clearTimeout(timer);
}

const turnMs = () => (DELTAS / RATE) * 1000 + 120_000;

async function tokens(prefix: string, n: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      mintToken({ secret: JWT, userId: `${prefix}-${i}`, ttlS: 3600 }),
    ),
  );
}

/** The baseline: raw frames off each user's WebSocket. */
async function runRaw(daemon: DaemonProcess, prefix: string, n: number): Promise<CaseResult> {
  const sink: Sink = { latencies: [], problems: [] };
  const port = Number(new URL(daemon.baseUrl).port);
  const all = await tokens(prefix, n);
  const tabs = all.map((token, i) => new LifelineTab(port, token, `t-${prefix}-${i}`, sink));
  await Promise.all(tabs.map((tab) => tab.connect()));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const tab of tabs) {
    const id = crypto.randomUUID();
    tab.send({ type: 'message', id, thread_id: tab.thread, role: 'user', content: 'go' });
  }
  await deadline(Promise.all(tabs.map((tab) => tab.ended)), turnMs(), sink);
  const result = finish('raw', n, sink, cpu, started);
  result.deltas = tabs.reduce((sum, tab) => sum + tab.deltas, 0);
  result.exact = tabs.filter((tab) => exactText(tab.final) && tab.text === tab.final).length;
  await Promise.all(tabs.map((tab) => tab.close()));
  return result;
}

/** The SDK: one client per user, the reply read from its state on every change event. */
async function runSdk(
  daemon: DaemonProcess,
  mode: Exclude<Mode, 'raw'>,
  prefix: string,
  n: number,
): Promise<CaseResult> {
  const sink: Sink = { latencies: [], problems: [] };
  const all = await tokens(prefix, n);
  const scheduleFrame = SCHEDULERS[mode];
  const readers = all.map((token, i) => {
    const thread = `t-${prefix}-${i}`;
    const client = connect({
      url: daemon.wsUrl,
      token: async () => token,
      thread,
      openTimeoutMs: 60_000,
      ...(scheduleFrame === undefined ? {} : { scheduleFrame }),
    });
    return new StateReader(client, thread, sink);
  });
  await waitFor(() => readers.every((r) => r.client.getState().ready), 120_000);
  for (const reader of readers) reader.events = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const reader of readers) {
    reader.client
      .send({ thread_id: reader.thread, content: 'go' })
      .catch((error: unknown) => sink.problems.push(`send: ${String(error)}`));
  }
  await deadline(Promise.all(readers.map((r) => r.done)), turnMs(), sink);
  const result = finish(mode, n, sink, cpu, started);
  result.deltas = readers.reduce((sum, r) => sum + r.shown, 0);
  result.events = readers.reduce((sum, r) => sum + r.events, 0);
  result.exact = readers.filter((r) => exactText(r.final)).length;
  for (const reader of readers) reader.client.close();
  return result;
}

function finish(
  mode: Mode,
  clients: number,
  sink: Sink,
  cpu: NodeJS.CpuUsage,
  started: number,
): CaseResult {
  const used = process.cpuUsage(cpu);
  return {
    mode,
    clients,
    latencies: sink.latencies,
    deltas: 0,
    events: 0,
    cpuMs: (used.user + used.system) / 1000,
    elapsedMs: performance.now() - started,
    exact: 0,
    problems: sink.problems,
  };
}

function runMode(daemon: DaemonProcess, mode: Mode, prefix: string, n: number) {
  return mode === 'raw' ? runRaw(daemon, prefix, n) : runSdk(daemon, mode, prefix, n);
}

async function startBackend() {
  const spec = JSON.stringify({ secret: WHSEC, deltas: DELTAS, ratePerS: RATE });
  const proc = Bun.spawn([process.execPath, 'bench/assistant-backend.ts', spec], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { proc, port: Number(new TextDecoder().decode(value).trim()) };
}

function loadAverage(): string {
  return Bun.spawnSync(['cat', '/proc/loadavg']).stdout.toString().split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const binary = values.binary ? resolve(values.binary) : binaryPath();
  const work = mkdtempSync(join(tmpdir(), 'lifeline-bench-client-stream-'));
  const backend = await startBackend();
  const daemon = await startDaemon({
    binary,
    port: freePort(),
    dataDir: join(work, 'data'),
    env: {
      LIFELINE_AUTH_JWT_SECRET: JWT,
      LIFELINE_LOG_LEVEL: 'error',
      LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '100000',
      LIFELINE_ASSISTANT_BACKEND: 'http',
      LIFELINE_ASSISTANT_URL: `http://127.0.0.1:${backend.port}/assistant`,
      LIFELINE_ASSISTANT_SECRET: WHSEC,
      LIFELINE_ASSISTANT_MAX_IN_FLIGHT: String(Math.max(64, CLIENTS)),
      // Bun's fetch runs at most 256 requests at once by default (bench/README.md).
      BUN_CONFIG_MAX_HTTP_REQUESTS: '4096',
    },
  });
  const loads = [loadAverage()];
  const results: CaseResult[] = [];
  try {
    // One turn per way first, so one-time costs (JIT, the daemon's first fetch) stay out.
    for (const mode of MODES) await runMode(daemon, mode, `warm-${mode}`, 1);
    for (let round = 0; round < REPEAT; round += 1) {
      for (const mode of MODES) {
        Bun.gc(true);
        await Bun.sleep(500);
        const result = await runMode(daemon, mode, `${mode}-${round}`, CLIENTS);
        printErr(
          `${mode} round ${round}: ${result.cpuMs.toFixed(0)} ms CPU, ${result.deltas} deltas`,
        );
        results.push(result);
      }
    }
  } finally {
    await daemon.stop('SIGTERM');
    backend.proc.kill('SIGTERM');
    await backend.proc.exited;
    rmSync(work, { recursive: true, force: true });
  }
  loads.push(loadAverage());
  const command = `bun bench/client-stream.ts ${Bun.argv.slice(2).join(' ')}`.trim();
  const body = renderClientStream({
    command,
    results,
    clients: CLIENTS,
    deltas: DELTAS,
    rate: RATE,
    loads,
  });
  process.stdout.write(`${body}\n`);
  if (values.write) replaceSection('Client streaming', body);
}

await main();
