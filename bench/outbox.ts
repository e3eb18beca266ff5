/**
 * Outbox benchmark (issue 4): accepted messages/s through MemoryService.submit — guards, commit
 * with synchronous=FULL through the group-commit write queue, ack — against bare SQLite insert
 * loops with the same pragmas (the ceiling), plus p50/p99 submit→ack latency. Prints a table and
 * rewrites the "## Outbox" section of docs/benchmarks.md.
 *
 * Run: `bun bench/outbox.ts` (add `--no-write` to leave the docs alone).
 * Method: each subject gets a fresh database file in a temp dir; "N clients" means N concurrent
 * submitters, each awaiting its ack before sending the next message (like N WebSocket clients).
 * The bare loops insert the same rows into a plain table: one transaction per row (what a naive
 * durable writer does) and one transaction per 64 rows (what group commit can at best achieve).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { printOut } from '../src/lib/log.ts';
import { LocalBackend } from '../src/memory/local.ts';
import { MemoryService } from '../src/memory/service.ts';
import { applyMigrations } from '../src/storage/sqlite/migrations.ts';
import { openDatabase } from '../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../src/storage/sqlite/store.ts';
import { replaceSection, stats } from './report.ts';

const CONTENT = 'a typical chat message of about eighty bytes, give or take a few words here.';

interface Row {
  subject: string;
  messages: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
}

/** A bare table with the same pragmas (openDatabase applies WAL and synchronous=FULL). */
function bareLoop(messages: number, rowsPerTransaction: number): Row {
  const dir = freshDir();
  const handle = openDatabase(join(dir, 'bare.db'));
  const db = handle.sqlite;
  db.run('CREATE TABLE m (n INTEGER PRIMARY KEY, id TEXT UNIQUE, thread TEXT, content TEXT)');
  const insert = db.prepare('INSERT INTO m (id, thread, content) VALUES (?, ?, ?)');
  const insertMany = db.transaction((count: number, base: number) => {
    for (let i = 0; i < count; i++) insert.run(crypto.randomUUID(), `t${(base + i) % 64}`, CONTENT);
  });
  const started = performance.now();
  for (let done = 0; done < messages; done += rowsPerTransaction) {
    insertMany(Math.min(rowsPerTransaction, messages - done), done);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const label =
    rowsPerTransaction === 1
      ? 'bare INSERT, 1 row per transaction'
      : `bare INSERT, ${rowsPerTransaction} rows per transaction`;
  return { subject: label, messages, perSecond: messages / seconds, p50Ms: null, p99Ms: null };
}

/** MemoryService.submit with `clients` concurrent submitters. */
async function submitLoop(messages: number, clients: number): Promise<Row> {
  const dir = freshDir();
  const handle = openDatabase(join(dir, 'lifeline.db'));
  applyMigrations(handle);
  const store = createSqliteStore(handle);
  const service = await MemoryService.create({
    store,
    backend: new LocalBackend(store),
    breaker: {
      failureThreshold: 5,
      cooldownMs: 30_000,
      cooldownMaxMs: 300_000,
      backoff: 2,
      halfOpenMaxCalls: 1,
    },
    outbox: { batchSize: 50, flushIntervalMs: 200, maxInFlight: 4 },
  });
  const latencies: number[] = [];
  const perClient = Math.ceil(messages / clients);
  const client = async (c: number) => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now();
      const result = await service.submit({
        userId: `u${c}`,
        threadId: `t${c}`,
        id: crypto.randomUUID(),
        role: 'user',
        content: CONTENT,
      });
      if (result.kind !== 'ok') throw new Error(`submit failed: ${JSON.stringify(result)}`);
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const seconds = (performance.now() - started) / 1000;
  await service.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const s = stats(latencies);
  const subject = `MemoryService.submit, ${clients} client${clients === 1 ? '' : 's'}`;
  return {
    subject,
    messages: latencies.length,
    perSecond: latencies.length / seconds,
    p50Ms: s.median,
    p99Ms: s.p99,
  };
}

function table(rows: Row[], ceiling: number): string {
  const fmt = (v: number | null) => (v === null ? '' : v.toFixed(2));
  const lines = [
    '| subject | messages | accepted msg/s | vs 64-row ceiling | p50 ack ms | p99 ack ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const ratio = `${(r.perSecond / ceiling).toFixed(2)}×`;
    lines.push(
      `| ${r.subject} | ${r.messages} | ${Math.round(r.perSecond)} | ${ratio} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} |`,
    );
  }
  return lines.join('\n');
}

const rows: Row[] = [];
rows.push(bareLoop(2_000, 1));
rows.push(bareLoop(20_000, 64));
rows.push(await submitLoop(2_000, 1));
rows.push(await submitLoop(20_000, 16));
rows.push(await submitLoop(20_000, 64));
const ceiling = rows[1]?.perSecond ?? 1;
const result = table(rows, ceiling);
printOut(result);

if (!process.argv.includes('--no-write')) {
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  replaceSection(
    'Outbox',
    `\`bun bench/outbox.ts\` — ${new Date().toISOString().slice(0, 10)}, commit \`${commit}\`, Bun ${Bun.version}, ${cpu} (${cpus().length} threads), temp dir on ${tmpdir()}.
Every row commits with WAL + synchronous=FULL (\`openDatabase\` pragmas) on a fresh file.
"N clients" = N concurrent submitters, each awaiting its ack before the next message; a submit is
guards → one transaction (message row, outbox state, history event, FTS5 trigger) → ack.
The bare rows insert the same content into a one-table database: one transaction per row is a
naive durable writer, 64 rows per transaction is the ceiling group commit can approach.

${result}`,
  );
}
