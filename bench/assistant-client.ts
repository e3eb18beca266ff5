/**
 * The load for bench/assistant.ts, run as its own Bun process so the daemon's figures do not
 * include the clients' event loop. Reads a {@link ClientSpec} as JSON from argv[2] and prints one
 * JSON {@link ClientResult} on stdout.
 *
 * `lifeline`: N users with two tabs each on the user's thread; every user's first tab sends one message
 * (one turn per user, all at once); both tabs read the streamed reply. `reconnects` of the second
 * tabs close mid-stream (after 25–75 % of the deltas) and connect again with `since`/`epoch`: the
 * time to their `rehydrate` is measured and its text checked against the deltas stamped before.
 * `direct`: the same two tabs per user each read the backend's stream themselves (the baseline).
 */
import { readFileSync } from 'node:fs';
import { mintToken } from '../src/realtime/auth.ts';
import { DELTA_CHARS, nowMs } from './assistant-backend.ts';
import { deltaIndices, directTab, LifelineTab, type Sink } from './assistant-tabs.ts';
import { stats } from './report.ts';

/** What bench/assistant.ts asks for. */
export interface ClientSpec {
  mode: 'lifeline' | 'direct';
  port: number;
  backendPort: number;
  backendPid: number;
  daemonPid?: number;
  turns: number;
  deltas: number;
  ratePerS: number;
  reconnects: number;
  secret: string;
}

/** A latency summary in ms. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Reconnecting mid-stream. */
export interface Reconnects {
  connectMs: Summary;
  /** Rehydrates whose text was a prefix of the final reply, continued exactly by the deltas. */
  exact: number;
  /** Deltas stamped before the reconnect started that the rehydrate did not hold (max). */
  missingBeforeConnect: number;
  /** Deltas stamped before the rehydrate arrived that it did not hold (in flight), p50 / max. */
  inFlightP50: number;
  inFlightMax: number;
}

/** Everything one run measured. */
export interface ClientResult {
  latency: Summary;
  elapsedMs: number;
  backendCpuMs: number;
  daemonCpuMs?: number;
  rssBeforeMb?: number;
  rssPeakMb?: number;
  activeAtPeak?: number;
  freshConnectMs?: Summary;
  reconnect?: Reconnects;
  turnsExact: number;
  /** `reply.delta` frames the tabs received (lifeline: merged deltas make fewer frames). */
  frames?: number;
  problems: number;
  firstProblems: string[];
}

const TICK_MS = 10;

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

function summary(sample: number[]): Summary {
  const s = stats(sample);
  return { count: sample.length, p50: s.median, p99: s.p99, max: s.max };
}

/** `work`, or a recorded problem once `ms` pass (a run never hangs). */
async function deadline(work: Promise<unknown>, ms: number, sink: Sink): Promise<void> {
  let timer: Timer | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      sink.problems.push(`not every tab saw reply.end within ${ms} ms`);
      resolve();
    }, ms);
  });
  await Promise.race([work, late]);
  clearTimeout(timer);
}

