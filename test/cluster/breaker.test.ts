/**
 * One breaker for the cluster (issue 9): three MemoryServices, each on its own pool of one
 * PostgreSQL database (what three instances are to the storage), one dead fake Zep. A FakeClock
 * shared by all drives cooldowns; the flushers are stepped with `flushOnce()`, and each service
 * reads the shared row with `syncShared()` where its one-second poll would.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/log.ts';
import { type BreakerOptionsMs, MemoryService } from '../../src/memory/service.ts';
import { createZepBackend } from '../../src/memory/zep/backend.ts';
import { createPgStore } from '../../src/storage/postgres/connect.ts';
import type { Store } from '../../src/storage/store.ts';
import { FakeClock } from '../support/clock.ts';
import { type FakeZep, startFakeZep } from '../support/fake-zep.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../support/postgres.ts';

const BREAKER: BreakerOptionsMs = {
  failureThreshold: 3,
  cooldownMs: 1000,
  cooldownMaxMs: 4000,
  backoff: 2,
  halfOpenMaxCalls: 1,
  jitterRatio: 0,
};
const OUTBOX = { batchSize: 10, flushIntervalMs: 200, maxInFlight: 4 };

let server: PgServer | undefined;

interface Cluster extends AsyncDisposable {
  clock: FakeClock;
  zep: FakeZep;
  stores: Store[];
  services: MemoryService[];
  logs: string[];
}

async function cluster(n: number): Promise<Cluster> {
  const pg = server!;
  const name = databaseName('brk');
  const url = await pg.createDatabase(name);
  const clock = new FakeClock();
  const zep = await startFakeZep({ mode: 'v1' });
  const logs: string[] = [];
  const stores: Store[] = [];
  const services: MemoryService[] = [];
  for (let i = 0; i < n; i++) {
    const store = await createPgStore({ url, clock, poolSize: 3 });
    stores.push(store);
    const logger = createLogger({
      level: 'debug',
      format: 'json',
      sink: (line) => logs.push(line),
    });
    const backend = createZepBackend({ baseUrl: zep.url, apiVersion: 'v1', timeoutMs: 1000 });
    services.push(
      await MemoryService.create({
        store,
        backend,
        breaker: BREAKER,
        outbox: OUTBOX,
        clock,
        logger,
      }),
    );
  }
  return {
    clock,
    zep,
    stores,
    services,
    logs,
    async [Symbol.asyncDispose]() {
      for (const s of services) await s.stop();
      for (const s of stores) await s.close();
      await zep.stop();
      await pg.dropDatabase(name);
    },
  };
}

/** Submits one message per service, each in its own thread. */
async function seed(c: Cluster, perService = 1): Promise<void> {
  for (const [i, s] of c.services.entries()) {
    for (let k = 0; k < perService; k++) {
      const id = crypto.randomUUID();
      const result = await s.submit({
        userId: `u${i}`,
        threadId: `t${i}-${k}`,
        id,
        role: 'user',
        content: `m${i}-${k}`,
      });
      expect(result.kind).toBe('ok');
    }
  }
}

/** One round on every service: read the shared row (the poll), then one flusher round. */
async function roundRobin(c: Cluster): Promise<void> {
  for (const s of c.services) {
    await s.syncShared();
    await s.flusher.flushOnce();
    await s.persisted();
  }
}

const row = (c: Cluster) => c.stores[0]!.sharedBreaker!.readSharedBreaker('zep');

