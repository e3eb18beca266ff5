/**
 * Summarises `.cpuprofile` files (from `bun bench/ws.ts --profile dir`): self time per function,
 * each sample weighted by the sampling interval rather than its time delta (Bun charges an idle
 * gap to the sample after it, which would bill seconds of waiting to whatever ran next).
 *
 *   bun bench/ws-profile.ts dir/*.cpuprofile [--top 30] [--interval-us 250]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    'interval-us': { type: 'string', default: '250' },
  },
});
const intervalUs = Number(values['interval-us']);

function shortUrl(url: string): string {
  const at = url.search(/(src|node_modules)\//);
  return at === -1 ? url.split('/').slice(-2).join('/') : url.slice(at);
}

const self = new Map<string, number>();
let total = 0;
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node);
  }
  const label = (node: ProfileNode | undefined) =>
    node === undefined
      ? '(root)'
      : `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  for (const id of profile.samples) {
    const node = byId.get(id);
    const frame = node?.callFrame;
    if (node === undefined || frame === undefined) continue;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    // A native function (no url) is named with its JS caller: `send` alone says little.
    const key = frame.url === '' ? `${label(node)} ← ${label(parent.get(id))}` : label(node);
    self.set(key, (self.get(key) ?? 0) + intervalUs);
    total += intervalUs;
  }
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
process.stdout.write(
  `busy samples: ${(total / 1000).toFixed(1)} ms\n\n| self % | ms | function |\n|---:|---:|---|\n`,
);
for (const [key, us] of rows) {
  process.stdout.write(
    `| ${((us / total) * 100).toFixed(1)} | ${(us / 1000).toFixed(1)} | \`${key}\` |\n`,
  );
}
