/**
 * The Zep backend pinned to v3 (Zep Cloud's threads API) against the fake's v3 mode: routes,
 * auth, user before thread, 30 messages per add, long content as parts with nothing lost,
 * metadata within 10 keys, the user context, and write pacing from the rate-limit headers.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { MemoryMessage } from '../../../src/memory/client.ts';
import { createZepBackend } from '../../../src/memory/zep/backend.ts';
import { WritePacer } from '../../../src/memory/zep/pacing.ts';
import { splitContent } from '../../../src/memory/zep/parts.ts';
import { FakeClock } from '../../support/clock.ts';
import { type FakeZep, startFakeZep } from '../../support/fake-zep.ts';
import { memoryHarness } from '../harness.ts';

let zep: FakeZep | null = null;
afterEach(async () => {
  await zep?.stop();
  zep = null;
});

async function v3(options: { maxMessageChars?: number; wallMs?: () => number } = {}) {
  zep = await startFakeZep({ mode: 'v3', apiKey: 'z_key' });
  const backend = createZepBackend({
    baseUrl: zep.url,
    apiVersion: 'v3',
    apiKey: 'z_key',
    timeoutMs: 2000,
    ...options,
  });
  return { z: zep, backend };
}

const msg = (content: string, role = 'user'): MemoryMessage => ({
  uuid: crypto.randomUUID(),
  role,
  content,
});
const ok = { kind: 'answer', value: undefined } as const;
const V3_ROUTE = /^\/api\/v2\/(users|threads|graph\/search|projects\/info)(\/|$)/;

describe('ZepBackend v3', () => {
  test('creates the user, then the thread, then adds; all under v3 routes with Api-Key', async () => {
    const { z, backend } = await v3();
    expect(await backend.addMessages('t1', 'u1', [msg('hello')])).toEqual(ok);
    await backend.recentMessages('t1', 5);
    await backend.search('t1', 'u1', 'hello', 5);
    await backend.context('u1', 't1');
    await backend.health();
    await backend.deleteThread('t1');
    const seen = z.requests().map((r) => `${r.method} ${r.path}`);
    expect(seen.slice(0, 3)).toEqual([
      'POST /api/v2/users',
      'POST /api/v2/threads',
      'POST /api/v2/threads/t1/messages',
    ]);
    expect(z.requests()[1]?.body).toEqual({ thread_id: 't1', user_id: 'u1' });
    for (const r of z.requests()) {
      expect(r.path).toMatch(V3_ROUTE);
      expect(r.headers.authorization).toBe('Api-Key <redacted>');
      expect(r.status).toBeLessThan(300);
    }
  });

  test('role is the role and name the speaker; a role outside the enum reads back unchanged', async () => {
    const { z, backend } = await v3();
    await backend.addMessages('t1', 'u1', [msg('hi', 'assistant'), msg('yo', 'Alice')]);
    const body = z.requests().at(-1)?.body as { messages: Array<Record<string, unknown>> };
    expect(body.messages.map((m) => [m.role, m.name])).toEqual([
      ['assistant', undefined],
      ['norole', 'Alice'],
    ]);
    expect(await backend.recentMessages('t1', 5)).toMatchObject({
      kind: 'answer',
      value: [
        { role: 'assistant', content: 'hi' },
        { role: 'Alice', content: 'yo' },
      ],
    });
  });

  test('75 messages to one thread: the fake holds 75 in order, no add call over 30', async () => {
    const { z, backend } = await v3();
    const messages = Array.from({ length: 75 }, (_, i) => msg(`message ${i}`));
    expect(await backend.addMessages('t1', 'u1', messages)).toEqual(ok);
    const adds = z.requests().filter((r) => r.path === '/api/v2/threads/t1/messages');
    expect(adds.map((r) => (r.body as { messages: unknown[] }).messages.length)).toEqual([
      30, 30, 15,
    ]);
    const stored = z.store.sessions.get('t1')?.messages ?? [];
    expect(stored.map((m) => m.content)).toEqual(messages.map((m) => m.content));
  });

  test('a 6,000-character message arrives as parts whose concatenation is the original', async () => {
    const { z, backend } = await v3();
    // Astral characters (surrogate pairs) at every cut point would show a split inside one.
    const original = `${'a'.repeat(2499)}😀${'b'.repeat(2499)}😀${'c'.repeat(1000)}`;
    expect(Array.from(original).length).toBe(6000);
    const m = { ...msg(original), metadata: { topic: 'bees' } };
    expect(await backend.addMessages('t1', 'u1', [m])).toEqual(ok);
    const stored = z.store.sessions.get('t1')?.messages ?? [];
    expect(stored.length).toBe(3);
    expect(stored.map((p) => p.content).join('')).toBe(original);
    expect(stored.every((p) => Array.from(p.content).length <= 2500)).toBe(true);
    expect(stored.map((p) => p.metadata)).toEqual(
      [1, 2, 3].map((i) => ({
        topic: 'bees',
        lifeline_message_uuid: m.uuid,
        lifeline_part: `${i}/3`,
      })),
    );
    // Read back, the parts are one message again.
    expect(await backend.recentMessages('t1', 10)).toEqual({
      kind: 'answer',
      value: [{ uuid: m.uuid, role: 'user', content: original }],
    });
  });

  test('memory.zep.max_message_chars sets the part size', async () => {
    const { z, backend } = await v3({ maxMessageChars: 100 });
    await backend.addMessages('t1', 'u1', [msg('x'.repeat(250))]);
    const stored = z.store.sessions.get('t1')?.messages ?? [];
    expect(stored.map((p) => p.content.length)).toEqual([100, 100, 50]);
  });

  test('metadata that would pass 10 keys with the part keys is folded, not dropped', async () => {
    const { z, backend } = await v3();
    const metadata = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i]));
    expect(await backend.addMessages('t1', 'u1', [{ ...msg('y'.repeat(3000)), metadata }])).toEqual(
      ok,
    );
    const stored = z.store.sessions.get('t1')?.messages ?? [];
    expect(stored.length).toBe(2);
    expect(JSON.parse(String(stored[0]?.metadata?.lifeline_metadata))).toEqual(metadata);
  });

  test('search maps graph facts to hits; context returns the prompt-ready block', async () => {
    const { z, backend } = await v3();
    await backend.addMessages('t1', 'u1', [msg('Ada keeps bees'), msg('it rains')]);
    expect(await backend.search('t1', 'u1', 'bees', 5)).toMatchObject({
      kind: 'answer',
      value: [{ kind: 'fact', role: null, content: 'Ada keeps bees' }],
    });
    expect(z.requests().at(-1)?.body).toEqual({
      user_id: 'u1',
      query: 'bees',
      scope: 'edges',
      limit: 5,
    });
    const context = await backend.context('u1', 't1');
    expect(context.kind === 'answer' && context.value).toContain('Ada keeps bees');
    expect(await backend.context('u1', 'unknown')).toEqual({ kind: 'answer', value: '' });
  });

  test('a missing thread on add (deleted elsewhere) is created again and the add retried', async () => {
    const { z, backend } = await v3();
    await backend.addMessages('t1', 'u1', [msg('one')]);
    z.store.sessions.delete('t1');
    expect(await backend.addMessages('t1', 'u1', [msg('two')])).toEqual(ok);
    expect(z.store.sessions.get('t1')?.messages.map((m) => m.content)).toEqual(['two']);
  });

  test('a low X-RateLimit-Remaining pauses writes until the window resets; reads go on', async () => {
    let now = 1_000_000;
    const { backend } = await v3({ wallMs: () => now });
    await backend.health();
    expect(backend.writePauseMs()).toBe(0);
    const pacer = new WritePacer(() => now);
    pacer.observe({ limit: '100', remaining: '0', reset: '30' });
    expect(pacer.pauseMs()).toBe(30_000);
    pacer.observe({ limit: '100', remaining: '9', reset: '30' });
    expect(pacer.pauseMs()).toBe(3000);
    now += 30_000;
    expect(pacer.pauseMs()).toBe(0);
    pacer.observe({ limit: '100', remaining: '50', reset: '30' });
    expect(pacer.pauseMs()).toBe(0);
  });

  test('the fake counts the budget down and the backend follows it', async () => {
    zep = await startFakeZep({
      mode: 'v3',
      apiKey: 'k',
      rateLimit: { limit: 3, windowMs: 60_000 },
    });
    const backend = createZepBackend({
      baseUrl: zep.url,
      apiVersion: 'v3',
      apiKey: 'k',
      timeoutMs: 2000,
    });
    await backend.health();
    expect(backend.writePauseMs()).toBe(0);
    await backend.health();
    expect(backend.writePauseMs()).toBeGreaterThan(0);
    await backend.health();
    const refused = await backend.health();
    expect(refused).toMatchObject({ kind: 'failure', failure: 'http_429' });
    expect(refused.kind === 'failure' && refused.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('splitContent in code points', () => {
  test('each part within the limit, never inside a surrogate pair, concatenation equal', () => {
    const text = '😀'.repeat(7) + 'é'.repeat(5);
    const parts = splitContent(text, 4, 'code_points');
    expect(parts.join('')).toBe(text);
    expect(parts.every((p) => Array.from(p).length <= 4)).toBe(true);
    expect(parts.every((p) => !/[\uD800-\uDBFF]$/.test(p))).toBe(true);
  });
});

describe('outbox pacing from X-RateLimit-Remaining (v3)', () => {
  test('writes wait for the window once the budget reaches the reserve; reads still go', async () => {
    const clock = new FakeClock();
    await using fake = await startFakeZep({
      mode: 'v3',
      apiKey: 'k',
      clock,
      rateLimit: { limit: 5, windowMs: 60_000 },
    });
    await using h = await memoryHarness({ zep: fake, clock, apiVersion: 'v3' });
    await h.submit('t1', 'first');
    await h.service.flusher.flushOnce();
    // users, threads, messages: 2 of 5 left, and the reserve is 1 (10 % of 5, at least 1).
    expect(fake.requests().map((r) => r.status)).toEqual([201, 201, 200]);
    expect(await h.service.search('u1', 't1', 'first', 3)).toMatchObject({ degraded: false });
    expect(h.backend.writePauseMs()).toBeGreaterThan(0);
    await h.submit('t1', 'second');
    await h.service.flusher.flushOnce();
    expect(fake.requests().length).toBe(4);
    expect(await h.db.store.outboxStats()).toMatchObject({ pending: 1 });
    // A read is never held back by the pacing.
    expect(await h.service.recent('t1', 5)).toMatchObject({ degraded: false });
    expect(h.service.status()).toBe('ok');
    clock.advance(61_000);
    expect(h.backend.writePauseMs()).toBe(0);
    await h.service.flusher.flushOnce();
    expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 2 });
    expect(fake.requests().filter((r) => r.status === 429)).toEqual([]);
  });
});
