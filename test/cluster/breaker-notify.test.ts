/**
 * The shared circuit travels by NOTIFY (issue 9: "when one instance opens the circuit the others
 * open too (notified)"). Two MemoryServices on one PostgreSQL database, each with a 60 s poll, so
 * within this test only the breaker_state trigger's notification, heard by B's cluster runtime,
 * can make B follow A.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ClusterRuntime, createCluster } from '../../src/daemon/cluster.ts';
import { silentLogger } from '../../src/lib/log.ts';
import type { MemoryBackend } from '../../src/memory/client.ts';
import { type BreakerOptionsMs, MemoryService } from '../../src/memory/service.ts';
import { createZepBackend } from '../../src/memory/zep/backend.ts';
import { createPgStore } from '../../src/storage/postgres/connect.ts';
import {
  BREAKER_CHANNEL,
  type BreakerNotice,
  listenForBreaker,
} from '../../src/storage/postgres/notify.ts';
import { openPgPool, type PgHandle } from '../../src/storage/postgres/open.ts';
import type { Store } from '../../src/storage/store.ts';
import { FakeClock } from '../support/clock.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../support/postgres.ts';
import { waitFor } from '../support/spawn.ts';

const BREAKER: BreakerOptionsMs = {
  failureThreshold: 3,
  cooldownMs: 60_000,
  cooldownMaxMs: 60_000,
  backoff: 2,
  halfOpenMaxCalls: 1,
  jitterRatio: 0,
};
const OUTBOX = { batchSize: 10, flushIntervalMs: 60_000, maxInFlight: 1 };
/** Longer than the test: a poll tick never happens. */
const POLL_MS = 60_000;

let server: PgServer | undefined;

interface Pair extends AsyncDisposable {
  a: MemoryService;
  b: MemoryService;
  url: string;
  /** The shared row as stored. */
  row(): ReturnType<NonNullable<Store['sharedBreaker']>['readSharedBreaker']>;
  /** Times B's runtime asked its service to read the row. */
  wakes: { b: number };
}

function backend(): MemoryBackend {
  // Never called: no message is submitted, the outbox stays empty.
  return createZepBackend({ baseUrl: 'http://127.0.0.1:9', apiVersion: 'v1', timeoutMs: 1000 });
}

async function service(store: Store, clock: FakeClock): Promise<MemoryService> {
  return MemoryService.create({
    store,
    backend: backend(),
    breaker: BREAKER,
    outbox: OUTBOX,
    clock,
    breakerPollMs: POLL_MS,
  });
}

async function pair(): Promise<Pair> {
  const pg = server!;
  const name = databaseName('bnt');
  const url = await pg.createDatabase(name);
  const clock = new FakeClock();
  const storeA = await createPgStore({ url, clock, poolSize: 2, applicationName: 'lifeline/a' });
  const storeB = await createPgStore({ url, clock, poolSize: 2, applicationName: 'lifeline/b' });
  const a = await service(storeA, clock);
  const b = await service(storeB, clock);
  a.start();
  b.start();
  const wakes = { b: 0 };
  const side: PgHandle = openPgPool(url, 'side', { poolSize: 2, applicationName: 'lifeline/b' });
  const runtime: ClusterRuntime = createCluster({
    instanceId: 'b',
    side,
    store: storeB,
    hasLocal: () => false,
    closeLocal: () => {},
    onBreakerChanged: () => {
      wakes.b += 1;
      void b.syncShared();
    },
    logger: silentLogger,
    clock,
  });
  await runtime.start('127.0.0.1:0');
  // Both services have read the row once (start); from here on B's poll never ticks.
  await a.persisted();
  await b.persisted();
  return {
    a,
    b,
    url,
    wakes,
    row: () => storeA.sharedBreaker!.readSharedBreaker('zep'),
    async [Symbol.asyncDispose]() {
      await runtime.stop();
      await a.stop();
      await b.stop();
      await side.close();
      await storeA.close();
      await storeB.close();
      await pg.dropDatabase(name);
    },
  };
}

describe.skipIf(!postgresTestsEnabled('the breaker notification tests'))('breaker NOTIFY', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('B opens when A opens, by the notification alone (B polls every 60 s)', async () => {
    await using p = await pair();
    expect(p.b.circuit().snapshot.state).toBe('closed');
    p.a.openCircuit();
    await p.a.persisted();
    await waitFor(() => p.b.circuit().snapshot.state === 'open');
    expect(p.b.status()).toBe('write_only');
    expect(p.wakes.b).toBeGreaterThanOrEqual(1);
    expect(p.b.circuit().snapshot.reason).toBe(p.a.circuit().snapshot.reason);
  });

  test('B closes when A closes, by the notification alone', async () => {
    await using p = await pair();
    p.a.openCircuit();
    await p.a.persisted();
    await waitFor(() => p.b.circuit().snapshot.state === 'open');
    p.a.closeCircuit();
    await p.a.persisted();
    await waitFor(() => p.b.circuit().snapshot.state === 'closed');
    expect(p.b.status()).toBe('ok');
  });

  test("B's own write is not announced back to B", async () => {
    await using p = await pair();
    p.b.openCircuit();
    await p.b.persisted();
    // A follows only through the row; read it by hand, then wait on a write by A that B hears.
    await p.a.syncShared();
    expect(p.a.circuit().snapshot.state).toBe('open');
    p.a.closeCircuit();
    await p.a.persisted();
    await waitFor(() => p.b.circuit().snapshot.state === 'closed');
    // Two versions were written (B's open, A's close); B heard only A's.
    expect(p.wakes.b).toBe(1);
  });

  test('the trigger announces each committed version with its backend and writer', async () => {
    await using p = await pair();
    const listen = openPgPool(p.url, 'listen', { poolSize: 1 });
    const notices: BreakerNotice[] = [];
    const subscription = await listenForBreaker(listen.sql, {
      onNotice: (notice) => notices.push(notice),
      onResubscribed: () => {},
    });
    try {
      p.a.openCircuit();
      await p.a.persisted();
      await waitFor(() => notices.length === 1);
      const row = await p.row();
      expect(row?.state).toBe('open');
      expect(notices).toEqual([{ backend: 'zep', version: row!.version, origin: 'lifeline/a' }]);
      expect(BREAKER_CHANNEL).toBe('lifeline_breaker');
    } finally {
      await subscription.close();
      await listen.close();
    }
  });
});
