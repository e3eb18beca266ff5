/**
 * The table and notes of bench/client-stream.ts for docs/benchmarks.md ("Client streaming"): one
 * column per way of consuming the replies, each compared with the `raw` baseline of the same run.
 */
import type { CaseResult, Mode } from './client-stream.ts';
import { stats } from './report.ts';

interface Input {
  command: string;
  results: CaseResult[];
  clients: number;
  deltas: number;
  rate: number;
  loads: string[];
}

const LABELS: Record<Mode, string> = {
  raw: 'raw frames (baseline)',
  sync: 'SDK, no batching',
  default: 'SDK, default (end of task)',
  frame16: 'SDK, 16 ms frames',
};

interface Column {
  mode: Mode;
  rounds: CaseResult[];
  cpuPer1000: number[];
  p50: number;
  p99: number;
}

function column(mode: Mode, results: CaseResult[]): Column {
  const rounds = results.filter((r) => r.mode === mode);
  const latency = stats(rounds.flatMap((r) => r.latencies));
  return {
    mode,
    rounds,
    cpuPer1000: rounds.map((r) => (r.cpuMs / Math.max(1, r.deltas)) * 1000),
    p50: latency.median,
    p99: latency.p99,
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / Math.max(1, xs.length);
const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

function rows(columns: Column[], expected: number): string[][] {
  // Without the baseline in --modes the comparisons print as —.
  const base = columns.find((c) => c.mode === 'raw') ?? { p50: Number.NaN, p99: Number.NaN };
  const baseCpu = 'cpuPer1000' in base ? mean(base.cpuPer1000) : Number.NaN;
  const each = (fn: (c: Column) => string) => columns.map(fn);
  const sdk = (fn: (c: Column) => string) => columns.map((c) => (c.mode === 'raw' ? '—' : fn(c)));
  const replies = (c: Column) => sum(c.rounds.map((r) => r.clients));
  const events = (c: Column) => sum(c.rounds.map((r) => r.events));
  const deltas = (c: Column) => sum(c.rounds.map((r) => r.deltas));
  return [
    ['deltas shown', ...each((c) => `${deltas(c)} of ${expected * c.rounds.length}`)],
    ['replies exact', ...each((c) => `${sum(c.rounds.map((r) => r.exact))} of ${replies(c)}`)],
    ['change events per reply', ...sdk((c) => f(events(c) / replies(c)))],
    ['deltas per change event', ...sdk((c) => f(deltas(c) / Math.max(1, events(c)), 2))],
    [
      '**client CPU ms per 1,000 deltas**',
      ...each((c) => c.cpuPer1000.map((x) => f(x)).join(' / ')),
    ],
    ['CPU × baseline', ...sdk((c) => `${f(mean(c.cpuPer1000) / baseCpu, 2)}×`)],
    ['added CPU µs per delta', ...sdk((c) => f(mean(c.cpuPer1000) - baseCpu))],
    ['write → shown p50 / p99 ms', ...each((c) => `${f(c.p50, 2)} / ${f(c.p99, 2)}`)],
    [
      '**added** p50 / p99 ms',
      ...sdk((c) => `${f(c.p50 - base.p50, 2)} / ${f(c.p99 - base.p99, 2)}`),
    ],
    [
      'wall time s (sends → last end)',
      ...each((c) => c.rounds.map((r) => f(r.elapsedMs / 1000)).join(' / ')),
    ],
    ['problems', ...each((c) => String(sum(c.rounds.map((r) => r.problems.length))))],
  ];
}

/** The Markdown body of the "Client streaming" section. */
export function renderClientStream(input: Input): string {
  const modes = [...new Set(input.results.map((r) => r.mode))];
  const columns = modes.map((mode) => column(mode, input.results));
  const expected = input.clients * input.deltas;
  const header = `| figure | ${modes.map((m) => LABELS[m]).join(' | ')} |`;
  const rule = `| --- | ${modes.map(() => '---:').join(' | ')} |`;
  const table = [header, rule, ...rows(columns, expected).map((r) => `| ${r.join(' | ')} |`)];
  const problems = input.results.flatMap((r) =>
    r.problems.slice(0, 3).map((p) => `${r.mode}: ${p}`),
  );
  const date = new Date().toISOString().slice(0, 10);
  return [
    `\`${input.command}\` — ${date}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores shared by the backend, the daemon (compiled binary), the clients (this process) and other engineers' work, loopback.`,
    `${input.clients} users, one client and one reply each, sent at once: ${input.deltas} text-deltas of 40 bytes per reply at ${input.rate}/s. Load average (1/5/15 min) before: ${input.loads[0]}; after: ${input.loads[1]}. The ways run one after the other against the same daemon (fresh users each), after one warm-up turn each; a cell with several figures lists the rounds (\`--repeat\`); latencies pool the rounds.`,
    '',
    table.join('\n'),
    ...(problems.length > 0 ? ['', `First problems: ${problems.join('; ')}`] : []),
  ].join('\n');
}
