/**
 * The preflight memory check: one /healthz plus one authenticated probe on the pinned version, no
 * fallback, clear fixes naming the config key, and no request at all while the persisted circuit
 * is open (docs/design.md#preflight, #wrong-api-version, #preflight-open-circuit).
 */
import { describe, expect, test } from 'bun:test';
import { memoryCheck } from '../../src/memory/checks.ts';
import { createZepBackend } from '../../src/memory/zep/backend.ts';
import { freshStore } from '../support/db.ts';
import { startFakeZep, type ZepMode } from '../support/fake-zep.ts';
import { freePort } from '../support/spawn.ts';

const ctx = () => ({ strict: false, signal: new AbortController().signal });

async function runCheck(mode: ZepMode, apiVersion: 'v1' | 'v2' | 'v3', apiKey = 'k') {
  await using zep = await startFakeZep({ mode, apiKey: 'k' });
  await using db = freshStore();
  const backend = createZepBackend({ baseUrl: zep.url, apiVersion, apiKey, timeoutMs: 2000 });
  const outcome = await memoryCheck({ zep: backend, store: db.store }).run(ctx());
  return { outcome, requests: zep.requests().map((r) => `${r.method} ${r.path}`) };
}

describe('memoryCheck', () => {
  test('local passes without a network and is a warn-unless-strict check', async () => {
    await using db = freshStore();
    const check = memoryCheck({ zep: null, store: db.store });
    expect(check.warnUnlessStrict).toBe(true);
    expect((await check.run(ctx())).status).toBe('ok');
  });

  test.each([
    ['v1', 'v1', ['GET /healthz', 'GET /api/v1/user']],
    ['v2-ce', 'v2', ['GET /healthz', 'GET /api/v2/users-ordered']],
    ['v3', 'v3', ['GET /healthz', 'GET /api/v2/projects/info']],
  ] as const)(
    'a %s server pinned %s passes with exactly two requests',
    async (mode, version, expected) => {
      const { outcome, requests } = await runCheck(mode, version);
      expect(outcome.status).toBe('ok');
      expect(requests).toEqual([...expected]);
    },
  );

  test.each([
    ['v1', 'v2', '/api/v1/'],
    ['v2-ce', 'v1', '/api/v2/'],
  ] as const)(
    'a %s server pinned %s warns naming memory.zep.api_version, never trying %s',
    async (mode, version, other) => {
      const { outcome, requests } = await runCheck(mode, version);
      expect(outcome.status).toBe('warn');
      expect(outcome.detail).toContain(`memory.zep.api_version = "${version}"`);
      expect(outcome.fix).toContain('set memory.zep.api_version');
      expect(requests.filter((r) => r.includes(other))).toEqual([]);
      expect(requests.length).toBe(2);
    },
  );

  test.each([
    ['v1', 'v3', 'v1'],
    ['v2-ce', 'v3', 'v2'],
    ['v2-ce', 'v1', 'v2'],
    ['v1', 'v2', 'v1'],
    ['v3', 'v2', 'v3'],
    ['v3', 'v1', 'v3'],
  ] as const)(
    'a %s server pinned %s: the fix names the version it speaks (%s), one probe only',
    async (mode, pinned, speaks) => {
      const { outcome, requests } = await runCheck(mode, pinned);
      expect(outcome.status).toBe('warn');
      expect(outcome.detail).toContain(`memory.zep.api_version = "${pinned}"`);
      expect(outcome.fix).toContain('set memory.zep.api_version');
      expect(outcome.fix).toContain(`"${speaks}"`);
      expect(requests.length).toBe(2);
      const probe =
        pinned === 'v1'
          ? '/api/v1/'
          : pinned === 'v2'
            ? '/api/v2/users-ordered'
            : '/api/v2/projects/info';
      expect(requests[1]).toContain(probe);
    },
  );

  test('a wrong key warns about memory.zep.api_key', async () => {
    const { outcome } = await runCheck('v2-ce', 'v2', 'wrong');
    expect(outcome).toMatchObject({ status: 'warn' });
    expect(outcome.fix).toContain('memory.zep.api_key');
  });

  test('a refused connection warns naming memory.zep.base_url', async () => {
    await using db = freshStore();
    const url = `http://127.0.0.1:${freePort()}`;
    const backend = createZepBackend({ baseUrl: url, apiVersion: 'v1', timeoutMs: 500 });
    const outcome = await memoryCheck({ zep: backend, store: db.store }).run(ctx());
    expect(outcome.status).toBe('warn');
    expect(outcome.detail).toContain(url);
    expect(outcome.fix).toContain('memory.zep.base_url');
  });

  test('while the persisted circuit is open it sends nothing and warns "open until"', async () => {
    await using zep = await startFakeZep({ mode: 'v1' });
    await using db = freshStore();
    const nextProbeAtWallMs = Date.now() + 60_000;
    await db.store.saveBreakerState('zep', {
      state: 'open',
      consecutiveFailures: 5,
      openedAtWallMs: Date.now(),
      nextProbeAtWallMs,
      reopenCount: 0,
      lastError: 'HTTP 503',
      reason: 'failures',
    });
    const backend = createZepBackend({ baseUrl: zep.url, apiVersion: 'v1', timeoutMs: 2000 });
    const outcome = await memoryCheck({ zep: backend, store: db.store }).run(ctx());
    expect(outcome.status).toBe('warn');
    expect(outcome.detail).toContain(`open until ${new Date(nextProbeAtWallMs).toISOString()}`);
    expect(zep.requests()).toEqual([]);
  });
});
