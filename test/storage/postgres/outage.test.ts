/**
 * PostgreSQL-only: what the store does while the server is down or drops its connections.
 * Nothing is acknowledged without a commit, calls fail `unavailable`, and the store recovers by
 * itself (health included) once the server is back, with no gap in any user's seqs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { LifelineError } from '../../../src/lib/errors.ts';
import { createPgStore } from '../../../src/storage/postgres/connect.ts';
import type { AppendResult, Store } from '../../../src/storage/store.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../../support/postgres.ts';
import { waitFor } from '../../support/spawn.ts';
import { msg } from '../contract/contract.ts';

let server: PgServer | undefined;

async function freshStore(): Promise<{ store: Store; url: string }> {
  const url = await server!.createDatabase(databaseName());
  return { store: await createPgStore({ url, probeIntervalMs: 20 }), url };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return error instanceof LifelineError ? error.code : String(error);
}

describe.skipIf(!postgresTestsEnabled('the PostgreSQL outage tests'))('postgres outage', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('while the server is down reads and writes are unavailable; health recovers by itself', async () => {
    const { store } = await freshStore();
    try {
      await store.appendEvent('u1', 'e', 1);
      await server!.stopServer();
      expect(await codeOf(store.eventsSince('u1', 0, 10))).toBe('unavailable');
      expect(await codeOf(store.appendEvent('u1', 'e', 2))).toBe('unavailable');
      expect(store.storageHealth().ok).toBe(false);
      expect(store.storageHealth().reason).toContain('PostgreSQL');
      await server!.startServer();
      // No write is made: the probe alone brings health back.
      await waitFor(() => store.storageHealth().ok);
      expect(await store.appendEvent('u1', 'e', 3)).toBe(2);
    } finally {
      await server!.startServer();
      await store.close();
    }
  });

  test('a restart mid-burst acknowledges only committed writes and leaves no seq gap', async () => {
    const { store } = await freshStore();
    try {
      const writes: Array<Promise<AppendResult>> = [];
      const inputs = Array.from({ length: 300 }, (_, i) => msg({ content: `m${i}` }));
      for (const [i, m] of inputs.entries()) {
        writes.push(store.appendMessage(m));
        if (i === 100) await writes[50];
      }
      const restart = server!.restart();
      const settled = await Promise.allSettled(writes);
      await restart;
      await waitFor(() => store.storageHealth().ok);
      const acked = inputs.filter((_, i) => settled[i]!.status === 'fulfilled').map((m) => m.id);
      expect(acked).toContain(inputs[50]!.id);
      for (const r of settled) {
        if (r.status === 'rejected') expect((r.reason as LifelineError).code).toBe('unavailable');
      }
      const rows = await store.recentMessages('t1', 1000);
      const stored = new Set(rows.map((r) => r.id));
      for (const id of acked) expect(stored.has(id)).toBe(true);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      const replay = await store.eventsSince('u1', 0, 1000);
      expect(replay.kind === 'ok' && replay.events.length).toBe(rows.length);
    } finally {
      await server!.startServer();
      await store.close();
    }
  });

  test('connections killed by the server are replaced on the next call', async () => {
    const { store, url } = await freshStore();
    try {
      await Promise.all([store.appendEvent('u1', 'e', 1), store.appendEvent('u2', 'e', 1)]);
      const admin = new Bun.SQL(server!.url);
      const database = new URL(url).pathname.slice(1);
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database}`;
      await admin.close();
      // At most the first call after the kill may fail; the store must then work again.
      await store.appendEvent('u1', 'e', 2).catch(() => 0);
      await waitFor(async () => (await store.appendEvent('u3', 'e', 1).catch(() => 0)) > 0);
      expect(store.storageHealth()).toEqual({ ok: true });
      const replay = await store.eventsSince('u1', 0, 10);
      expect(replay.kind === 'ok' && replay.events.map((e) => e.seq)).toEqual(
        replay.kind === 'ok' ? replay.events.map((_, i) => i + 1) : [],
      );
    } finally {
      await store.close();
    }
  });

  test('opening against a server that is not there fails unavailable', async () => {
    const url = `postgres://postgres@127.0.0.1:${server!.port + 1}/nope`;
    expect(await codeOf(createPgStore({ url }))).toBe('unavailable');
  });
});
