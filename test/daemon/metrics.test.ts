/**
 * `/metrics` of a real daemon after a short scripted session (issue 7): two sockets of one user
 * write, search and set preferences, one sends a bad frame, the operator opens and closes the
 * circuit; then every family the issue names is present with the values the session implies, and
 * `promtool check metrics` (Debian's `prometheus` package) accepts the whole output.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { commandMissing, toolReady } from '../support/tools.ts';
import { connect, type WsClient } from '../support/ws.ts';
import { type OpsServer, startServer, tokenFor } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The families issue 7 names; process_* are checked apart. */
const FAMILIES = [
  'lifeline_ws_connections',
  'lifeline_rehydrate_duration_seconds',
  'lifeline_messages_in_total',
  'lifeline_messages_out_total',
  'lifeline_messages_rejected_total',
  'lifeline_memory_request_duration_seconds',
  'lifeline_breaker_state',
  'lifeline_breaker_transitions_total',
  'lifeline_breaker_skipped_calls_total',
  'lifeline_outbox_depth',
  'lifeline_outbox_delivered_total',
  'lifeline_outbox_dead_letters',
  'lifeline_history_events',
] as const;

/** One sample line: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample matching `name` and every label in `labels` (undefined if none). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length}`);
  return found[0]?.value;
}

async function scrape(server: OpsServer): Promise<{ text: string; samples: Sample[] }> {
  const answer = await fetch(`${server.baseUrl}/metrics`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toContain('text/plain');
  const text = await answer.text();
  return { text, samples: parseSamples(text) };
}

async function runSession(server: OpsServer): Promise<void> {
  const token = await tokenFor('u1');
  const url = `${server.wsUrl}?thread=t1`;
  const headers = { authorization: `Bearer ${token}` };
  const a = await connect(url, { headers });
  const b = await connect(url, { headers });
  cleanups.push(
    () => a.client.close(),
    () => b.client.close(),
  );
  expect(a.first.type).toBe('rehydrate');
  expect(b.first.type).toBe('rehydrate');
  const id = randomUUID();
  const ack = await a.client.request({
    type: 'message',
    id,
    thread_id: 't1',
    role: 'user',
    content: 'hello metrics',
  });
  expect(ack).toMatchObject({ type: 'ack', id });
  expect(await b.client.nextOfType('message')).toMatchObject({ type: 'message' });
  const found = await a.client.request({
    type: 'memory.query',
    id: 'q1',
    thread_id: 't1',
    query: 'x',
  });
  expect(found).toMatchObject({ type: 'memory.result', id: 'q1' });
  const prefs = await a.client.request({
    type: 'preferences.set',
    id: 'p1',
    preferences: { theme: 'dark' },
  });
  expect(prefs).toMatchObject({ type: 'ack', id: 'p1' });
  const bad = await a.client.request('{"type":');
  expect(bad).toMatchObject({ type: 'error', code: 'bad_request' });
  await breakerRoundTrip(server, a.client);
  // Each transition is pushed as a `memory` event to every socket of the user.
  const memoryPushes = () => b.client.frames.filter((frame) => isType(frame, 'memory')).length;
  await waitFor(() => memoryPushes() === 2);
}

function isType(frame: unknown, type: string): boolean {
  return typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === type;
}

/** Opens the circuit, makes one call it skips, closes it again. */
async function breakerRoundTrip(server: OpsServer, client: WsClient): Promise<void> {
  expect((await server.api('POST', '/api/v1/admin/breaker/open')).status).toBe(200);
  const skipped = await client.request({
    type: 'memory.query',
    id: 'q2',
    thread_id: 't1',
    query: 'while open',
  });
  // `memory` status pushes may arrive first; the reply is what matters.
  const reply =
    skipped.type === 'memory.result' ? skipped : await client.nextOfType('memory.result');
  expect(reply).toMatchObject({ id: 'q2', degraded: true });
  expect((await server.api('POST', '/api/v1/admin/breaker/close')).status).toBe(200);
}

