/**
 * Token verification in a reconnect storm (docs/runtime.md#connect-budget): 5,000 sockets, each
 * with its own HS256 token, connect once (every token goes through jose), then all reconnect with
 * the same tokens. Measured with the verified-token cache of src/realtime/auth.ts (default size)
 * and with it off (`cacheSize: 0`, the baseline: jose on every connect), in the same process and
 * run. Median of `--rounds` rounds. `--write` updates the "## Token verification" section.
 *
 *   bun bench/verify-cache.ts [--tokens 5000] [--rounds 7] [--write]
 */
import { parseArgs } from 'node:util';
import { createVerifier, mintToken } from '../src/realtime/auth.ts';
import { replaceSection, stats } from './report.ts';

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    tokens: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '7' },
    write: { type: 'boolean' },
  },
});
const count = Number(values.tokens);
const rounds = Number(values.rounds);
const secret = 'bench-secret-0123456789abcdef-0123456789';

const tokens: string[] = [];
for (let i = 0; i < count; i += 1) {
  // A distinct exp per token: tokens minted in the same second for the same user would be equal.
  tokens.push(await mintToken({ secret, userId: `u${Math.floor(i / 10)}`, ttlS: 3600 + i }));
}

/** Verifies every token once, one after another; returns µs per verification. */
async function pass(verify: (token: string) => Promise<{ ok: boolean }>): Promise<number> {
  const started = performance.now();
  for (const token of tokens) {
    if (!(await verify(token)).ok) throw new Error('a valid token was refused');
  }
  return ((performance.now() - started) * 1000) / tokens.length;
}

const samples = { coldOn: [] as number[], stormOn: [] as number[], stormOff: [] as number[] };
for (let round = 0; round < rounds; round += 1) {
  const cached = await createVerifier({ hsSecret: secret, leewayS: 30 });
  const uncached = await createVerifier({ hsSecret: secret, leewayS: 30, cacheSize: 0 });
  samples.coldOn.push(await pass(cached.verify));
  await pass(uncached.verify);
  samples.stormOn.push(await pass(cached.verify));
  samples.stormOff.push(await pass(uncached.verify));
}

const off = stats(samples.stormOff).median;
const row = (label: string, sample: number[]) => {
  const s = stats(sample);
  const perS = Math.round(1e6 / s.median).toLocaleString('en-US');
  return `| ${label} | ${s.median.toFixed(2)} | ${s.min.toFixed(2)}–${s.max.toFixed(2)} | ${perS} | ${(s.median / off).toFixed(3)}× |`;
};
const table = [
  '| case | µs per verification (median) | spread | verifications/s on one core | vs cache off |',
  '|---|---:|---:|---:|---:|',
  row('reconnect, cache off: jose `jwtVerify` every time (baseline)', samples.stormOff),
  row('first connect, cache on: jose + cache insert', samples.coldOn),
  row('reconnect, cache on: cache hit', samples.stormOn),
  '',
  `${count.toLocaleString('en-US')} distinct HS256 tokens, ${rounds} rounds, ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores. A storm of ${count.toLocaleString('en-US')} reconnects spends ${((off * count) / 1000).toFixed(0)} ms of CPU verifying tokens without the cache and ${((stats(samples.stormOn).median * count) / 1000).toFixed(1)} ms with it.`,
].join('\n');
process.stdout.write(`${table}\n`);
if (values.write) {
  replaceSection(
    'Token verification',
    `\`bun bench/verify-cache.ts --tokens ${count} --rounds ${rounds}\` — in process, the verifier alone.\n\n${table}`,
  );
}