describe.skipIf(!postgresTestsEnabled('the cluster breaker tests'))('cluster breaker', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('three instances, a dead memory service, five cooldowns: threshold per instance, then one probe per cooldown', async () => {
    await using c = await cluster(3);
    await c.zep.setFault({ kind: 'status', status: 503 });
    await seed(c, 2);
    // Until every instance is open: each sends at most failure_threshold requests.
    for (let i = 0; i < 10 && c.services.some((s) => s.status() === 'ok'); i++) await roundRobin(c);
    expect(c.services.map((s) => s.status())).toEqual(['write_only', 'write_only', 'write_only']);
    const beforeOpen = c.zep.requests().length;
    expect(beforeOpen).toBeGreaterThanOrEqual(BREAKER.failureThreshold);
    expect(beforeOpen).toBeLessThanOrEqual(3 * BREAKER.failureThreshold);
    const opened = (await row(c))!;
    expect(opened.state).toBe('open');

    let probes = 0;
    for (let cooldown = 1; cooldown <= 5; cooldown++) {
      const { nextProbeAtWallMs } = (await row(c))!;
      // Nothing goes out before the probe time, however often the instances try.
      c.clock.advance(Math.max(0, nextProbeAtWallMs! - c.clock.wallMs() - 1));
      await roundRobin(c);
      expect(c.zep.requests().length).toBe(beforeOpen + probes);
      c.clock.advance(1);
      // Every instance is due now and none has heard of another's probe: all try at once,
      // flushers and reads, twice over.
      for (let k = 0; k < 2; k++) {
        await Promise.all(c.services.map((s) => s.flusher.flushOnce()));
        const reads = await Promise.all(c.services.map((s) => s.search('u0', 't0-0', 'q', 3)));
        expect(reads.map((r) => r.degraded)).toEqual([true, true, true]);
        for (const s of c.services) await s.persisted();
      }
      probes++;
      expect(c.zep.requests().length).toBe(beforeOpen + probes);
      const after = (await row(c))!;
      expect(after.state).toBe('open');
      expect(after.reopenCount).toBe(cooldown);
    }
    // The cooldown grew cluster-wide (1 s, 2 s, 4 s, capped at 4 s) and every instance follows it.
    const last = (await row(c))!;
    expect(last.nextProbeAtWallMs! - c.clock.wallMs()).toBe(BREAKER.cooldownMaxMs);
    for (const s of c.services) {
      await s.syncShared();
      expect(s.circuit().snapshot.nextProbeAtWallMs).toBe(last.nextProbeAtWallMs);
    }

    // The service comes back: one instance's probe closes the circuit for all, nothing is lost.
    await c.zep.heal();
    c.clock.advance(BREAKER.cooldownMaxMs);
    for (let i = 0; i < 5 && c.zep.uniqueDelivered().length < 6; i++) await roundRobin(c);
    expect(c.services.map((s) => s.status())).toEqual(['ok', 'ok', 'ok']);
    expect(c.zep.uniqueDelivered()).toHaveLength(6);
    expect((await row(c))!.state).toBe('closed');
  });

  test('an operator opening the circuit on one instance opens it on all; closing on another closes all', async () => {
    await using c = await cluster(3);
    const [a, b, other] = c.services as [MemoryService, MemoryService, MemoryService];
    a.openCircuit(60_000);
    await a.persisted();
    for (const s of [b, other]) await s.syncShared();
    expect(c.services.map((s) => s.status())).toEqual(['write_only', 'write_only', 'write_only']);
    await seed(c);
    for (const s of c.services) await s.flusher.flushOnce();
    expect(c.zep.requests()).toEqual([]);
    expect(c.logs.some((l) => l.includes('circuit OPEN by operator (shared'))).toBe(true);

    b.closeCircuit();
    await b.persisted();
    for (const s of [a, other]) await s.syncShared();
    expect(c.services.map((s) => s.status())).toEqual(['ok', 'ok', 'ok']);
    for (const s of c.services) await s.flusher.flushOnce();
    expect(c.zep.uniqueDelivered()).toHaveLength(3);
  });

  test('a stale instance that opens on its own adopts the newer shared state instead of overwriting it', async () => {
    await using c = await cluster(2);
    const [a, b] = c.services as [MemoryService, MemoryService];
    await c.zep.setFault({ kind: 'status', status: 503 });
    await seed(c, 1);
    // a opens and fails two probes: the row is at reopen 2 with a 4 s cooldown.
    for (let i = 0; i < BREAKER.failureThreshold; i++) await a.flusher.flushOnce();
    await a.persisted();
    for (let probe = 0; probe < 2; probe++) {
      c.clock.advance(BREAKER.cooldownMaxMs);
      await a.flusher.flushOnce();
      await a.persisted();
    }
    const shared = (await row(c))!;
    expect(shared.reopenCount).toBe(2);
    // b never polled: its own failures open it, but its write loses and it takes the row's state.
    for (let i = 0; i < BREAKER.failureThreshold; i++) await b.flusher.flushOnce();
    await b.persisted();
    expect((await row(c))!.version).toBe(shared.version);
    expect(b.circuit().snapshot.reopenCount).toBe(2);
    expect(b.circuit().snapshot.nextProbeAtWallMs).toBe(shared.nextProbeAtWallMs);
  });
});
