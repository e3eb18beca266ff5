/**
 * WebSocket benchmark (issue 5, docs/faults.md#load): the compiled lifeline binary against a bare
 * `Bun.serve` WebSocket server (the ceiling, bench/baseline-server.ts) and Socket.IO 4 on Node
 * with connection-state recovery (bench/socketio-server.mjs), side by side in one session. Each
 * server runs fresh per case; the load comes from a separate Bun process (bench/ws-client.ts).
 * Every figure is the median of `--repeat` rounds, with the spread (min–max) beside it.
 *
 * Round trips are raced fairly (issue 18): all three servers fan each request out to the user's
 * other sockets (lifeline's committed `message` push, Bun `publish` to a per-user topic, Socket.IO
 * `socket.to(room).emit`), with 10 sockets per user, and each size is run again with one socket
 * per user (no fan-out). `--per-user` lists the sockets-per-user cases; the first one is also the
 * case of the connect, memory and storm figures.
 *
 *   bun bench/ws.ts [--repeat 3] [--sizes 1000,5000] [--per-user 10,1] [--binary dist/lifeline]
 *                   [--servers bare,lifeline,socketio] [--profile dir] [--burst n] [--write]
 *
 * `--profile dir` runs lifeline from source under `bun --cpu-prof` (one .cpuprofile per case,
 * summarised by bench/ws-profile.ts); `--burst n` raises lifeline's `limits.burst` and
 * `limits.messages_per_s` to n so `--round-trips` above the default burst of 40 stay admitted
 * (the baselines have no limit).
 *
 * lifeline runs with `LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S=100000`: every client comes from
 * 127.0.0.1, and the default 50 upgrades per address per second would measure the limiter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { replaceSection } from './report.ts';
import type { ClientResult, ClientSpec } from './ws-client.ts';
import type { ServerKind } from './ws-protocols.ts';
import { type Runs, renderTables } from './ws-report.ts';
import { type RoundTripRuns, renderRoundTrips } from './ws-rt-report.ts';

const ROOT = resolve(import.meta.dir, '..');
const SECRET = 'bench-secret-0123456789abcdef-0123456789';

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    repeat: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1000,5000' },
    'round-trips': { type: 'string', default: '10' },
    'storm-window-ms': { type: 'string', default: '1000' },
    'load-seconds': { type: 'string', default: '10' },
    binary: { type: 'string' },
    servers: { type: 'string', default: 'bare,lifeline,socketio' },
    'per-user': { type: 'string', default: '10,1' },
    profile: { type: 'string' },
    burst: { type: 'string' },
    write: { type: 'boolean' },
  },
});
const repeat = Number(values.repeat);
const KINDS = values.servers.split(',') as ServerKind[];
const sizes = values.sizes.split(',').map(Number);
const perUsers = values['per-user'].split(',').map(Number);
const work = mkdtempSync(join(tmpdir(), 'lifeline-bench-ws-'));

function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

function buildBinary(): string {
  if (values.binary) return resolve(values.binary);
  const out = join(work, 'lifeline');
  const proc = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', out], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
  });
  if (proc.exitCode !== 0) throw new Error('build failed');
  return out;
}

function serverCommand(kind: ServerKind, port: number, binary: string, dataDir: string): string[] {
  if (kind === 'bare') return [process.execPath, 'bench/baseline-server.ts', String(port)];
  if (kind === 'socketio') return ['node', 'bench/socketio-server.mjs', String(port)];
  const args = ['serve', '--port', String(port), '--data-dir', dataDir];
  if (values.profile === undefined) return [binary, ...args];
  const dir = `--cpu-prof-dir=${resolve(values.profile)}`;
  return [
    process.execPath,
    '--cpu-prof',
    '--cpu-prof-interval=250',
    dir,
    'src/cli/main.ts',
    ...args,
  ];
}

async function startServer(kind: ServerKind, binary: string, tag: string) {
  const port = freePort();
  const proc = Bun.spawn(serverCommand(kind, port, binary, join(work, `data-${tag}`)), {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
    env: {
      PATH: process.env.PATH ?? '',
      LIFELINE_AUTH_JWT_SECRET: SECRET,
      LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '100000',
      ...(values.burst === undefined
        ? {}
        : { LIFELINE_LIMITS_BURST: values.burst, LIFELINE_LIMITS_MESSAGES_PER_S: values.burst }),
    },
  });
  const path = kind === 'lifeline' ? '/readyz' : '/';
  const started = performance.now();
  for (;;) {
    const answer = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
    if (answer?.status === 200) break;
    if (performance.now() - started > 15_000) throw new Error(`${kind} never became ready`);
    await Bun.sleep(10);
  }
  return { port, proc };
}

async function runClient(spec: ClientSpec): Promise<ClientResult> {
  const proc = Bun.spawn([process.execPath, 'bench/ws-client.ts', JSON.stringify(spec)], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`client for ${spec.kind} failed`);
  return JSON.parse(text) as ClientResult;
}

async function oneCase(
  kind: ServerKind,
  binary: string,
  tag: string,
  spec: Partial<ClientSpec>,
): Promise<ClientResult> {
  const { port, proc } = await startServer(kind, binary, tag);
  try {
    const base = { connections: 0, inFlight: 100, roundTrips: 0, socketsPerUser: 10 };
    return await runClient({ ...base, ...spec, kind, port, serverPid: proc.pid, secret: SECRET });
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
}

function loadAverage(): string {
  return Bun.spawnSync(['cat', '/proc/loadavg']).stdout.toString().split(' ').slice(0, 3).join(' ');
}

/** One round of the per-size cases: every server, every sockets-per-user count. */
async function sizeRound(binary: string, r: number, runs: Runs, rtRuns: RoundTripRuns) {
  for (const size of sizes) {
    for (const [p, perUser] of perUsers.entries()) {
      for (const kind of KINDS) {
        const stormWindowMs =
          size === Math.max(...sizes) ? Number(values['storm-window-ms']) : undefined;
        const spec = {
          connections: size,
          roundTrips: Number(values['round-trips']),
          socketsPerUser: perUser,
          stormWindowMs,
          roundTripsOnly: p > 0,
        };
        const tag = `${kind}-${size}-${perUser}-${r}`;
        const result = await oneCase(kind, binary, tag, spec);
        if (p === 0) runs.push({ kind, size, result });
        rtRuns.push({ kind, size, perUser, result });
        process.stderr.write(
          `round ${r + 1} ${kind} ${size}×${perUser}: ${JSON.stringify(result)}\n`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const binary = buildBinary();
  const runs: Runs = [];
  const rtRuns: RoundTripRuns = [];
  const loads = [loadAverage()];
  for (let r = 0; r < repeat; r += 1) {
    await sizeRound(binary, r, runs, rtRuns);
    for (const kind of KINDS) {
      const load = { users: 100, ratePerS: 20, durationS: Number(values['load-seconds']) };
      const result = await oneCase(kind, binary, `${kind}-load-${r}`, { load });
      runs.push({ kind, size: 0, result });
      process.stderr.write(`round ${r + 1} ${kind} load: ${JSON.stringify(result.load)}\n`);
    }
  }
  loads.push(loadAverage());
  rmSync(work, { recursive: true, force: true });
  const header = [
    `\`bun bench/ws.ts --repeat ${repeat}\` — ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, Node ${Bun.spawnSync(['node', '--version']).stdout.toString().trim()}, ${navigator.hardwareConcurrency} cores shared by client and server, loopback.`,
    `Load average (1/5/15 min) before: ${loads[0]}; after: ${loads[1]}. Median of ${repeat} rounds, spread (min–max) in brackets.`,
  ].join('\n');
  const tables = renderTables(runs, sizes);
  const trips = renderRoundTrips(rtRuns, sizes, perUsers);
  process.stdout.write(`${header}\n\n${tables.websocket}\n\n${tables.load}\n\n${trips}\n`);
  if (values.write) {
    replaceSection('WebSocket', `${header}\n\n${tables.websocket}`);
    replaceSection('Load', `${header}\n\n${tables.load}`);
    replaceSection('Round trips', `${header}\n\n${trips}`);
  }
}

await main();
