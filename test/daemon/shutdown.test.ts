/**
 * Graceful shutdown of the compiled binary (issue 7, docs/design.md#operations): 50 sockets of ten
 * users each get a `reconnect {after_ms}` notice, jittered over `shutdown.reconnect_window_s`, then
 * close 1012; the process exits 0 within its deadline while the memory service hangs; every
 * acknowledged message is still in the database (delivered or pending) and the file passes `PRAGMA
 * integrity_check`. A second SIGTERM during the drain exits at once and still leaves a sound
 * database. With a slow but live service, the drain delivers what was queued before the process
 * exits.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { type FakeZep, type Fault, startFakeZep } from '../support/fake-zep.ts';
import { waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { type Closed, connect, type WsClient } from '../support/ws.ts';
import { integrityCheck, type OpsServer, openReadOnly, startServer, tokenFor } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SOCKETS = 50;
const USERS = 10;
const MESSAGES = 20;
const WINDOW_S = 4;
const DRAIN_TIMEOUT_S = 3;
const MEMORY_TIMEOUT_MS = 1000;

async function setup(
  prefix: string,
  env: Record<string, string> = {},
  fault: Fault = { kind: 'hang' },
) {
  const dir: TempDir = tempDir(prefix);
  cleanups.push(() => dir[Symbol.dispose]());
  const zep: FakeZep = await startFakeZep({ mode: 'v1' });
  cleanups.push(() => zep.stop());
  const server = await startServer({
    dataDir: dir.join('data'),
    binary: true,
    env: {
      LIFELINE_MEMORY_BACKEND: 'zep',
      LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
      LIFELINE_MEMORY_TIMEOUT_MS: String(MEMORY_TIMEOUT_MS),
      LIFELINE_SHUTDOWN_RECONNECT_WINDOW_S: String(WINDOW_S),
      LIFELINE_SHUTDOWN_DRAIN_TIMEOUT_S: String(DRAIN_TIMEOUT_S),
      ...env,
    },
  });
  cleanups.push(() => server[Symbol.asyncDispose]());
  // From here on the memory service hangs (or is slow): deliveries stay queued.
  await zep.setFault(fault);
  return { dir, zep, server };
}

/** Posts messages through the HTTP API; returns the ids acknowledged with 201. */
async function queueMessages(server: OpsServer, count: number, users = USERS): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = crypto.randomUUID();
    const user = `u${i % users}`;
    const answer = await server.api('POST', `/api/v1/threads/t-${user}/messages`, {
      user_id: user,
      role: 'user',
      content: `queued ${i}`,
      id,
    });
    expect(answer.status).toBe(201);
    acked.push(id);
  }
  return acked;
}

async function openSockets(server: OpsServer, count: number): Promise<WsClient[]> {
  const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => tokenFor(`u${i}`)));
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const { client, first } = await connect(server.wsUrl, {
        headers: { authorization: `Bearer ${tokens[i % USERS]}` },
      });
      expect(first).toMatchObject({ type: 'rehydrate' });
      return client;
    }),
  );
  cleanups.push(() => Promise.all(clients.map((client) => client.close())));
  return clients;
}

function frameType(frame: unknown): unknown {
  return (frame as { type?: unknown }).type;
}

/** Reads the messages table of a stopped daemon's database. */
function messageStates(path: string): Map<string, string> {
  const db = openReadOnly(path);
  try {
    const rows = db.query('SELECT id, state FROM messages').all() as Array<{
      id: string;
      state: string;
    }>;
    return new Map(rows.map((row) => [row.id, row.state]));
  } finally {
    db.close();
  }
}

