/**
 * The load generator for bench/ws.ts, run as its own Bun process so the server's figures do not
 * include the client's event loop. Reads a {@link ClientSpec} as JSON from argv[2], runs the
 * phases it asks for, and prints one JSON {@link ClientResult} on stdout.
 *
 * Phases: connect N sockets (`inFlight` connects at a time); R sequential round trips on every
 * socket at once; optionally a reconnect storm (all close, then all reconnect with resume state,
 * start times spread evenly over `stormWindowMs`); optionally a sustained load (U sockets of U
 * users sending at `ratePerS` each for `durationS`, open loop).
 */
import { readFileSync } from 'node:fs';
import { mintToken } from '../src/realtime/auth.ts';
import { stats } from './report.ts';
import { Conn } from './ws-conn.ts';
import type { Identity, ServerKind } from './ws-protocols.ts';

/** What bench/ws.ts asks the client to do. */
export interface ClientSpec {
  kind: ServerKind;
  port: number;
  serverPid: number;
  connections: number;
  inFlight: number;
  roundTrips: number;
  socketsPerUser: number;
  secret: string;
  stormWindowMs?: number;
  /** Skip the reconnect storm and report only connect and round trips (the one-socket cases). */
  roundTripsOnly?: boolean;
  load?: { users: number; ratePerS: number; durationS: number };
}

/** Latency summary in ms plus counts. */
export interface Phase {
  ok: number;
  errors: number;
  elapsedMs: number;
  perS: number;
  p50: number;
  p99: number;
  firstError?: string;
}

/** Everything one client run measured. */
export interface ClientResult {
  rssIdleMb: number;
  /** Right after every socket opened. */
  rssOpenMb?: number;
  /** After the round trips (lifeline has then also written N × R messages). */
  rssHeldMb?: number;
  connect?: Phase;
  roundTrip?: Phase;
  /** Server CPU (all threads, /proc/PID/stat utime + stime) during the round trips, ms. */
  roundTripCpuMs?: number;
  /** Frames the clients received during the round trips that answered none of their requests. */
  roundTripPushes?: number;
  storm?: Phase & { recovered: number; offeredPerS: number };
  load?: Phase & { sent: number; targetPerS: number };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU time of a process, all threads, in ms (utime + stime in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function phase(latencies: number[], errors: number, elapsedMs: number, firstError?: string): Phase {
  const s = stats(latencies);
  return {
    ok: latencies.length,
    errors,
    elapsedMs,
    perS: (latencies.length / elapsedMs) * 1000,
    p50: s.median,
    p99: s.p99,
    ...(firstError ? { firstError } : {}),
  };
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

async function identities(spec: ClientSpec, count: number, prefix: string, perUser: number) {
  const out: Identity[] = [];
  for (let i = 0; i < count; i += 1) {
    const userId = `${prefix}${Math.floor(i / perUser)}`;
    if (spec.kind !== 'lifeline') {
      out.push({ userId, token: '' });
      continue;
    }
    // One token per socket, as real devices have: the first connect verifies each with jose.
    // A distinct exp per socket: same-user tokens minted in one second would otherwise be equal.
    const token = await mintToken({ secret: spec.secret, userId, ttlS: 3600 + i });
    out.push({ userId, token });
  }
  return out;
}

async function connectAll(conns: Conn[], inFlight: number): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await pool(conns, inFlight, async (conn) => {
    try {
      latencies.push((await conn.connect()).ms);
    } catch (error) {
      errors += 1;
      firstError ??= String(error);
    }
  });
  return phase(latencies, errors, performance.now() - started, firstError);
}

async function roundTrips(conns: Conn[], rounds: number): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    conns.map(async (conn) => {
      for (let r = 0; r < rounds; r += 1) {
        const reply = await conn.request();
        if (reply.ok) latencies.push(reply.ms);
        else errors += 1;
      }
    }),
  );
  return phase(latencies, errors, performance.now() - started);
}

async function waitForServerToForget(spec: ClientSpec): Promise<void> {
  if (spec.kind !== 'lifeline') return Bun.sleep(500);
  for (let i = 0; i < 200; i += 1) {
    const ready = await fetch(`http://127.0.0.1:${spec.port}/readyz`).then((r) => r.json());
    if ((ready as { connections: number }).connections === 0) return;
    await Bun.sleep(25);
  }
}

async function storm(spec: ClientSpec, conns: Conn[], windowMs: number) {
  await Promise.all(conns.map((conn) => conn.close()));
  await waitForServerToForget(spec);
  const latencies: number[] = [];
  let errors = 0;
  let recovered = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await Promise.all(
    conns.map(async (conn, i) => {
      await Bun.sleep((i / conns.length) * windowMs);
      try {
        const opened = await conn.connect();
        latencies.push(opened.ms);
        if (opened.recovered) recovered += 1;
      } catch (error) {
        errors += 1;
        firstError ??= String(error);
      }
    }),
  );
  const result = phase(latencies, errors, performance.now() - started, firstError);
  return { ...result, recovered, offeredPerS: (conns.length / windowMs) * 1000 };
}

async function sustained(spec: ClientSpec, load: NonNullable<ClientSpec['load']>) {
  const ids = await identities(spec, load.users, 'load-u', 1);
  const conns = ids.map((identity) => new Conn(spec.kind, spec.port, identity));
  await connectAll(conns, spec.inFlight);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const everyMs = 1000 / load.ratePerS;
  const perSocket = Math.round(load.ratePerS * load.durationS);
  const started = performance.now();
  await Promise.all(
    conns.map(async (conn, i) => {
      await Bun.sleep((i / conns.length) * everyMs);
      const replies: Promise<void>[] = [];
      const t0 = performance.now();
      for (let k = 0; k < perSocket; k += 1) {
        const due = t0 + k * everyMs - performance.now();
        if (due > 0) await Bun.sleep(due);
        sent += 1;
        replies.push(
          conn.request().then((reply) => {
            if (reply.ok) latencies.push(reply.ms);
            else errors += 1;
          }),
        );
      }
      await Promise.all(replies);
    }),
  );
  const result = phase(latencies, errors, performance.now() - started);
  await Promise.all(conns.map((conn) => conn.close()));
  return { ...result, sent, targetPerS: load.users * load.ratePerS };
}

async function main(spec: ClientSpec): Promise<ClientResult> {
  const result: ClientResult = { rssIdleMb: rssMb(spec.serverPid) };
  if (spec.load) {
    result.load = await sustained(spec, spec.load);
    return result;
  }
  const ids = await identities(spec, spec.connections, 'u', spec.socketsPerUser);
  const conns = ids.map((identity) => new Conn(spec.kind, spec.port, identity));
  result.connect = await connectAll(conns, spec.inFlight);
  await Bun.sleep(200);
  result.rssOpenMb = rssMb(spec.serverPid);
  const cpuBefore = cpuMs(spec.serverPid);
  result.roundTrip = await roundTrips(conns, spec.roundTrips);
  // Fanned-out frames still in flight when the last ack arrived are not waited for.
  result.roundTripCpuMs = cpuMs(spec.serverPid) - cpuBefore;
  result.roundTripPushes = conns.reduce((sum, conn) => sum + conn.pushes, 0);
  result.rssHeldMb = rssMb(spec.serverPid);
  if (spec.stormWindowMs !== undefined && !spec.roundTripsOnly)
    result.storm = await storm(spec, conns, spec.stormWindowMs);
  await Promise.all(conns.map((conn) => conn.close()));
  return result;
}

const spec = JSON.parse(Bun.argv[2] ?? '{}') as ClientSpec;
process.stdout.write(`${JSON.stringify(await main(spec))}\n`);
