/**
 * Acknowledged appends per second: the SQLite adapter (group commit, synchronous=FULL) against the
 * PostgreSQL adapter (group commit too: concurrent appends share one statement, storage/postgres/batch.ts;
 * fsync and synchronous_commit on), one and two instances on one database. Each run keeps `CONCURRENCY` appendMessage calls in flight over
 * `USERS` users until `TOTAL` are acknowledged, and reports appends/s and p50/p99 ack latency.
 * Prints a markdown table; writes nothing.
 *
 *   bun bench/storage-pg.ts [--total 5000] [--concurrency 64]   (PG_DURABLE=0: fsync off)
 */
import { cpus } from 'node:os';
import { printErr, printOut } from '../src/lib/log.ts';
import { createPgStore } from '../src/storage/postgres/connect.ts';
import { applyMigrations } from '../src/storage/sqlite/migrations.ts';
import { openDatabase } from '../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../src/storage/sqlite/store.ts';
import type { Store } from '../src/storage/store.ts';
import { findPostgres, startPostgres } from '../test/support/postgres.ts';
import { tempDir } from '../test/support/temp.ts';

function flag(name: string, fallback: number): number {
  const i = Bun.argv.indexOf(`--${name}`);
  return i > 0 ? Number(Bun.argv[i + 1]) : fallback;
}

const TOTAL = flag('total', 5000);
const CONCURRENCY = flag('concurrency', 64);
const USERS = 100;

interface Row {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function drive(name: string, stores: Store[]): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (w: number) => {
    for (let i = next++; i < TOTAL; i = next++) {
      const user = `u${i % USERS}`;
      const id = crypto.randomUUID();
      const started = performance.now();
      const result = await stores[(w + i) % stores.length]!.appendMessage({
        userId: user,
        threadId: `t-${user}`,
        id,
        role: 'user',
        content: `message ${i} with a few words to index`,
      });
      if (result.kind !== 'ok') throw new Error(`append ${i}: ${result.kind}`);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: Math.round(TOTAL / seconds),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function sqliteRow(): Promise<Row> {
  using dir = tempDir('bench-sqlite');
  const handle = openDatabase(dir.join('bench.db'));
  applyMigrations(handle);
  const store = createSqliteStore(handle);
  try {
    return await drive('SQLite, 1 instance (group commit, synchronous=FULL)', [store]);
  } finally {
    await store.close();
  }
}

async function pgRows(): Promise<Row[]> {
  const durable = process.env.PG_DURABLE !== '0';
  const fsync = durable ? 'fsync on' : 'fsync OFF';
  const server = await startPostgres({ durable });
  try {
    const one = await server.createDatabase('bench_one');
    const a = await createPgStore({ url: one, poolSize: 10 });
    const rowOne = await drive(`PostgreSQL, 1 instance (pool 10, ${fsync})`, [a]);
    await a.close();
    const two = await server.createDatabase('bench_two');
    const b1 = await createPgStore({ url: two, poolSize: 10 });
    const b2 = await createPgStore({ url: two, poolSize: 10 });
    const rowTwo = await drive(`PostgreSQL, 2 instances (pool 10 each, ${fsync})`, [b1, b2]);
    await Promise.all([b1.close(), b2.close()]);
    return [rowOne, rowTwo];
  } finally {
    await server.stop();
  }
}

const rows = [await sqliteRow()];
if (findPostgres().ok) rows.push(...(await pgRows()));
else printErr('PostgreSQL not installed; SQLite row only\n');

const base = rows[0]!.perSecond;
const lines = [
  `${TOTAL} acknowledged appendMessage calls, ${CONCURRENCY} in flight, ${USERS} users; ` +
    `${cpus().length} CPUs, ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| adapter | appends/s | vs SQLite | ack p50 | ack p99 |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.perSecond} | ${(r.perSecond / base).toFixed(2)}× | ` +
      `${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms |`,
  ),
];
printOut(`${lines.join('\n')}\n`);
