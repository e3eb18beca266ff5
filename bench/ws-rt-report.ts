/**
 * The "Round trips" tables of bench/ws.ts (issue 18): the same race with the user's other sockets
 * fanned out to (10 sockets per user) and without (one socket per user), each server's round trips
 * per second, latency, fanned-out frames received per round trip and server CPU per round trip,
 * with ratios to the bare ceiling and to Socket.IO measured in the same run.
 */
import { stats } from './report.ts';
import type { ClientResult } from './ws-client.ts';
import type { ServerKind } from './ws-protocols.ts';

/** Every per-size client result of a run, with its sockets-per-user count. */
export type RoundTripRuns = Array<{
  kind: ServerKind;
  size: number;
  perUser: number;
  result: ClientResult;
}>;

type Pick = (result: ClientResult) => number | undefined;

const LABEL: Record<ServerKind, string> = {
  bare: 'bare `Bun.serve`, echo + `publish` (ceiling)',
  lifeline: 'lifeline (compiled), durable `message` → `ack` + push',
  socketio: 'Socket.IO 4.8, `socket.to(room).emit` + ack',
};
const KINDS: ServerKind[] = ['bare', 'lifeline', 'socketio'];

const perS: Pick = (r) => r.roundTrip?.perS;
const p99: Pick = (r) => r.roundTrip?.p99;
const pushesPerTrip: Pick = (r) =>
  r.roundTrip && r.roundTripPushes !== undefined ? r.roundTripPushes / r.roundTrip.ok : undefined;
const cpuUsPerTrip: Pick = (r) =>
  r.roundTrip && r.roundTripCpuMs !== undefined && r.roundTrip.ok > 0
    ? (r.roundTripCpuMs * 1000) / r.roundTrip.ok
    : undefined;

function sample(runs: RoundTripRuns, kind: ServerKind, size: number, per: number, pick: Pick) {
  return runs
    .filter((run) => run.kind === kind && run.size === size && run.perUser === per)
    .map((run) => pick(run.result))
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
}

function median(runs: RoundTripRuns, kind: ServerKind, size: number, per: number, pick: Pick) {
  return stats(sample(runs, kind, size, per, pick)).median;
}

function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function cell(runs: RoundTripRuns, kind: ServerKind, size: number, per: number, pick: Pick, d = 0) {
  const s = sample(runs, kind, size, per, pick);
  if (s.length === 0) return '–';
  const st = stats(s);
  return s.length === 1
    ? fmt(st.median, d)
    : `${fmt(st.median, d)} (${fmt(st.min, d)}–${fmt(st.max, d)})`;
}

function table(runs: RoundTripRuns, size: number, per: number): string {
  const rate = (kind: ServerKind) => median(runs, kind, size, per, perS);
  const rows = KINDS.filter((kind) => sample(runs, kind, size, per, perS).length > 0).map(
    (kind) => {
      const c = (pick: Pick, d = 0) => cell(runs, kind, size, per, pick, d);
      const errors = c((r) => r.roundTrip?.errors);
      return `| ${LABEL[kind]} | ${c(perS)} | ${c((r) => r.roundTrip?.p50, 1)} / ${c(p99, 1)} | ${c(pushesPerTrip, 2)} | ${c(cpuUsPerTrip, 0)} | ${fmt(rate(kind) / rate('bare'), 2)}× | ${fmt(rate(kind) / rate('socketio'), 2)}× | ${errors} |`;
    },
  );
  const title =
    per === 1
      ? 'one socket per user (no fan-out)'
      : `${per} sockets per user, each request fanned out to the other ${per - 1}`;
  return [
    `**${size.toLocaleString('en-US')} sockets, ${title}**`,
    '',
    '| server | round trips/s | p50 / p99 ms | fanned-out frames received per round trip | server CPU µs per round trip | ÷ bare | ÷ Socket.IO | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function goals(runs: RoundTripRuns, size: number, per: number): string[] {
  const l = median(runs, 'lifeline', size, per, perS);
  const s = median(runs, 'socketio', size, per, perS);
  const lp99 = median(runs, 'lifeline', size, per, p99);
  return [
    `| durable round trips/s ≥ Socket.IO emit+ack, ${size} sockets × ${per} per user | ${fmt(l, 0)}/s vs ${fmt(s, 0)}/s (${fmt(l / s, 2)}×) | ${l >= s ? 'met' : '**not met**'} |`,
    `| ack p99 ≤ 20 ms, ${size} sockets × ${per} per user | ${fmt(lp99, 1)} ms | ${lp99 <= 20 ? 'met' : '**not met**'} |`,
  ];
}

/** Renders the "Round trips" section: one table per size and sockets-per-user count, then goals. */
export function renderRoundTrips(runs: RoundTripRuns, sizes: number[], perUsers: number[]): string {
  const parts = [
    'Every socket sends its requests one after another, all sockets at once; a round trip ends at its answer (lifeline: the `ack`, sent only after the SQLite commit with WAL and synchronous=FULL; the baselines: the echo or the Socket.IO ack). Every server also sends each request to the user’s other sockets: lifeline the committed `message` push, the bare server a Bun `publish` to the user’s topic, Socket.IO an emit to the user’s room (kept in memory for recovery). Fanned-out frames are counted as the clients received them until the last answer. Server CPU is utime + stime of the server process (all threads) over the round-trip phase, from /proc/PID/stat.',
  ];
  const goalRows: string[] = [];
  for (const size of sizes) {
    for (const per of perUsers) {
      parts.push('', table(runs, size, per));
      goalRows.push(...goals(runs, size, per));
    }
  }
  parts.push('', '| goal (issue 18) | lifeline measured | |', '|---|---|---|', ...goalRows);
  return parts.join('\n');
}
