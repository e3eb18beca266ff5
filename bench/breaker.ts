/**
 * Breaker micro-benchmark (docs/design.md#baselines): per-call overhead of lifeline's
 * CircuitBreaker in the closed state over a direct call, and the cost of refusing a call while
 * open, side by side with opossum and cockatiel in ONE run. Prints a table and rewrites the "##
 * Breaker" section of docs/benchmarks.md.
 *
 * Run: `bun bench/breaker.ts` (add `--no-write` to leave the docs alone).
 * Method: Bun.nanoseconds, one warm-up round, then ROUNDS rounds of CALLS sequential calls per
 * subject, interleaved so drift hits every subject alike; the figure is the median round.
 * Fairness: opossum's per-call timeout timer is off (`timeout: false`), since lifeline's breaker
 * leaves timeouts to the caller (memory.timeout_ms with AbortSignal) and cockatiel has none here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type CircuitBreakerPolicy as CockatielPolicy,
  ConsecutiveBreaker,
  circuitBreaker as cockatielBreaker,
  handleAll,
} from 'cockatiel';
import Opossum from 'opossum';
import { CircuitBreaker, NO_PERMIT } from '../src/breaker/breaker.ts';
import { systemClock } from '../src/lib/clock.ts';
import { printOut } from '../src/lib/log.ts';

const ROUNDS = 15;
const CALLS = 100_000;
const LONG_MS = 3_600_000;

type Subject = { name: string; run: (calls: number) => Promise<number> | number };

let sink = 0;
const asyncValue = async () => 1;
const syncValue = () => 1;

function makeLifeline(): CircuitBreaker {
  return new CircuitBreaker({
    failureThreshold: 5,
    cooldownMs: LONG_MS,
    cooldownMaxMs: LONG_MS,
    backoff: 2,
    halfOpenMaxCalls: 1,
    clock: systemClock,
  });
}

function makeCockatiel(): CockatielPolicy {
  return cockatielBreaker(handleAll, {
    halfOpenAfter: LONG_MS,
    breaker: new ConsecutiveBreaker(5),
  });
}

function makeOpossum<T>(fn: () => T): Opossum<[], Awaited<T>> {
  return new Opossum(fn as () => Promise<Awaited<T>>, {
    timeout: false,
    resetTimeout: LONG_MS,
  });
}

/** Sequential awaited calls: what a caller of each library's async API pays. */
function asyncLoop(call: () => Promise<number>) {
  return async (calls: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) sink += await call();
    return Bun.nanoseconds() - start;
  };
}

/** Sequential awaited calls that are expected to be refused. */
function rejectLoop(call: () => Promise<unknown>) {
  return async (calls: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) {
      try {
        await call();
      } catch {
        sink++;
      }
    }
    return Bun.nanoseconds() - start;
  };
}

/** Closed state, async function returning a resolved value. */
function closedAsyncSubjects(): Subject[] {
  const lifeline = makeLifeline();
  const cockatiel = makeCockatiel();
  const opossum = makeOpossum(asyncValue);
  return [
    { name: 'direct await fn()', run: asyncLoop(asyncValue) },
    { name: 'lifeline execute()', run: asyncLoop(() => lifeline.execute(asyncValue)) },
    { name: 'cockatiel execute()', run: asyncLoop(() => cockatiel.execute(asyncValue)) },
    { name: 'opossum fire()', run: asyncLoop(() => opossum.fire()) },
  ];
}

/** Closed state, synchronous function: lifeline's permit API stays synchronous; the libraries cannot. */
function closedSyncSubjects(): Subject[] {
  const lifeline = makeLifeline();
  const cockatiel = makeCockatiel();
  const opossum = makeOpossum(syncValue);
  const direct = (calls: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) sink += syncValue();
    return Bun.nanoseconds() - start;
  };
  const permits = (calls: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) {
      const permit = lifeline.tryAcquire();
      if (permit === NO_PERMIT) continue;
      sink += syncValue();
      lifeline.recordSuccess(permit);
    }
    return Bun.nanoseconds() - start;
  };
  return [
    { name: 'direct fn()', run: direct },
    { name: 'lifeline tryAcquire+recordSuccess', run: permits },
    { name: 'cockatiel execute(sync fn)', run: asyncLoop(() => cockatiel.execute(syncValue)) },
    { name: 'opossum fire(sync fn)', run: asyncLoop(() => opossum.fire()) },
  ];
}