async function pool<T>(items: T[], inFlight: number, run: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

/** A tab closing at delta `at` and connecting again; resolves with what it measured. */
interface Reconnect {
  /** Which planned reconnect (the order they finish in is not the order they were planned in). */
  slot: number;
  ms: number;
  connectAt: number;
  rehydrateAt: number;
  text: string;
}

function planReconnect(
  tab: LifelineTab,
  slot: number,
  at: number,
  out: Reconnect[],
  sink: Sink,
): void {
  tab.onDelta = (self) => {
    if (self.deltas < at) return;
    self.onDelta = undefined;
    void (async () => {
      await self.close();
      const connectAt = nowMs();
      try {
        const ms = await self.connect();
        out.push({ slot, ms, connectAt, rehydrateAt: nowMs(), text: self.text });
      } catch (error) {
        sink.problems.push(`reconnect: ${String(error)}`);
      }
    })();
  };
}

function checkReconnects(done: Reconnect[], finals: string[]): Reconnects {
  let exact = 0;
  let missing = 0;
  const inFlight: number[] = [];
  for (const r of done) {
    const final = finals[r.slot] ?? '';
    if (final.startsWith(r.text) && r.text.length % DELTA_CHARS === 0) exact += 1;
    const all = deltaIndices(final, DELTA_CHARS);
    const held = r.text.length / DELTA_CHARS;
    const beforeConnect = all.filter((d) => d.sentMs < r.connectAt).length;
    const beforeRehydrate = all.filter((d) => d.sentMs < r.rehydrateAt).length;
    missing = Math.max(missing, beforeConnect - held);
    inFlight.push(Math.max(0, beforeRehydrate - held));
  }
  const f = stats(inFlight);
  return {
    connectMs: summary(done.map((r) => r.ms)),
    exact,
    missingBeforeConnect: missing,
    inFlightP50: f.median,
    inFlightMax: f.max,
  };
}

/** One turn on a user of its own first, so one-time costs (JIT, first fetch) stay out of the figures. */
async function warmUp(spec: ClientSpec, sink: Sink): Promise<void> {
  const token = await mintToken({ secret: spec.secret, userId: 'warm-up', ttlS: 3600 });
  const tab = new LifelineTab(spec.port, token, 't-warm-up', {
    latencies: [],
    problems: sink.problems,
  });
  await tab.connect();
  tab.send({
    type: 'message',
    id: crypto.randomUUID(),
    thread_id: tab.thread,
    role: 'user',
    content: 'go',
  });
  await deadline(tab.ended, (spec.deltas / spec.ratePerS) * 1000 + 30_000, sink);
  await tab.close();
  await Bun.sleep(500);
}

function expected(final: string | undefined, deltas: number): boolean {
  if (final === undefined) return false;
  const all = deltaIndices(final, DELTA_CHARS);
  return all.length === deltas && all.every((d, i) => d.index === i);
}

async function lifeline(spec: ClientSpec, sink: Sink): Promise<ClientResult> {
  const pid = spec.daemonPid as number;
  const tabs: Array<[LifelineTab, LifelineTab]> = [];
  for (let u = 0; u < spec.turns; u += 1) {
    const token = await mintToken({ secret: spec.secret, userId: `u${u}`, ttlS: 3600 });
    const thread = `t-u${u}`;
    tabs.push([
      new LifelineTab(spec.port, token, thread, sink),
      new LifelineTab(spec.port, token, thread, sink),
    ]);
  }
  const fresh: number[] = [];
  await pool(tabs.flat(), 100, async (tab) => {
    fresh.push(await tab.connect());
  });
  const reconnects: Reconnect[] = [];
  const reconnecting: number[] = [];
  const every = Math.max(1, Math.floor(spec.turns / Math.max(1, spec.reconnects)));
  for (let r = 0; r < Math.min(spec.reconnects, spec.turns); r += 1) {
    const at = Math.round(spec.deltas * (0.25 + (0.5 * r) / Math.max(1, spec.reconnects)));
    reconnecting.push(r * every);
    planReconnect((tabs[r * every] as [LifelineTab, LifelineTab])[1], r, at, reconnects, sink);
  }
  await warmUp(spec, sink);
  const before = { daemon: cpuMs(pid), backend: cpuMs(spec.backendPid), rss: rssMb(pid) };
  let peak = { rss: before.rss, active: 0 };
  const sampler = setInterval(() => {
    const active = tabs.filter(([a]) => a.deltas > 0 && a.final === undefined).length;
    const rss = rssMb(pid);
    if (active > peak.active || (active === peak.active && rss > peak.rss)) peak = { rss, active };
  }, 200);
  const started = performance.now();
  for (const [a] of tabs) {
    a.send({
      type: 'message',
      id: crypto.randomUUID(),
      thread_id: a.thread,
      role: 'user',
      content: 'go',
    });
  }
  await deadline(
    Promise.all(tabs.flat().map((tab) => tab.ended)),
    (spec.deltas / spec.ratePerS) * 1000 + 120_000,
    sink,
  );
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  const after = { daemon: cpuMs(pid), backend: cpuMs(spec.backendPid) };
  const exact = tabs.filter(
    ([a, b]) => expected(a.final, spec.deltas) && a.text === a.final && b.text === b.final,
  ).length;
  const finals = reconnecting.map((u) => (tabs[u] as [LifelineTab, LifelineTab])[0].final ?? '');
  await Promise.all(tabs.flat().map((tab) => tab.close()));
  return {
    latency: summary(sink.latencies),
    elapsedMs,
    backendCpuMs: after.backend - before.backend,
    daemonCpuMs: after.daemon - before.daemon,
    rssBeforeMb: before.rss,
    rssPeakMb: peak.rss,
    activeAtPeak: peak.active,
    freshConnectMs: summary(fresh),
    reconnect: checkReconnects(reconnects, finals),
    turnsExact: exact,
    frames: sink.frames ?? 0,
    problems: sink.problems.length,
    firstProblems: sink.problems.slice(0, 5),
  };
}

async function direct(spec: ClientSpec, sink: Sink): Promise<ClientResult> {
  const before = cpuMs(spec.backendPid);
  const started = performance.now();
  const texts = await Promise.all(
    Array.from({ length: spec.turns * 2 }, () => directTab(spec.backendPort, sink)),
  );
  const elapsedMs = performance.now() - started;
  const exact = texts.filter((text) => expected(text, spec.deltas)).length / 2;
  return {
    latency: summary(sink.latencies),
    elapsedMs,
    backendCpuMs: cpuMs(spec.backendPid) - before,
    turnsExact: exact,
    problems: sink.problems.length,
    firstProblems: sink.problems.slice(0, 5),
  };
}

const spec = JSON.parse(Bun.argv[2] ?? '{}') as ClientSpec;
const sink: Sink = { latencies: [], problems: [], frames: 0 };
const result = spec.mode === 'lifeline' ? await lifeline(spec, sink) : await direct(spec, sink);
process.stdout.write(`${JSON.stringify(result)}\n`);
