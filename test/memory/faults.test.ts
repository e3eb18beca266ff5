/**
 * The catalogue's memory-service fault rows (M1–M16) that fit CI, one test each, in the scaled
 * profile: FakeClock for cooldowns, small real timeouts where the transport's own timer matters.
 */
import { describe, expect, test } from 'bun:test';
import { createServer, type Socket } from 'node:net';
import { createZepBackend } from '../../src/memory/zep/backend.ts';
import type { ZepMode } from '../support/fake-zep.ts';
import { waitFor } from '../support/spawn.ts';
import { type HarnessOptions, linesMatching, memoryHarness, runFor } from './harness.ts';

/**
 * Each pinned version against its own server; `add` is its add-messages path suffix, and
 * `foreign` a server whose routes the pin does not have.
 */
const VERSIONS = [
  { version: 'v1', mode: 'v1', add: '/memory', foreign: 'v2-ce' },
  { version: 'v2', mode: 'v2-ce', add: '/memory', foreign: 'v1' },
  { version: 'v3', mode: 'v3', add: '/messages', foreign: 'v1' },
] as const satisfies ReadonlyArray<{
  version: 'v1' | 'v2' | 'v3';
  mode: ZepMode;
  add: string;
  foreign: ZepMode;
}>;

for (const { version, mode, add, foreign } of VERSIONS) {
  const memoryHarnessFor = (options: HarnessOptions = {}) =>
    memoryHarness({ mode, apiVersion: version, ...options });

  describe(`memory service faults (docs/faults.md#memory-faults), zep ${version}`, () => {
    test('M1 hang: each call aborts at the timeout, opens after 5, sockets are closed', async () => {
      await using h = await memoryHarnessFor({ timeoutMs: 100 });
      await h.zep.setFault({ kind: 'hang' });
      const started = performance.now();
      expect(await h.service.search('u1', 't1', 'q', 3)).toEqual({ results: [], degraded: true });
      expect(performance.now() - started).toBeLessThan(1000);
      for (let i = 0; i < 4; i++) await h.service.search('u1', 't1', 'q', 3);
      expect(h.service.status()).toBe('write_only');
      await waitFor(() => h.zep.openConnections === 0, 5000);
      h.clock.advance(30_000);
      await h.service.search('u1', 't1', 'q', 3);
      expect(h.service.circuit().snapshot.state).toBe('open');
      expect(h.service.circuit().snapshot.reopenCount).toBe(1);
      expect(h.zep.requests().length).toBe(6);
    });

    test('M2 slow but within the timeout: stays closed, no retries, no duplicates', async () => {
      await using h = await memoryHarnessFor({ timeoutMs: 1000 });
      await h.zep.setFault({ kind: 'delay', ms: 150 });
      for (let i = 0; i < 6; i++) await h.submit(`t${i}`, `m${i}`);
      for (let i = 0; i < 3; i++) await h.service.flusher.flushOnce();
      expect(await h.service.search('u1', 't1', 'm1', 3)).toMatchObject({ degraded: false });
      expect(h.service.status()).toBe('ok');
      expect(linesMatching(h, /circuit/).length).toBe(0);
      expect(h.zep.duplicates()).toBe(0);
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 6 });
    });

    test('M3 slow past the timeout: writes are indeterminate, redelivered, deduplicated, none lost', async () => {
      await using h = await memoryHarnessFor({ timeoutMs: 100, outbox: { maxInFlight: 1 } });
      await h.submit('t1', 'creates the session');
      await h.service.flusher.flushOnce();
      const sent = [];
      for (let i = 0; i < 3; i++) sent.push(await h.submit('t1', `m${i}`));
      await h.zep.setFault({ kind: 'delay', ms: 300, pathIncludes: add });
      await h.service.flusher.flushOnce();
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 3 });
      await h.zep.heal();
      h.clock.advance(1000);
      await h.service.flusher.flushOnce();
      await waitFor(() => h.zep.deliveries().length >= 7, 2000);
      expect(
        h.zep
          .uniqueDelivered()
          .slice(1)
          .map((d) => d.uuid),
      ).toEqual(sent.map((m) => m.id));
      expect(h.zep.duplicates()).toBe(3);
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 4 });
    });

    test('M4 fail×4, ok, fail×4 stays closed: failures must be consecutive', async () => {
      await using h = await memoryHarnessFor();
      const fail = () => h.zep.setFault({ kind: 'status', status: 500 });
      await fail();
      for (let i = 0; i < 4; i++) await h.service.search('u1', 't1', 'q', 3);
      await h.zep.heal();
      await h.service.search('u1', 't1', 'q', 3);
      await fail();
      for (let i = 0; i < 4; i++) await h.service.search('u1', 't1', 'q', 3);
      expect(h.service.status()).toBe('ok');
      await h.service.search('u1', 't1', 'q', 3);
      expect(h.service.status()).toBe('write_only');
    });

    test(`M5 pinned ${version} against a ${foreign} server: misconfigured at once, only pinned routes, one check per cooldown_max`, async () => {
      await using h = await memoryHarnessFor({ mode: foreign });
      const statuses: string[] = [];
      h.service.onStatusChange((s) => statuses.push(s));
      for (let i = 0; i < 20; i++) await h.submit(`t${i % 4}`, `m${i}`);
      await h.service.flusher.flushOnce();
      expect(h.service.status()).toBe('misconfigured');
      expect(statuses).toEqual(['misconfigured']);
      expect(h.zep.requests().length).toBe(1);
      await runFor(h, 600_000, 5_000);
      const requests = h.zep.requests();
      expect(requests.length).toBe(3);
      const pinned = version === 'v1' ? '/api/v1/' : '/api/v2/';
      expect(requests.filter((r) => !r.path.startsWith(pinned))).toEqual([]);
      if (version === 'v3')
        expect(requests.filter((r) => /\/(sessions|memory)\b/.test(r.path))).toEqual([]);
      expect(await h.db.store.outboxStats()).toEqual({ pending: 20, dead: 0, delivered: 0 });
      const warnings = h.logs.filter((l) => l.level !== 'debug' && /circuit/.test(l.msg));
      expect(warnings.length).toBe(3);
    });

    test.each([
      ['120', 120_000],
      ['1', 30_000],
      ['1e9', 300_000],
    ])(
      'M6 429 with Retry-After %s: opens at once and sends nothing for %d ms',
      async (value, quietMs) => {
        await using h = await memoryHarnessFor();
        await h.zep.setFault({ kind: 'status', status: 429, headers: { 'retry-after': value } });
        await h.submit('t1', 'm');
        await h.service.flusher.flushOnce();
        expect(h.service.status()).toBe('write_only');
        expect(h.service.circuit().snapshot.reason).toBe('retry_after');
        await runFor(h, quietMs - 1000, 1000);
        expect(h.zep.requests().length).toBe(1);
        await runFor(h, 2000, 1000);
        expect(h.zep.requests().length).toBe(2);
      },
    );

    test.each([['soon'], ['-5']])(
      'M6 429 with junk Retry-After %j is an ordinary failure',
      async (value) => {
        await using h = await memoryHarnessFor();
        await h.zep.setFault({ kind: 'status', status: 429, headers: { 'retry-after': value } });
        await h.service.search('u1', 't1', 'q', 3);
        expect(h.service.status()).toBe('ok');
      },
    );

    test('M7 connection refused: instant failures, at most 5 attempts before open, no spinning', async () => {
      await using h = await memoryHarnessFor();
      await h.zep.setFault({ kind: 'refuse' });
      for (let i = 0; i < 500; i++) await h.submit(`t${i % 50}`, `m${i}`);
      await runFor(h, 10_000, 100);
      expect(h.service.status()).toBe('write_only');
      expect(h.fetchCalls()).toBeLessThanOrEqual(5);
      await h.zep.heal();
    });

    test('M8 reset mid-body: a read is degraded, a write is redelivered and deduplicated', async () => {
      await using h = await memoryHarnessFor();
      const m = await h.submit('t1', 'hello there');
      await h.zep.setFault({ kind: 'reset_mid_body', pathIncludes: add });
      await h.service.flusher.flushOnce();
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 1 });
      expect(await h.service.recent('t1', 5)).toEqual({ messages: [], degraded: true });
      await h.zep.heal();
      await h.service.flusher.flushOnce();
      expect(h.zep.uniqueDelivered().map((d) => d.uuid)).toEqual([m.id]);
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 1 });
    });

    test.each([
      ['truncated', { kind: 'truncated' }],
      ['invalid JSON', { kind: 'invalid_json' }],
      ['wrong shape', { kind: 'wrong_shape', body: { results: 'nope' } }],
      ['deep nesting', { kind: 'wrong_shape', body: `${'['.repeat(10_000)}${']'.repeat(10_000)}` }],
      ['2 MiB body', { kind: 'wrong_shape', body: `[${'"x",'.repeat(500_000)}"x"]` }],
    ] as const)(
      'M9 %s: a read fails degraded, never throws; a 2xx write still counts as delivered',
      async (_name, fault) => {
        await using h = await memoryHarnessFor();
        await h.submit('t1', 'a message');
        await h.service.flusher.flushOnce();
        await h.zep.setFault({ ...fault, pathIncludes: '/search' } as never);
        expect(await h.service.search('u1', 't1', 'message', 3)).toEqual({
          results: [],
          degraded: true,
        });
        expect(h.service.circuit().snapshot.consecutiveFailures).toBe(1);
        if (fault.kind !== 'truncated') {
          await h.zep.setFault({ ...fault, pathIncludes: add, methods: ['POST'] } as never);
          await h.submit('t1', 'another');
          await h.service.flusher.flushOnce();
          expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 2 });
        }
      },
    );

    test('M11 flapping: opens at most once per down phase, drains in each up phase in order', async () => {
      await using h = await memoryHarnessFor({
        breaker: { cooldownMs: 1000, cooldownMaxMs: 4000 },
      });
      const sent = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        await h.zep.setFault({ kind: 'status', status: 503 });
        for (let i = 0; i < 10; i++) sent.push(await h.submit('t1', `c${cycle}m${i}`));
        await runFor(h, 5_000, 200);
        await h.zep.heal();
        await runFor(h, 5_000, 200);
      }
      expect(h.zep.uniqueDelivered().map((d) => d.uuid)).toEqual(sent.map((m) => m.id));
      const opens = linesMatching(h, /^circuit OPEN/).length;
      expect(opens).toBeGreaterThanOrEqual(3);
      expect(linesMatching(h, /^closed$/).length).toBe(3);
    });

    test('M15 the server closes idle keep-alive sockets: the next call still succeeds', async () => {
      await using h = await memoryHarnessFor();
      await h.submit('t1', 'first');
      await h.service.flusher.flushOnce();
      await h.zep.setFault({ kind: 'refuse' });
      await h.zep.heal();
      await h.submit('t1', 'second');
      await h.service.flusher.flushOnce();
      if ((await h.db.store.outboxStats()).pending > 0) await h.service.flusher.flushOnce();
      expect(h.service.status()).toBe('ok');
      expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 2 });
    });

    test('M16 slow drip: the timeout covers the whole body, not only the headers', async () => {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.once('data', () => {
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 200000\r\n\r\n[',
          );
          const drip = setInterval(() => socket.write('"x",'), 20);
          socket.on('close', () => clearInterval(drip));
          socket.on('error', () => clearInterval(drip));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const backend = createZepBackend({
          baseUrl: `http://127.0.0.1:${port}`,
          apiVersion: version,
          timeoutMs: 300,
        });
        const started = performance.now();
        const outcome = await backend.search('t1', 'u1', 'q', 3);
        expect(outcome).toMatchObject({ kind: 'failure', failure: 'timeout' });
        expect(performance.now() - started).toBeLessThan(2000);
        await waitFor(() => [...sockets].every((s) => s.destroyed), 3000);
      } finally {
        for (const s of sockets) s.destroy();
        server.close();
      }
    });
  });
}
