/**
 * Assistant streams benchmark (issue 16): the compiled binary relaying an HTTP assistant's AI SDK
 * UI message stream (bench/assistant-backend.ts: `deltas` text-deltas per turn at `rate` per
 * second, each stamped with its write time) to two tabs per user, N turns at once, against the
 * baseline measured in the same run: the same tabs each reading the backend's stream directly.
 * Each case starts a fresh backend (and daemon); the tabs run in bench/assistant-client.ts, a
 * separate process. Reported: added latency per delta (backend write → tab receive, lifeline
 * minus baseline) p50/p99, daemon CPU per 1,000 deltas, daemon RSS per active stream, and tabs
 * reconnecting mid-stream (connect → rehydrate, and whether its text is everything sent so far).
 *
 *   bun bench/assistant.ts [--turns 100,1000] [--quick] [--deltas 200] [--rate 50]
 *                          [--reconnects 20] [--binary dist/lifeline] [--profile dir]
 *                          [--fetch-limit 4096] [--write]
 *
 * `--profile dir` runs the daemon from source under `bun --cpu-prof`, one .cpuprofile per case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printErr } from '../src/lib/log.ts';
import type { ClientResult, ClientSpec } from './assistant-client.ts';
import { renderAssistant } from './assistant-report.ts';
import { replaceSection } from './report.ts';

const ROOT = resolve(import.meta.dir, '..');
const JWT = 'bench-assistant-secret-0123456789abcdef-0123';
const WHSEC = `whsec_${Buffer.from('bench-assistant-whsec-24b').toString('base64')}`;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    turns: { type: 'string' },
    quick: { type: 'boolean' },
    deltas: { type: 'string' },
    rate: { type: 'string', default: '50' },
    reconnects: { type: 'string' },
    binary: { type: 'string' },
    profile: { type: 'string' },
    'fetch-limit': { type: 'string', default: '4096' },
    write: { type: 'boolean' },
  },
});
const quick = values.quick === true;
const turns = (values.turns ?? (quick ? '20' : '100,1000')).split(',').map(Number);
const deltas = Number(values.deltas ?? (quick ? '50' : '200'));
const ratePerS = Number(values.rate);
const reconnects = Number(values.reconnects ?? (quick ? '5' : '20'));
/**
 * Concurrent fetches allowed in the daemon and the baseline's tabs (Bun's default is 256, which
 * would queue the streams past the 256th in either: `--fetch-limit 256` shows that).
 */
const FETCH_LIMIT = values['fetch-limit'];
const work = mkdtempSync(join(tmpdir(), 'lifeline-bench-assistant-'));

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

function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function startBackend() {
  const spec = JSON.stringify({ secret: WHSEC, deltas, ratePerS });
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

async function startDaemon(binary: string, backendPort: number, n: number, tag: string) {
  const port = freePort();
  // --profile runs the daemon from source under `bun --cpu-prof` (written when it exits).
  const daemon = values.profile
    ? [
        process.execPath,
        '--cpu-prof',
        `--cpu-prof-dir=${resolve(values.profile)}`,
        'src/cli/main.ts',
      ]
    : [binary];
  const args = ['serve', '--port', String(port), '--data-dir', join(work, tag)];
  const proc = Bun.spawn([...daemon, ...args], {
    cwd: ROOT,
    stdout: process.env.BENCH_LOG_LEVEL ? 'inherit' : 'ignore',
    stderr: 'inherit',
    env: {
      PATH: process.env.PATH ?? '',
      LIFELINE_AUTH_JWT_SECRET: JWT,
      LIFELINE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '100000',
      LIFELINE_ASSISTANT_BACKEND: 'http',
      LIFELINE_ASSISTANT_URL: `http://127.0.0.1:${backendPort}/assistant`,
      LIFELINE_ASSISTANT_SECRET: WHSEC,
      LIFELINE_ASSISTANT_MAX_IN_FLIGHT: String(Math.max(64, n)),
      // Bun's fetch runs at most 256 requests at once by default: the rest queue inside fetch.
      BUN_CONFIG_MAX_HTTP_REQUESTS: FETCH_LIMIT,
    },
  });
  const started = performance.now();
  for (;;) {
    const answer = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (answer?.status === 200) break;
    if (performance.now() - started > 15_000) throw new Error('lifeline never became ready');
    await Bun.sleep(10);
  }
  return { proc, port };
}

async function runClient(spec: ClientSpec): Promise<ClientResult> {
  const proc = Bun.spawn([process.execPath, 'bench/assistant-client.ts', JSON.stringify(spec)], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: FETCH_LIMIT },
  });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`client (${spec.mode}) failed`);
  return JSON.parse(text) as ClientResult;
}

async function oneCase(binary: string, n: number, mode: ClientSpec['mode']) {
  const backend = await startBackend();
  const daemon =
    mode === 'lifeline' ? await startDaemon(binary, backend.port, n, `data-${n}`) : undefined;
  try {
    return await runClient({
      mode,
      port: daemon?.port ?? 0,
      backendPort: backend.port,
      backendPid: backend.proc.pid,
      daemonPid: daemon?.proc.pid,
      turns: n,
      deltas,
      ratePerS,
      reconnects,
      secret: JWT,
    });
  } finally {
    daemon?.proc.kill('SIGTERM');
    await daemon?.proc.exited;
    backend.proc.kill('SIGTERM');
    await backend.proc.exited;
  }
}

function loadAverage(): string {
  return Bun.spawnSync(['cat', '/proc/loadavg']).stdout.toString().split(' ').slice(0, 3).join(' ');
}

const binary = buildBinary();
const loads = [loadAverage()];
const cases: Array<{ n: number; direct: ClientResult; lifeline: ClientResult }> = [];
for (const n of turns) {
  const directRun = await oneCase(binary, n, 'direct');
  printErr(`direct ${n}: ${JSON.stringify(directRun)}`);
  const lifelineRun = await oneCase(binary, n, 'lifeline');
  printErr(`lifeline ${n}: ${JSON.stringify(lifelineRun)}`);
  cases.push({ n, direct: directRun, lifeline: lifelineRun });
}
loads.push(loadAverage());
rmSync(work, { recursive: true, force: true });
const command = `bun bench/assistant.ts ${Bun.argv.slice(2).join(' ')}`.trim();
const body = renderAssistant({ command, cases, deltas, ratePerS, reconnects, loads });
process.stdout.write(`${body}\n`);
if (values.write) replaceSection('Assistant streams', body);
