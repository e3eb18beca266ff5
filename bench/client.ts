/**
 * Reconnect-storm benchmark for the client SDK (issue 8): N clients (default 1,000, one user each)
 * connected to the daemon (run from source), the daemon killed (SIGKILL, so no `reconnect` hint:
 * the clients' own backoff decides) and started again at once. Measures, per client, the time from
 * the restart (the new daemon's /readyz) to its resumed snapshot, p50/p99, and the spread of
 * reconnect attempts over time — with full jitter (the default) and with jitter turned off, the
 * storm the jitter exists to prevent. The upgrade limit per IP is raised, since all clients here
 * share 127.0.0.1 where real ones would not.
 *
 *   bun bench/client.ts [--clients 1000] [--write]
 *
 * Streamed replies through the client (CPU per delta with and without the state batching, delta
 * latency through the state) are bench/client-stream.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type LifelineClient, type WebSocketLike } from '../client/index.ts';
import { mintToken } from '../src/realtime/auth.ts';
import { type DaemonProcess, startDaemon } from '../test/client/daemon.ts';
import { freePort, waitFor } from '../test/support/spawn.ts';
import { tempDir } from '../test/support/temp.ts';
import { replaceSection, stats } from './report.ts';

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { clients: { type: 'string', default: '1000' }, write: { type: 'boolean' } },
});
const CLIENTS = Number(values.clients);
const SECRET = 'bench-client-secret-at-least-32-bytes-long';
const BUCKET_MS = 250;

interface Run {
  jitter: boolean;
  resumedMs: number[];
  attemptsMs: number[];
  downMs: number;
}

function daemon(port: number, dataDir: string): Promise<DaemonProcess> {
  return startDaemon({
    port,
    dataDir,
    env: {
      LIFELINE_AUTH_JWT_SECRET: SECRET,
      LIFELINE_LIMITS_UPGRADES_PER_IP_PER_S: '100000',
      LIFELINE_LOG_LEVEL: 'error',
    },
  });
}

async function measure(jitter: boolean): Promise<Run> {
  using dir = tempDir('lifeline-bench-client');
  const port = freePort();
  let server = await daemon(port, join(dir.path, 'data'));
  const tokens = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      mintToken({ secret: SECRET, userId: `u${i}`, ttlS: 3600 }),
    ),
  );
  const attempts: number[] = [];
  const resumedAt = new Map<number, number>();
  let killedAt = Number.POSITIVE_INFINITY;
  const clients: LifelineClient[] = tokens.map((token, i) => {
    const client = connect({
      url: server.wsUrl,
      token: async () => token,
      backoff: { jitter },
      openTimeoutMs: 60_000,
      socket: (url, protocols) => {
        if (performance.now() >= killedAt) attempts.push(performance.now());
        return new WebSocket(url, protocols) as unknown as WebSocketLike;
      },
    });
    client.on('rehydrate', () => {
      if (performance.now() >= killedAt && !resumedAt.has(i)) resumedAt.set(i, performance.now());
    });
    return client;
  });
  await waitFor(() => clients.every((c) => c.getStatus().state === 'open'), 120_000);
  killedAt = performance.now();
  await server.stop('SIGKILL');
  server = await daemon(port, join(dir.path, 'data'));
  const readyAt = performance.now();
  await waitFor(() => resumedAt.size === CLIENTS, 180_000);
  for (const client of clients) client.close();
  await server.stop('SIGTERM');
  rmSync(dir.path, { recursive: true, force: true });
  return {
    jitter,
    resumedMs: [...resumedAt.values()].map((t) => t - readyAt),
    attemptsMs: attempts.map((t) => t - killedAt),
    downMs: readyAt - killedAt,
  };
}

function histogram(run: Run): string {
  const buckets = new Map<number, number>();
  for (const t of run.attemptsMs) {
    const bucket = Math.floor(t / BUCKET_MS);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
  }
  const last = Math.max(...buckets.keys());
  const peak = Math.max(...buckets.values());
  const lines: string[] = [];
  for (let b = 0; b <= last; b++) {
    const count = buckets.get(b) ?? 0;
    const bar = '#'.repeat(Math.round((count / peak) * 50));
    lines.push(`${String(b * BUCKET_MS).padStart(6)} ms ${String(count).padStart(5)} ${bar}`);
  }
  return lines.join('\n');
}

function summary(run: Run): string[] {
  const s = stats(run.resumedMs);
  const buckets = new Map<number, number>();
  for (const t of run.attemptsMs) {
    const bucket = Math.floor(t / BUCKET_MS);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
  }
  const fine = new Map<number, number>();
  for (const t of run.attemptsMs)
    fine.set(Math.floor(t / 10), (fine.get(Math.floor(t / 10)) ?? 0) + 1);
  return [
    run.jitter ? 'full jitter (default)' : 'no jitter',
    s.median.toFixed(0),
    s.p99.toFixed(0),
    s.max.toFixed(0),
    String(run.attemptsMs.length),
    String(Math.max(...buckets.values())),
    String(Math.max(...fine.values())),
  ];
}

const runs = [await measure(true), await measure(false)];
const header = [
  '| clients reconnect with | restart → resumed p50 (ms) | p99 (ms) | max (ms) | attempts after the kill | peak attempts per 250 ms | peak per 10 ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const table = [...header, ...runs.map((run) => `| ${summary(run).join(' | ')} |`)].join('\n');
const spread = runs
  .map(
    (run) =>
      `${run.jitter ? 'With full jitter' : 'Without jitter'} (attempts per ${BUCKET_MS} ms after the kill; the daemon was down ${run.downMs.toFixed(0)} ms):\n\n\`\`\`\n${histogram(run)}\n\`\`\``,
  )
  .join('\n\n');
const body = `${CLIENTS} clients, one user each, on ${process.platform}/${process.arch}, Bun ${Bun.version}; daemon from source, killed with SIGKILL and started again at once. Backoff: base 500 ms, cap 30 s. Times are from the new daemon's first 200 on /readyz to each client's resumed snapshot.\n\n${table}\n\n${spread}`;
process.stdout.write(`${body}\n`);
if (values.write) replaceSection('Client reconnect storm', body);
