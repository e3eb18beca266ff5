/**
 * The Zep backend against the fake Zep server: pinned prefixes, auth per version, create-on-first-
 * use with its cache and traps, v2 chunking, and every request validated against the version's
 * schema (swagger.json for v1, docs/zep.md#shapes for v2).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { MemoryMessage } from '../../../src/memory/client.ts';
import { createZepBackend } from '../../../src/memory/zep/backend.ts';
import { partUuid, splitContent } from '../../../src/memory/zep/v2.ts';
import { type FakeZep, startFakeZep, type ZepMode } from '../../support/fake-zep.ts';

let zep: FakeZep | null = null;
afterEach(async () => {
  await zep?.stop();
  zep = null;
});

async function start(mode: ZepMode, apiKey?: string): Promise<FakeZep> {
  zep = await startFakeZep({ mode, apiKey, validate: true });
  return zep;
}

const msg = (content: string, role = 'user'): MemoryMessage => ({
  uuid: crypto.randomUUID(),
  role,
  content,
});
const paths = (z: FakeZep) => z.requests().map((r) => `${r.method} ${r.path}`);
const problems = (z: FakeZep) => z.requests().flatMap((r) => r.problems ?? []);

describe('ZepBackend v1', () => {
  test('creates the user and session on first use, then only posts memory', async () => {
    const z = await start('v1');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    expect(await backend.addMessages('t1', 'u1', [msg('hello')])).toEqual({
      kind: 'answer',
      value: undefined,
    });
    expect(await backend.addMessages('t1', 'u1', [msg('again')])).toEqual({
      kind: 'answer',
      value: undefined,
    });
    expect(paths(z)).toEqual([
      'POST /api/v1/user',
      'POST /api/v1/sessions',
      'POST /api/v1/sessions/t1/memory',
      'POST /api/v1/sessions/t1/memory',
    ]);
    expect(problems(z)).toEqual([]);
    expect(z.requests().every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  test('sends each message with its lifeline UUID and role, without role_type', async () => {
    const z = await start('v1');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    const m = { ...msg('hi', 'assistant'), metadata: { k: 1 } };
    await backend.addMessages('t1', 'u1', [m]);
    const body = z.requests().at(-1)?.body;
    expect(body).toEqual({
      messages: [{ uuid: m.uuid, role: 'assistant', content: 'hi', metadata: { k: 1 } }],
    });
    expect(z.uniqueDelivered().map((d) => d.uuid)).toEqual([m.uuid]);
  });

  test('sends Bearer only when a key is configured', async () => {
    const z = await start('v1');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v1',
      apiKey: 'jwt',
      timeoutMs: 2000,
    });
    await backend.health();
    expect(z.requests()[0]?.headers.authorization).toBe('Bearer <redacted>');
  });

  test('reads recent messages, searches and deletes under /api/v1 only', async () => {
    const z = await start('v1');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    await backend.addMessages('t1', 'u1', [msg('the cat sat'), msg('a dog ran', 'assistant')]);
    const recent = await backend.recentMessages('t1', 10);
    expect(recent).toMatchObject({
      kind: 'answer',
      value: [{ content: 'the cat sat' }, { content: 'a dog ran', role: 'assistant' }],
    });
    const hits = await backend.search('t1', 'u1', 'cat', 5);
    expect(hits.kind === 'answer' && hits.value.map((h) => h.content)).toEqual(['the cat sat']);
    expect(await backend.deleteThread('t1')).toEqual({ kind: 'answer', value: undefined });
    expect(await backend.deleteThread('t1')).toEqual({ kind: 'answer', value: undefined });
    expect(z.requests().every((r) => r.path.startsWith('/api/v1/'))).toBe(true);
    expect(problems(z)).toEqual([]);
  });

  test('a blank search query returns [] without a request', async () => {
    const z = await start('v1');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    expect(await backend.search('t1', 'u1', ' \u200b ', 5)).toEqual({ kind: 'answer', value: [] });
    expect(z.requests()).toEqual([]);
  });

  test('legacy 404 for empty memory reads as no memory', async () => {
    const z = await start('v1-legacy-404');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    expect(await backend.recentMessages('nobody', 5)).toEqual({ kind: 'answer', value: [] });
  });

  test('an empty message list is rejected without a request', async () => {
    const z = await start('v1');
    const backend = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    expect((await backend.addMessages('t1', 'u1', [])).kind).toBe('rejected');
    expect((await backend.addMessages('t1', 'u1', [msg('  ')])).kind).toBe('rejected');
    expect(z.requests()).toEqual([]);
  });

  test('the "already exists" trap: a deleted session is revived by adding to it', async () => {
    const z = await start('v1');
    const first = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    await first.addMessages('t1', 'u1', [msg('one')]);
    await first.deleteThread('t1');
    const second = createZepBackend({ baseUrl: z.url, apiVersion: 'v1', timeoutMs: 2000 });
    const m = msg('two');
    expect(await second.addMessages('t1', 'u1', [m])).toEqual({ kind: 'answer', value: undefined });
    expect(z.store.liveSession('t1')?.messages.map((x) => x.uuid)).toEqual([m.uuid]);
  });
});

describe('ZepBackend v2', () => {
  test('CE: users plural, role_type plus role, Api-Key, all under /api/v2', async () => {
    const z = await start('v2-ce', 'secret');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'secret',
      timeoutMs: 2000,
    });
    const m = msg('hello', 'assistant');
    const odd = msg('from a bot', 'narrator');
    expect((await backend.addMessages('t1', 'u1', [m, odd])).kind).toBe('answer');
    expect(paths(z)).toEqual([
      'POST /api/v2/users',
      'POST /api/v2/sessions',
      'POST /api/v2/sessions/t1/memory',
    ]);
    expect(z.requests().at(-1)?.body).toEqual({
      messages: [
        { uuid: m.uuid, role_type: 'assistant', role: 'assistant', content: 'hello' },
        { uuid: odd.uuid, role_type: 'norole', role: 'narrator', content: 'from a bot' },
      ],
    });
    expect(z.requests().every((r) => r.headers.authorization === 'Api-Key <redacted>')).toBe(true);
    expect(problems(z)).toEqual([]);
  });

  test('CE: more than 30 messages go in chunks of at most 30, in order', async () => {
    const z = await start('v2-ce', 'k');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'k',
      timeoutMs: 2000,
    });
    expect(backend.maxBatchMessages).toBe(30);
    const many = Array.from({ length: 45 }, (_, i) => msg(`m${i}`));
    expect((await backend.addMessages('t1', 'u1', many)).kind).toBe('answer');
    const posts = z.requests().filter((r) => r.path.endsWith('/memory'));
    expect(posts.map((r) => (r.body as { messages: unknown[] }).messages.length)).toEqual([30, 15]);
    expect(z.uniqueDelivered().map((d) => d.uuid)).toEqual(many.map((m) => m.uuid));
    expect(problems(z)).toEqual([]);
  });

  test('CE: content over 2,500 bytes is split into parts with stable UUIDs, nothing cut', async () => {
    const z = await start('v2-ce', 'k');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'k',
      timeoutMs: 2000,
    });
    const long = msg(`${'é'.repeat(2000)}${'x'.repeat(1500)}`);
    expect((await backend.addMessages('t1', 'u1', [long])).kind).toBe('answer');
    const stored = z.store.liveSession('t1')?.messages ?? [];
    expect(stored.map((m) => m.content).join('')).toBe(long.content);
    expect(stored.map((m) => m.uuid)).toEqual([
      long.uuid,
      partUuid(long.uuid, 1),
      partUuid(long.uuid, 2),
    ]);
    expect(problems(z)).toEqual([]);
  });

  test('Cloud: a 404 on add drops the cached session, creates it again and retries once', async () => {
    const z = await start('v2-cloud', 'k');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'k',
      timeoutMs: 2000,
    });
    await backend.addMessages('t1', 'u1', [msg('one')]);
    z.store.sessions.delete('t1');
    z.clearRequests();
    expect((await backend.addMessages('t1', 'u1', [msg('two')])).kind).toBe('answer');
    expect(paths(z)).toEqual([
      'POST /api/v2/sessions/t1/memory',
      'POST /api/v2/sessions',
      'POST /api/v2/sessions/t1/memory',
    ]);
  });

  test('CE: search goes through /sessions/search with the session id and reads facts', async () => {
    const z = await start('v2-ce', 'k');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'k',
      timeoutMs: 2000,
    });
    await backend.addMessages('t1', 'u1', [msg('the cat sat'), msg('a dog ran')]);
    const hits = await backend.search('t1', 'u1', 'cat', 5);
    expect(hits).toMatchObject({
      kind: 'answer',
      value: [{ kind: 'fact', content: 'the cat sat' }],
    });
    expect(z.requests().at(-1)?.body).toEqual({ text: 'cat', session_ids: ['t1'] });
    expect(await backend.recentMessages('t1', 1)).toMatchObject({
      kind: 'answer',
      value: [{ content: 'a dog ran' }],
    });
    expect(await backend.recentMessages('none', 3)).toEqual({ kind: 'answer', value: [] });
    expect(problems(z)).toEqual([]);
  });

  test('a wrong key is misconfigured (401), not a failure', async () => {
    const z = await start('v2-ce', 'right');
    const backend = createZepBackend({
      baseUrl: z.url,
      apiVersion: 'v2',
      apiKey: 'wrong',
      timeoutMs: 2000,
    });
    expect(await backend.health()).toMatchObject({
      kind: 'misconfigured',
      reason: 'unauthorized',
      status: 401,
    });
  });
});

describe('pinned version', () => {
  test.each([
    ['v2', 'v1', '/api/v1/'],
    ['v1', 'v2-ce', '/api/v2/'],
  ] as const)(
    'a client pinned to %s against a %s server reports route_404 and never tries %s',
    async (pinned, mode, other) => {
      const z = await start(mode, 'k');
      const backend = createZepBackend({
        baseUrl: z.url,
        apiVersion: pinned,
        apiKey: 'k',
        timeoutMs: 2000,
      });
      expect(await backend.health()).toMatchObject({ kind: 'misconfigured', reason: 'route_404' });
      expect(await backend.addMessages('t1', 'u1', [msg('x')])).toMatchObject({
        kind: 'misconfigured',
        reason: 'route_404',
      });
      expect(await backend.search('t1', 'u1', 'x', 3)).toMatchObject({
        kind: 'misconfigured',
        reason: 'route_404',
      });
      expect(await backend.recentMessages('t1', 3)).toMatchObject({
        kind: 'misconfigured',
        reason: 'route_404',
      });
      expect(z.requests().filter((r) => r.path.startsWith(other))).toEqual([]);
      expect(z.requests().length).toBe(4);
    },
  );
});

describe('pinned version: v3 and the sessions API share /api/v2 but no routes', () => {
  test.each([
    ['v3', 'v2-ce', /\/sessions(\/|$)/],
    ['v3', 'v2-cloud', /\/sessions(\/|$)/],
    ['v2', 'v3', /\/(threads|graph|projects)(\/|$)/],
  ] as const)(
    'a client pinned to %s against a %s server reports route_404 and never builds %s',
    async (pinned, mode, other) => {
      const z = await start(mode, 'k');
      const backend = createZepBackend({
        baseUrl: z.url,
        apiVersion: pinned,
        apiKey: 'k',
        timeoutMs: 2000,
      });
      const route404 = { kind: 'misconfigured', reason: 'route_404' };
      expect(await backend.health()).toMatchObject(route404);
      expect(await backend.addMessages('t1', 'u1', [msg('x')])).toMatchObject(route404);
      expect(await backend.recentMessages('t1', 3)).toMatchObject(route404);
      expect(z.requests().filter((r) => other.test(r.path))).toEqual([]);
      expect(z.requests().every((r) => r.headers.authorization === 'Api-Key <redacted>')).toBe(
        true,
      );
    },
  );
});

describe('splitContent', () => {
  test('never splits inside a code point and keeps every part within the byte cap', () => {
    const text = '😀'.repeat(700);
    const parts = splitContent(text, 2500);
    expect(parts.join('')).toBe(text);
    expect(parts.every((p) => Buffer.byteLength(p) <= 2500 && p.isWellFormed())).toBe(true);
  });
});
