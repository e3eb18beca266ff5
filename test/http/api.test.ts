/**
 * The server-to-server API (docs/design.md#http-api) against a real server and SQLite: each route's
 * success and bad input, the key (401 wrong, 503 none), 403 on another user's thread, pushes
 * reaching the user's sockets, and the OpenAPI document.
 */
import { describe, expect, test } from 'bun:test';
import { apiRoutes } from '../../src/http/api.ts';
import { openapiRoutes } from '../../src/http/openapi.ts';
import { type Harness, type HarnessOptions, startRealtime } from '../support/realtime-harness.ts';
import { connect } from '../support/ws.ts';

const KEY = 'api-key-for-tests-0123456789';

function startApi(options: HarnessOptions & { key?: string | null } = {}) {
  return startRealtime({
    ...options,
    configure: (config) => {
      if (options.key !== null) config.auth.api_key = options.key ?? KEY;
    },
    plugins: (parts) => [
      apiRoutes({
        apiKey: () => parts.config.auth.api_key,
        store: parts.store,
        memory: parts.memory,
        realtime: parts.realtime,
      }),
      openapiRoutes('test'),
    ],
  });
}

async function call(h: Harness, method: string, path: string, body?: unknown, key = KEY) {
  const response = await fetch(`${h.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const count = (h: Harness, table: string) =>
  (h.db.handle.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('the key', () => {
  test('a wrong or missing key is 401; nothing is written', async () => {
    await using h = await startApi();
    const wrong = await call(h, 'PUT', '/api/v1/users/u1/preferences', { a: 1 }, 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    const missing = await fetch(`${h.httpUrl}/api/v1/users/u1/state`);
    expect(missing.status).toBe(401);
    expect(count(h, 'history')).toBe(0);
  });

  test('no key configured is 503 with the fix', async () => {
    await using h = await startApi({ key: null });
    const answer = await call(h, 'GET', '/api/v1/users/u1/state');
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('api_disabled');
    expect(answer.body.error.message).toContain('auth.api_key');
  });
});

describe('preferences and personalization', () => {
  test('PUT preferences answers the seq and pushes to the user’s socket', async () => {
    await using h = await startApi();
    const { client } = await connect(await h.urlFor('u1'));
    const answer = await call(h, 'PUT', '/api/v1/users/u1/preferences', { theme: 'dark' });
    expect(answer).toEqual({ status: 200, body: { seq: 1 } });
    expect(await client.next()).toEqual({
      type: 'preferences',
      seq: 1,
      preferences: { theme: 'dark' },
    });
    await client.close();
  });

  test.each([
    ['an array body', [1, 2]],
    ['a string body', '"x"'],
    ['invalid JSON', '{'],
  ])('PUT preferences with %s is 400 bad_request', async (_name, body) => {
    await using h = await startApi();
    const answer = await call(h, 'PUT', '/api/v1/users/u1/preferences', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
    expect(count(h, 'history')).toBe(0);
  });

  test('a bad user id, a deep or oversized object is 400', async () => {
    await using h = await startApi();
    let deep: unknown = 1;
    for (let i = 0; i < 40; i += 1) deep = { d: deep };
    for (const [path, body, code] of [
      ['/api/v1/users/__proto__/preferences', { a: 1 }, 'bad_request'],
      ['/api/v1/users/a%20b/preferences', { a: 1 }, 'bad_request'],
      ['/api/v1/users/u1/preferences', deep, 'bad_request'],
      ['/api/v1/users/u1/preferences', { big: 'x'.repeat(20_000) }, 'too_large'],
      ['/api/v1/users/u1/preferences', { bad: '\ud800' }, 'bad_request'],
    ] as const) {
      const answer = await call(h, 'PUT', path, body);
      expect([path, answer.status, answer.body.error.code]).toEqual([path, 400, code]);
    }
    expect(count(h, 'history')).toBe(0);
  });

  test('PUT personalization: 200 for the owner, 403 for another user, nothing written', async () => {
    await using h = await startApi();
    const ok = await call(h, 'PUT', '/api/v1/users/a/threads/t1/personalization', { p: 1 });
    expect(ok).toEqual({ status: 200, body: { seq: 1 } });
    const other = await call(h, 'PUT', '/api/v1/users/b/threads/t1/personalization', { p: 2 });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden_thread');
    const row = h.db.handle.sqlite.query('SELECT json FROM thread_personalization').all();
    expect(row).toEqual([{ json: '{"p":1}' }]);
  });
});

describe('messages', () => {
  test('POST a message: 201 {id, seq}, stored, pushed; a resend is 200 with the same answer', async () => {
    await using h = await startApi();
    const { client } = await connect(await h.urlFor('u1'));
    const id = crypto.randomUUID();
    const body = { user_id: 'u1', role: 'assistant', content: 'Hi!', id, metadata: { m: 1 } };
    const answer = await call(h, 'POST', '/api/v1/threads/t1/messages', body);
    expect(answer).toEqual({ status: 201, body: { id, seq: 1 } });
    const push = await client.next<{ type: string; message: Record<string, unknown> }>();
    expect(push.type).toBe('message');
    expect(push.message).toMatchObject({
      id,
      role: 'assistant',
      content: 'Hi!',
      metadata: { m: 1 },
    });
    expect(await call(h, 'POST', '/api/v1/threads/t1/messages', body)).toEqual({
      status: 200,
      body: { id, seq: 1 },
    });
    expect(count(h, 'messages')).toBe(1);
    await client.close();
  });

  test('an id is made when none is given', async () => {
    await using h = await startApi();
    const answer = await call(h, 'POST', '/api/v1/threads/t1/messages', {
      user_id: 'u1',
      role: 'user',
      content: 'x',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('bad input is 400 with the code; another user’s thread is 403; nothing stored', async () => {
    await using h = await startApi();
    await call(h, 'POST', '/api/v1/threads/t1/messages', {
      user_id: 'a',
      role: 'user',
      content: 'x',
    });
    const cases: Array<[unknown, number, string]> = [
      [{ user_id: 'a', role: 'user', content: ' \u200b ' }, 400, 'empty_message'],
      [{ user_id: 'a', role: 'user', content: 'x'.repeat(40_000) }, 400, 'too_large'],
      [{ user_id: 'a', role: 'robot', content: 'x' }, 400, 'bad_request'],
      [{ user_id: 'a', role: 'user' }, 400, 'bad_request'],
      [{ user_id: 'a b', role: 'user', content: 'x' }, 400, 'bad_request'],
      [{ user_id: 'a', role: 'user', content: 'x', id: 'not-a-uuid' }, 400, 'bad_request'],
      [{ user_id: 'b', role: 'user', content: 'x' }, 403, 'forbidden_thread'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await call(h, 'POST', '/api/v1/threads/t1/messages', body);
      expect([body, answer.status, answer.body.error.code]).toEqual([body, status, code]);
    }
    expect(count(h, 'messages')).toBe(1);
  });
});

describe('memory, events and state', () => {
  test('GET memory searches the owner’s thread; an unowned thread answers [] without a search', async () => {
    await using h = await startApi();
    const id = crypto.randomUUID();
    await call(h, 'POST', '/api/v1/threads/t1/messages', {
      user_id: 'u1',
      role: 'user',
      content: 'I like cats',
      id,
    });
    const found = await call(h, 'GET', '/api/v1/threads/t1/memory?query=cats&limit=5');
    expect(found.status).toBe(200);
    expect(found.body.degraded).toBe(false);
    expect(found.body.results[0]).toMatchObject({ content: 'I like cats', message_id: id });
    expect(h.memory.searches).toEqual([{ userId: 'u1', threadId: 't1', query: 'cats', limit: 5 }]);
    const none = await call(h, 'GET', '/api/v1/threads/nobody/memory?query=cats');
    expect(none).toEqual({ status: 200, body: { results: [], degraded: false } });
    expect(h.memory.searches).toHaveLength(1);
  });

  test('GET memory with a blank query or a bad limit is 400', async () => {
    await using h = await startApi();
    for (const q of ['query=%20', 'query=a&limit=0', 'query=a&limit=51', 'query=a&limit=x', '']) {
      const answer = await call(h, 'GET', `/api/v1/threads/t1/memory?${q}`);
      expect([q, answer.status, answer.body.error.code]).toEqual([q, 400, 'bad_request']);
    }
  });

  test('POST events: 202 {seq}, pushed as event; a bad name is 400', async () => {
    await using h = await startApi();
    const { client } = await connect(await h.urlFor('u1'));
    const answer = await call(h, 'POST', '/api/v1/users/u1/events', {
      event: 'billing.updated',
      data: { plan: 'pro' },
    });
    expect(answer).toEqual({ status: 202, body: { seq: 1 } });
    expect(await client.next()).toEqual({
      type: 'event',
      seq: 1,
      event: 'billing.updated',
      data: { plan: 'pro' },
    });
    for (const body of [{ event: '' }, { event: 'a b' }, { data: 1 }, { event: 5 }]) {
      const bad = await call(h, 'POST', '/api/v1/users/u1/events', body);
      expect([body, bad.status]).toEqual([body, 400]);
    }
    expect(count(h, 'history')).toBe(1);
    await client.close();
  });

  test('GET state answers the rehydrate content', async () => {
    await using h = await startApi();
    await call(h, 'PUT', '/api/v1/users/u1/preferences', { theme: 'dark' });
    await call(h, 'PUT', '/api/v1/users/u1/threads/t1/personalization', { p: 1 });
    const answer = await call(h, 'GET', '/api/v1/users/u1/state?thread=t1');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      epoch: await h.store.epoch(),
      seq: 2,
      preferences: { theme: 'dark' },
      threads: { t1: { personalization: { p: 1 }, messages: [] } },
      memory: { status: 'ok' },
    });
    const bad = await call(h, 'GET', '/api/v1/users/u1/state?thread=__proto__');
    expect(bad.status).toBe(400);
  });
});

describe('OpenAPI', () => {
  test('documents the API routes at /openapi/json and serves /openapi', async () => {
    await using h = await startApi();
    const doc = (await (await fetch(`${h.httpUrl}/openapi/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/users/{user}/preferences',
        '/api/v1/threads/{thread}/messages',
        '/api/v1/users/{user}/events',
      ]),
    );
    expect(Object.keys(doc.paths)).not.toContain('/ws');
    expect((await fetch(`${h.httpUrl}/openapi`)).status).toBe(200);
  });
});
