/**
 * The "Assistant streams" section of docs/benchmarks.md, from bench/assistant.ts's cases: one
 * table of figures with the goals beside them (printed, never asserted).
 */
import type { ClientResult } from './assistant-client.ts';

interface Report {
  command: string;
  cases: Array<{ n: number; direct: ClientResult; lifeline: ClientResult }>;
  deltas: number;
  ratePerS: number;
  reconnects: number;
  loads: string[];
}

const ms = (x: number | null | undefined, digits = 2) =>
  x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(digits);

function row(name: string, goal: string, cells: string[]): string {
  return `| ${name} | ${cells.join(' | ')} | ${goal} |`;
}

/** (RSS growth at this size − at the previous size) / (streams added), in KB. */
function marginal(cases: Report['cases'], x: Report['cases'][number]): string {
  const i = cases.indexOf(x);
  const prev = cases[i - 1];
  if (prev === undefined) return '—';
  const growth = (r: ClientResult) => (r.rssPeakMb ?? 0) - (r.rssBeforeMb ?? 0);
  const streams = (x.lifeline.activeAtPeak ?? 0) - (prev.lifeline.activeAtPeak ?? 0);
  if (streams <= 0) return '—';
  return ms(((growth(x.lifeline) - growth(prev.lifeline)) * 1024) / streams, 1);
}

function rows(report: Report): string[] {
  const c = report.cases;
  const each = (f: (x: Report['cases'][number]) => string) => c.map(f);
  const perK = (x: Report['cases'][number]) =>
    ms(((x.lifeline.daemonCpuMs ?? 0) / (x.n * report.deltas)) * 1000, 0);
  const perStream = (x: Report['cases'][number]) => {
    const l = x.lifeline;
    if (!l.activeAtPeak) return '—';
    return ms((((l.rssPeakMb ?? 0) - (l.rssBeforeMb ?? 0)) * 1024) / l.activeAtPeak, 1);
  };
  return [
    row(
      'baseline (direct SSE) write → tab p50 / p99 ms',
      '',
      each((x) => `${ms(x.direct.latency.p50)} / ${ms(x.direct.latency.p99)}`),
    ),
    row(
      'lifeline write → tab p50 / p99 ms',
      '',
      each((x) => `${ms(x.lifeline.latency.p50)} / ${ms(x.lifeline.latency.p99)}`),
    ),
    row(
      '**added** p50 / p99 ms',
      'p50 ≤ 1, p99 ≤ 5 at 1,000',
      each(
        (x) =>
          `${ms(x.lifeline.latency.p50 - x.direct.latency.p50)} / ${ms(x.lifeline.latency.p99 - x.direct.latency.p99)}`,
      ),
    ),
    row(
      'deltas received by tabs (lifeline / baseline)',
      `${2 * report.deltas} per turn`,
      each((x) => `${x.lifeline.latency.count} / ${x.direct.latency.count}`),
    ),
    row(
      'reply.delta frames received by tabs (merged deltas make fewer)',
      '',
      each((x) => String(x.lifeline.frames ?? '—')),
    ),
    row(
      'turns exact in both tabs (lifeline / baseline)',
      'all',
      each((x) => `${x.lifeline.turnsExact} / ${x.direct.turnsExact} of ${x.n}`),
    ),
    row('daemon CPU ms per 1,000 deltas relayed (each to 2 tabs; whole turns)', '', each(perK)),
    row(
      'daemon CPU ms (whole run) / backend CPU ms lifeline, baseline',
      '',
      each(
        (x) =>
          `${ms(x.lifeline.daemonCpuMs, 0)} / ${ms(x.lifeline.backendCpuMs, 0)}, ${ms(x.direct.backendCpuMs, 0)}`,
      ),
    ),
    row(
      'daemon RSS before → peak MB (active streams at peak)',
      '',
      each(
        (x) =>
          `${ms(x.lifeline.rssBeforeMb, 1)} → ${ms(x.lifeline.rssPeakMb, 1)} (${x.lifeline.activeAtPeak})`,
      ),
    ),
    row('**RSS per active stream** KB', '≤ 16', each(perStream)),
    row(
      'RSS KB per added stream between the sizes (marginal)',
      '≤ 16',
      each((x) => marginal(c, x)),
    ),
    row(
      'turns wall time lifeline / baseline s',
      `${report.deltas / report.ratePerS} + start`,
      each((x) => `${ms(x.lifeline.elapsedMs / 1000, 1)} / ${ms(x.direct.elapsedMs / 1000, 1)}`),
    ),
    row(
      'fresh tab connect → rehydrate p50 / p99 ms',
      '',
      each((x) => `${ms(x.lifeline.freshConnectMs?.p50)} / ${ms(x.lifeline.freshConnectMs?.p99)}`),
    ),
    row(
      '**mid-stream reconnect** → rehydrate p50 / p99 ms',
      '',
      each(
        (x) =>
          `${ms(x.lifeline.reconnect?.connectMs.p50)} / ${ms(x.lifeline.reconnect?.connectMs.p99)}`,
      ),
    ),
    row(
      'reconnects whose first frame held the exact text so far',
      'all',
      each((x) => `${x.lifeline.reconnect?.exact} of ${x.lifeline.reconnect?.connectMs.count}`),
    ),
    row(
      'deltas written before the reconnect missing from its rehydrate (max)',
      '0',
      each((x) => String(x.lifeline.reconnect?.missingBeforeConnect)),
    ),
    row(
      'deltas in flight at the rehydrate p50 / max',
      '',
      each((x) => `${x.lifeline.reconnect?.inFlightP50} / ${x.lifeline.reconnect?.inFlightMax}`),
    ),
    row(
      'protocol problems seen by tabs',
      '0',
      each(
        (x) =>
          `${x.lifeline.problems}${x.lifeline.firstProblems[0] ? ` (${x.lifeline.firstProblems[0]})` : ''}`,
      ),
    ),
  ];
}

/** The section body. */
export function renderAssistant(report: Report): string {
  const head = `| figure | ${report.cases.map((x) => `${x.n} turns`).join(' | ')} | goal |`;
  const rule = `| --- | ${report.cases.map(() => '---:').join(' | ')} | --- |`;
  const header = [
    `\`${report.command}\` — ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores shared by the backend, the daemon, the tabs and other engineers' work, loopback.`,
    `Each turn: ${report.deltas} text-deltas of 40 bytes at ${report.ratePerS}/s, two tabs per user, ${report.reconnects} second tabs reconnecting mid-stream. Load average (1/5/15 min) before: ${report.loads[0]}; after: ${report.loads[1]}. One round per size; the baseline runs first, against a fresh backend; the daemon serves one warm-up turn before its figures are taken.`,
  ].join('\n');
  return `${header}\n\n${[head, rule, ...rows(report)].join('\n')}`;
}