describe('/metrics after a scripted session', () => {
  test('holds every family with the session’s values, and promtool accepts it', async () => {
    const dir: TempDir = tempDir('lifeline-ops-metrics');
    cleanups.push(() => dir[Symbol.dispose]());
    const server = await startServer({ dataDir: dir.join('data') });
    cleanups.push(() => server[Symbol.asyncDispose]());

    await runSession(server);
    // The local backend delivers the one message through the outbox in the background.
    await waitFor(async () => {
      const { samples } = await scrape(server);
      return (sampleValue(samples, 'lifeline_outbox_delivered_total') ?? 0) >= 1;
    });
    const { text, samples } = await scrape(server);

    const families = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => match[1] as string),
    );
    for (const family of FAMILIES) expect(families).toContain(family);
    expect([...families].filter((name) => name.startsWith('process_')).length).toBeGreaterThan(3);

    expect(sampleValue(samples, 'lifeline_ws_connections')).toBe(2);
    expect(sampleValue(samples, 'lifeline_rehydrate_duration_seconds_count')).toBe(2);
    expect(sampleValue(samples, 'lifeline_messages_in_total', { type: 'message' })).toBe(1);
    expect(sampleValue(samples, 'lifeline_messages_in_total', { type: 'memory.query' })).toBe(2);
    expect(sampleValue(samples, 'lifeline_messages_in_total', { type: 'preferences.set' })).toBe(1);
    expect(sampleValue(samples, 'lifeline_messages_in_total', { type: 'invalid' })).toBe(1);
    expect(sampleValue(samples, 'lifeline_messages_out_total', { type: 'rehydrate' })).toBe(2);
    expect(sampleValue(samples, 'lifeline_messages_out_total', { type: 'message' })).toBe(1);
    expect(
      sampleValue(samples, 'lifeline_messages_rejected_total', { reason: 'bad_request' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'lifeline_memory_request_duration_seconds_count', {
        backend: 'local',
        operation: 'search',
        outcome: 'answer',
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'lifeline_breaker_state', { backend: 'local' })).toBe(0);
    expect(sampleValue(samples, 'lifeline_breaker_transitions_total', { to: 'open' })).toBe(1);
    expect(sampleValue(samples, 'lifeline_breaker_transitions_total', { to: 'closed' })).toBe(1);
    expect(
      sampleValue(samples, 'lifeline_breaker_skipped_calls_total', {
        backend: 'local',
        operation: 'search',
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'lifeline_outbox_depth')).toBe(0);
    expect(sampleValue(samples, 'lifeline_outbox_delivered_total')).toBe(1);
    expect(sampleValue(samples, 'lifeline_outbox_dead_letters')).toBe(0);
    // Events of u1: the message, the preferences, and the two `memory` status pushes.
    expect(sampleValue(samples, 'lifeline_history_events')).toBe(4);

    const promtoolMissing = commandMissing('promtool', 'apt-get install prometheus');
    if (!toolReady('promtool check metrics', promtoolMissing)) return;
    const promtool = Bun.spawn(['promtool', 'check', 'metrics'], {
      stdin: new TextEncoder().encode(text),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [out, err, code] = await Promise.all([
      new Response(promtool.stdout).text(),
      new Response(promtool.stderr).text(),
      promtool.exited,
    ]);
    expect({ code, out, err }).toEqual({ code: 0, out: '', err: '' });
  }, 30_000);

  test('lifeline_history_events shows the history trimmed to history.max_events at start', async () => {
    const dir: TempDir = tempDir('lifeline-ops-history');
    cleanups.push(() => dir[Symbol.dispose]());
    const first = await startServer({ dataDir: dir.join('data') });
    cleanups.push(() => first[Symbol.asyncDispose]());
    for (let i = 0; i < 12; i++) {
      const user = i < 10 ? 'u1' : 'u2';
      const put = await first.api('PUT', `/api/v1/users/${user}/preferences`, { n: i });
      expect(put.status).toBe(200);
    }
    expect(sampleValue((await scrape(first)).samples, 'lifeline_history_events')).toBe(12);
    expect(await first.stop()).toBe(0);

    const second = await startServer({
      dataDir: dir.join('data'),
      env: { LIFELINE_HISTORY_MAX_EVENTS: '3' },
    });
    cleanups.push(() => second[Symbol.asyncDispose]());
    // u1 keeps its last 3 events, u2 both of its 2.
    await waitFor(async () => {
      return sampleValue((await scrape(second)).samples, 'lifeline_history_events') === 5;
    });
  }, 30_000);
});

describe('/metrics right after start', () => {
  // The process collectors start after the bind (docs/benchmarks.md, Startup); the very first
  // scrape must already carry them, each family once.
  test('the first scrape holds the process and event-loop families', async () => {
    const dir: TempDir = tempDir('lifeline-ops-metrics');
    cleanups.push(() => dir[Symbol.dispose]());
    const server = await startServer({ dataDir: dir.join('data') });
    cleanups.push(() => server[Symbol.asyncDispose]());
    const { text, samples } = await scrape(server);
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => match[1] as string);
    expect(new Set(types).size).toBe(types.length);
    expect(types.filter((name) => name.startsWith('process_')).length).toBeGreaterThan(3);
    expect(types).toContain('nodejs_eventloop_lag_seconds');
    expect(types).not.toContain('nodejs_active_handles_total');
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    for (const family of FAMILIES) expect(types).toContain(family);
  });
});