/** Open state: how fast a refused call comes back. */
function openSubjects(): Subject[] {
  const lifeline = makeLifeline();
  lifeline.open(LONG_MS);
  const cockatiel = makeCockatiel();
  cockatiel.isolate();
  const opossum = makeOpossum(asyncValue);
  opossum.open();
  const tryAcquire = (calls: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) if (lifeline.tryAcquire() === NO_PERMIT) sink++;
    return Bun.nanoseconds() - start;
  };
  return [
    { name: 'lifeline tryAcquire() → NO_PERMIT', run: tryAcquire },
    { name: 'lifeline execute() rejects', run: rejectLoop(() => lifeline.execute(asyncValue)) },
    { name: 'cockatiel execute() rejects', run: rejectLoop(() => cockatiel.execute(asyncValue)) },
    { name: 'opossum fire() rejects', run: rejectLoop(() => opossum.fire()) },
  ];
}

/** Runs the subjects interleaved, returns the median ns/call of each. */
async function measure(subjects: Subject[]): Promise<number[]> {
  const samples: number[][] = subjects.map(() => []);
  for (const subject of subjects) await subject.run(CALLS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, subject] of subjects.entries()) {
      samples[index]!.push((await subject.run(CALLS)) / CALLS);
    }
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
}

type Row = { group: string; name: string; nsPerCall: number; overheadNs: number | null };

async function measureGroup(group: string, subjects: Subject[], hasBaseline: boolean) {
  const medians = await measure(subjects);
  const baseline = hasBaseline ? medians[0]! : 0;
  return subjects.map<Row>((subject, index) => ({
    group,
    name: subject.name,
    nsPerCall: medians[index]!,
    overheadNs: hasBaseline ? (index === 0 ? null : medians[index]! - baseline) : medians[index]!,
  }));
}

/** Ratio of each lifeline row to the faster of the two libraries in its group. */
function ratioOf(row: Row, rows: Row[]): string {
  if (row.overheadNs === null || !row.name.startsWith('lifeline')) return '';
  const libs = rows
    .filter((r) => r.group === row.group && /^(cockatiel|opossum)/.test(r.name))
    .map((r) => r.overheadNs ?? Number.POSITIVE_INFINITY);
  const faster = Math.min(...libs);
  return `${(row.overheadNs / faster).toFixed(3)}×`;
}

function formatTable(rows: Row[]): string {
  const lines = [
    '| case | subject | ns/call | overhead ns | vs faster library |',
    '|---|---|---:|---:|---:|',
  ];
  for (const row of rows) {
    const overhead = row.overheadNs === null ? '(baseline)' : row.overheadNs.toFixed(1);
    const cells = [row.group, row.name, row.nsPerCall.toFixed(1), overhead, ratioOf(row, rows)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function describeRun(): string {
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 10);
  return `${date}, commit \`${commit}\`, Bun ${Bun.version}, ${cpu} (${cpus().length} threads)`;
}

/** Replaces (or appends) only the "## Breaker" section, leaving other sections untouched. */
function writeSection(table: string): void {
  const path = join(import.meta.dir, '..', 'docs', 'benchmarks.md');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmarks\n\nFigures from `bench/`; each section is owned by its benchmark.\n';
  }
  const section = [
    '## Breaker',
    '',
    `\`bun bench/breaker.ts\` — ${describeRun()}.`,
    `Median of ${ROUNDS} rounds × ${CALLS.toLocaleString('en')} sequential calls, after a warm-up round;`,
    'overhead = subject − direct call in the same run. opossum 9.0.0 with `timeout: false`,',
    'cockatiel 3.2.1 with `ConsecutiveBreaker(5)`. The sync rows: lifeline settles a permit',
    'around a synchronous call, while the libraries have only an async API and must be awaited.',
    '"open" rows are the whole refused call, including the caller\'s await and catch;',
    '`tryAcquire()` while open is mostly the `performance.now()` read that checks the probe time.',
    'Goal: closed-state overhead ≤ 0.5× the faster library; refusal while open < 1 µs.',
    '',
    table,
    '',
  ].join('\n');
  const start = text.indexOf('## Breaker');
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1));
  }
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}

async function main(): Promise<void> {
  const rows = [
    ...(await measureGroup('closed, async fn', closedAsyncSubjects(), true)),
    ...(await measureGroup('closed, sync fn', closedSyncSubjects(), true)),
    ...(await measureGroup('open, refuse', openSubjects(), false)),
  ];
  const table = formatTable(rows);
  printOut(table);
  printOut(`(sink ${sink})`);
  if (!process.argv.includes('--no-write')) writeSection(table);
  process.exit(0);
}

await main();