describe('SIGTERM with the compiled binary', () => {
  test('every socket gets reconnect then 1012, the process exits 0, no acked message is lost', async () => {
    const { server, zep } = await setup('lifeline-ops-shutdown');
    const acked = await queueMessages(server, MESSAGES);
    const clients = await openSockets(server, SOCKETS);
    // The flusher has tried the hung service: the messages are in flight or back to pending.
    await waitFor(() => zep.requests().length > 0);

    const startedMs = performance.now();
    server.signal('SIGTERM');
    const closes: Closed[] = await Promise.all(clients.map((client) => client.closed));
    const exitCode = await server.exited;
    const exitMs = performance.now() - startedMs;

    expect(closes.map((close) => close.code)).toEqual(Array(SOCKETS).fill(1012));
    const afterMs: number[] = [];
    for (const client of clients) {
      // `reconnect` is the last frame before the close, sent exactly once.
      const frames = client.frames;
      expect(frameType(frames[0])).toBe('rehydrate');
      expect(frameType(frames.at(-1))).toBe('reconnect');
      expect(frames.filter((frame) => frameType(frame) === 'reconnect')).toHaveLength(1);
      afterMs.push((frames.at(-1) as { after_ms: number }).after_ms);
    }
    for (const value of afterMs) {
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(WINDOW_S * 1000);
    }
    // Uniform jitter: 50 draws are almost all distinct and span most of the window.
    expect(new Set(afterMs).size).toBeGreaterThan(SOCKETS * 0.8);
    expect(Math.max(...afterMs) - Math.min(...afterMs)).toBeGreaterThan(WINDOW_S * 1000 * 0.5);

    expect(exitCode).toBe(0);
    // The drain deadline, plus one request timeout for a batch still in flight, plus start-up slack.
    expect(exitMs).toBeLessThan(DRAIN_TIMEOUT_S * 1000 + MEMORY_TIMEOUT_MS + 2000);
    const logs = server.logLines().map((line) => line.msg);
    expect(logs).toContain('outbox drained');
    expect(logs.at(-1)).toBe('stopped');

    const states = messageStates(server.dbPath);
    for (const id of acked) expect(['pending', 'delivered']).toContain(states.get(id) as string);
    expect(integrityCheck(server.dbPath)).toBe('ok');
    const spread = { min: Math.min(...afterMs), max: Math.max(...afterMs) };
    process.stderr.write(
      `shutdown: exit ${exitCode} after ${Math.round(exitMs)} ms; after_ms ${JSON.stringify(spread)}, ` +
        `${new Set(afterMs).size} distinct; states ${JSON.stringify(countStates(states, acked))}\n`,
    );
  }, 30_000);

  test('a second SIGTERM during the drain exits at once and leaves a sound database', async () => {
    const { server } = await setup('lifeline-ops-shutdown2', {
      // A long drain: the hung service would hold it for the whole deadline.
      LIFELINE_SHUTDOWN_DRAIN_TIMEOUT_S: '60',
      LIFELINE_MEMORY_TIMEOUT_MS: '30000',
      LIFELINE_BREAKER_FAILURE_THRESHOLD: '1000',
    });
    const acked = await queueMessages(server, MESSAGES);
    const clients = await openSockets(server, 5);
    server.signal('SIGTERM');
    await server.waitForLog('draining');
    await Promise.all(clients.map((client) => client.closed));
    // Still draining (the hung batch holds it): the listener stays open and answers 503, and
    // every route but health, readiness and metrics refuses work.
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('draining');
    const api = await fetch(`${server.baseUrl}/api/v1/admin/status`);
    expect(api.status).toBe(503);
    expect(server.logLines().map((line) => line.msg)).not.toContain('stopped');
    const startedMs = performance.now();
    server.signal('SIGTERM');
    const exitCode = await server.exited;
    const exitMs = performance.now() - startedMs;

    // Forced: not the clean 0 of a finished drain (daemon/signals.ts exits 1).
    expect(exitCode).toBe(1);
    expect(exitMs).toBeLessThan(5000);
    expect(server.logLines().map((line) => line.msg)).toContain('second signal: exiting now');
    expect(integrityCheck(server.dbPath)).toBe('ok');
    const states = messageStates(server.dbPath);
    for (const id of acked) expect(['pending', 'delivered']).toContain(states.get(id) as string);
    process.stderr.write(`second SIGTERM: exit ${exitCode} after ${Math.round(exitMs)} ms\n`);
  }, 30_000);
});

describe('SIGTERM while the memory service is slow but up', () => {
  // Regression (fixed in cc222b8): drain gave up at once with `stalled` when the background
  // loop's batch held the only slot (slow start), delivering nothing during the drain.
  test('the drain delivers the queued messages before the process exits 0', async () => {
    const { server, zep } = await setup('lifeline-ops-shutdown3', {}, { kind: 'none' });
    // The service holds every request until released: the first batch is in flight at SIGTERM
    // (slow start sends one batch until the service has answered once).
    const release = Promise.withResolvers<void>();
    zep.onRequest(() => release.promise);
    const acked = await queueMessages(server, MESSAGES, 2);
    await waitFor(() => zep.inFlight === 1);
    server.signal('SIGTERM');
    await server.waitForLog('draining');
    // A slow answer, not a dead service: it comes 300 ms into the drain.
    setTimeout(() => release.resolve(), 300);
    expect(await server.exited).toBe(0);

    const drained = server.logLines().find((line) => line.msg === 'outbox drained');
    process.stderr.write(`slow service: ${JSON.stringify(drained)}\n`);
    expect(drained).toMatchObject({ pending: 0, reason: 'empty' });
    const states = messageStates(server.dbPath);
    expect(acked.map((id) => states.get(id))).toEqual(Array(MESSAGES).fill('delivered'));
    const delivered = new Set(zep.uniqueDelivered().map((delivery) => delivery.uuid));
    for (const id of acked) expect(delivered.has(id)).toBe(true);
    expect(integrityCheck(server.dbPath)).toBe('ok');
  }, 30_000);
});

function countStates(states: Map<string, string>, ids: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const state = states.get(id) ?? 'missing';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}
