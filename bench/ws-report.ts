/**
 * Tables for bench/ws.ts: medians over rounds with their spread, ratios to the bare ceiling and to
 * Socket.IO, and the goals of issue 5 / docs/faults.md#load marked met or not.
 */
import { stats } from './report.ts';
import type { ClientResult } from './ws-client.ts';
import type { ServerKind } from './ws-protocols.ts';

/** Every client result of a run; `size` 0 marks the sustained-load case. */
export type Runs = Array<{ kind: ServerKind; size: number; result: ClientResult }>;

type Pick = (result: ClientResult) => number | undefined;

const LABEL: Record<ServerKind, string> = {
  bare: 'bare `Bun.serve` (ceiling)',
  lifeline: 'lifeline (compiled)',
  socketio: 'Socket.IO 4.8 on Node, recovery on',
};
const KINDS: ServerKind[] = ['bare', 'lifeline', 'socketio'];

function values(runs: Runs, kind: ServerKind, size: number, pick: Pick): number[] {
  return runs
    .filter((run) => run.kind === kind && run.size === size)
    .map((run) => pick(run.result))
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
}

function median(runs: Runs, kind: ServerKind, size: number, pick: Pick): number {
  return stats(values(runs, kind, size, pick)).median;
}

function cell(runs: Runs, kind: ServerKind, size: number, pick: Pick, digits: number): string {
  const sample = values(runs, kind, size, pick);
  if (sample.length === 0) return '–';
  const s = stats(sample);
  const f = (x: number) =>
    x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return sample.length === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

const heldRssPerConnKb: Pick = (r) =>
  r.rssOpenMb === undefined || !r.connect
    ? undefined
    : ((r.rssOpenMb - r.rssIdleMb) * 1024) / r.connect.ok;

function sizeTable(runs: Runs, size: number): string {
  const rows = KINDS.map((kind) => {
    const c = (pick: Pick, digits: number) => cell(runs, kind, size, pick, digits);
    return `| ${LABEL[kind]} | ${c((r) => r.connect?.p50, 2)} | ${c((r) => r.connect?.p99, 2)} | ${c((r) => r.connect?.perS, 0)} | ${c((r) => r.roundTrip?.perS, 0)} | ${c((r) => r.roundTrip?.p50, 1)} / ${c((r) => r.roundTrip?.p99, 1)} | ${c((r) => r.rssOpenMb, 0)} / ${c((r) => r.rssHeldMb, 0)} | ${c(heldRssPerConnKb, 1)} | ${c((r) => (r.connect?.errors ?? 0) + (r.roundTrip?.errors ?? 0), 0)} |`;
  });
  return [
    `**${size.toLocaleString('en-US')} connections**`,
    '',
    '| server | connect → first frame p50 ms | p99 ms | connects/s | round trips/s | round trip p50 / p99 ms | server RSS MB, open / after round trips | RSS per connection KB | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** A figure where bigger is better (true) or smaller is better (false). */
const FIGURES: Array<{ name: string; pick: Pick; higher: boolean }> = [
  { name: 'connect p50', pick: (r) => r.connect?.p50, higher: false },
  { name: 'connect p99', pick: (r) => r.connect?.p99, higher: false },
  { name: 'connects/s', pick: (r) => r.connect?.perS, higher: true },
  { name: 'round trips/s', pick: (r) => r.roundTrip?.perS, higher: true },
  { name: 'round trip p99', pick: (r) => r.roundTrip?.p99, higher: false },
  { name: 'RSS per connection', pick: heldRssPerConnKb, higher: false },
];

function ratioLines(runs: Runs, size: number): { lines: string[]; goals: string[] } {
  const lines: string[] = [];
  const behind: string[] = [];
  for (const figure of FIGURES) {
    const l = median(runs, 'lifeline', size, figure.pick);
    const b = median(runs, 'bare', size, figure.pick);
    const s = median(runs, 'socketio', size, figure.pick);
    const ahead = figure.higher ? l > s : l < s;
    if (!ahead) behind.push(figure.name);
    lines.push(
      `${figure.name}: ${(l / b).toFixed(2)}× bare, ${(l / s).toFixed(2)}× Socket.IO${ahead ? '' : ' (behind)'}`,
    );
  }
  const ratio =
    median(runs, 'lifeline', size, (r) => r.connect?.p50) /
    median(runs, 'bare', size, (r) => r.connect?.p50);
  const goals = [
    `| connect p50 ≤ 1.25× bare at ${size} | ${ratio.toFixed(2)}× | ${ratio <= 1.25 ? 'met' : '**not met**'} |`,
    `| ahead of Socket.IO on every figure at ${size} | ${behind.length === 0 ? 'ahead on all' : `behind on ${behind.join(', ')}`} | ${behind.length === 0 ? 'met' : '**not met**'} |`,
  ];
  return { lines, goals };
}

function loadTables(runs: Runs, stormSize: number): { text: string; goals: string[] } {
  const storm = KINDS.map((kind) => {
    const c = (pick: Pick, digits: number) => cell(runs, kind, stormSize, pick, digits);
    return `| ${LABEL[kind]} | ${c((r) => r.storm?.ok, 0)} | ${c((r) => r.storm?.errors, 0)} | ${c((r) => r.storm?.recovered, 0)} | ${c((r) => r.storm?.p50, 2)} | ${c((r) => r.storm?.p99, 2)} | ${c((r) => r.storm?.perS, 0)} |`;
  });
  const load = KINDS.map((kind) => {
    const c = (pick: Pick, digits: number) => cell(runs, kind, 0, pick, digits);
    return `| ${LABEL[kind]} | ${c((r) => r.load?.targetPerS, 0)} | ${c((r) => r.load?.perS, 0)} | ${c((r) => r.load?.errors, 0)} | ${c((r) => r.load?.p50, 2)} | ${c((r) => r.load?.p99, 2)} |`;
  });
  const offered = median(runs, 'lifeline', stormSize, (r) => r.storm?.offeredPerS);
  const text = [
    `**Reconnect storm**: ${stormSize.toLocaleString('en-US')} sockets close, then all reconnect with their resume state (lifeline \`since\`/\`epoch\`, Socket.IO \`pid\`/\`offset\`), start times spread evenly over ${((stormSize / offered) * 1000).toFixed(0)} ms (${offered.toFixed(0)} reconnects/s offered). "recovered" counts first frames saying the session was resumed.`,
    '',
    '| server | reconnected | errors | recovered | first frame p50 ms | p99 ms | rehydrates/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...storm,
    '',
    '**Sustained acks**: 100 sockets of 100 users, each sending 20 frames/s open loop (2,000/s), lifeline `message` → `ack` (durable: WAL, synchronous=FULL, group commit), bare echo, Socket.IO emit with ack.',
    '',
    '| server | target/s | acked/s | errors | ack p50 ms | ack p99 ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...load,
  ].join('\n');
  const pick = (p: Pick) => median(runs, 'lifeline', stormSize, p);
  const errors = pick((r) => r.storm?.errors);
  const p99 = pick((r) => r.storm?.p99);
  const rate = pick((r) => r.storm?.perS);
  const acked = median(runs, 'lifeline', 0, (r) => r.load?.perS);
  const ackP99 = median(runs, 'lifeline', 0, (r) => r.load?.p99);
  const rss = pick((r) => r.rssOpenMb);
  const rssAfter = pick((r) => r.rssHeldMb);
  const goals = [
    `| storm: 0 errors, rehydrate p99 ≤ 100 ms | ${errors} errors, p99 ${p99.toFixed(1)} ms | ${errors === 0 && p99 <= 100 ? 'met' : '**not met**'} |`,
    `| storm: ≥ 2,000 rehydrates/s ([faults#load](faults.md#load)) | ${rate.toFixed(0)}/s at ${offered.toFixed(0)}/s offered | ${rate >= 2000 ? 'met' : '**not met**'} |`,
    `| 2,000 acks/s sustained, ack p99 ≤ 20 ms | ${acked.toFixed(0)}/s, p99 ${ackP99.toFixed(1)} ms | ${acked >= 1980 && ackP99 <= 20 ? 'met' : '**not met**'} |`,
    `| RSS ≤ 150 MB at ${stormSize.toLocaleString('en-US')} sockets | ${rss.toFixed(0)} MB open, ${rssAfter.toFixed(0)} MB after round trips | ${rssAfter <= 150 ? 'met' : '**not met**'} |`,
  ];
  return { text, goals };
}

/**
 * RSS per added connection between the smallest and the largest size: each size runs on a fresh
 * server, so the slope leaves out what every fresh process grows by in its first connects (heap
 * capacity, compiled code, page cache) and keeps what one more socket holds.
 */
function marginalRssTable(runs: Runs, sizes: number[]): string {
  const small = Math.min(...sizes);
  const big = Math.max(...sizes);
  if (small === big) return '';
  const slope = (kind: ServerKind) =>
    ((median(runs, kind, big, (r) => r.rssOpenMb) - median(runs, kind, small, (r) => r.rssOpenMb)) *
      1024) /
    (big - small);
  const bare = slope('bare');
  const rows = KINDS.filter((kind) => values(runs, kind, big, (r) => r.rssOpenMb).length > 0).map(
    (kind) =>
      `| ${LABEL[kind]} | ${slope(kind).toFixed(1)} | ${(slope(kind) / bare).toFixed(2)}× |`,
  );
  const range = `${small.toLocaleString('en-US')} → ${big.toLocaleString('en-US')}`;
  return [
    `**RSS per added connection**, ${range} sockets: (RSS open at ${big.toLocaleString('en-US')} − RSS open at ${small.toLocaleString('en-US')}) / ${(big - small).toLocaleString('en-US')}, medians, fresh servers.`,
    '',
    '| server | KB per added connection | ÷ bare |',
    '|---|---:|---:|',
    ...rows,
  ].join('\n');
}

/** Renders the "WebSocket" and "Load" sections' tables. */
export function renderTables(runs: Runs, sizes: number[]): { websocket: string; load: string } {
  const goals: string[] = [];
  const parts: string[] = [];
  for (const size of sizes) {
    const ratios = ratioLines(runs, size);
    goals.push(...ratios.goals);
    parts.push(sizeTable(runs, size), '', `lifeline, medians: ${ratios.lines.join('; ')}.`, '');
  }
  const marginal = marginalRssTable(runs, sizes);
  if (marginal !== '') parts.push(marginal, '');
  const loads = loadTables(runs, Math.max(...sizes));
  goals.push(...loads.goals);
  const goalTable = [
    '| goal (issue 5, [faults#load](faults.md#load)) | lifeline measured | |',
    '|---|---|---|',
    ...goals,
  ].join('\n');
  const notes = [
    "Connect → first frame: from `new WebSocket()` to the first application frame (lifeline `rehydrate` after JWT verification and a SQLite read; the baselines send a ~1 KB JSON on open; Socket.IO after its Engine.IO/namespace handshake), 100 connects in flight. Round trips: every socket sends 10 requests one after another, all sockets at once; lifeline's is a durable `message` → `ack` (a committed SQLite write), the bare server's an echo, Socket.IO's an emit with ack. RSS per connection: (RSS 200 ms after all sockets opened − RSS idle) / sockets, from /proc/PID/status VmRSS; the second RSS figure is after the round trips (lifeline has then also committed 10 messages per socket).",
  ].join('\n');
  return {
    websocket: `${notes}\n\n${parts.join('\n').trim()}\n\n${goalTable}`,
    load: loads.text,
  };
}
