/**
 * The fake Zep server's routes, statuses and bodies per mode, against docs/zep.md#operations,
 * #shapes, #status-codes, #health, #fake. Each scenario is an ordered list of exchanges on one
 * fresh server (state carries over).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { FakeZep, ZepMode } from './fake-zep.ts';
import { startFakeZep } from './fake-zep.ts';
import { V1_HTML_404, V2_ROUTE_404 } from './fake-zep-routes.ts';
import type { Answer } from './http.ts';
import { call } from './http.ts';

type Expect = string | Record<string, unknown> | unknown[] | ((answer: Answer) => void);
type Step = readonly [
  method: string,
  path: string,
  body: unknown,
  status: number,
  expected?: Expect,
];

const V2_AUTH = { authorization: 'Api-Key k' };
let zep: FakeZep | null = null;

afterEach(async () => {
  await zep?.stop();
  zep = null;
});

async function runSteps(
  mode: ZepMode,
  steps: readonly Step[],
  headers: Record<string, string> = {},
) {
  zep = await startFakeZep({ mode, apiKey: 'k' });
  for (const [method, path, body, status, expected] of steps) {
    const answer = await call(zep.url, method, path, body, headers);
    const where = `${method} ${path} → ${answer.status} ${answer.text.slice(0, 120)}`;
    expect(answer.status, where).toBe(status);
    if (typeof expected === 'string') expect(answer.text, where).toBe(expected);
    else if (typeof expected === 'function') expected(answer);
    else if (expected !== undefined) expect(answer.json as object, where).toMatchObject(expected);
  }
}

const msg = (uuid: string, content: string) => ({ uuid, role: 'user', role_type: 'user', content });

const V1_STEPS: Step[] = [
  ['GET', '/api/v1/user?limit=1', undefined, 200, []],
  ['POST', '/api/v1/user', { user_id: '' }, 400, 'bad request: UserID cannot be empty\n'],
  ['POST', '/api/v1/user', { user_id: 'u1' }, 201, { user_id: 'u1', deleted_at: null }],
  [
    'POST',
    '/api/v1/user',
    { user_id: 'u1' },
    400,
    'bad request: user already exists with user_id: u1\n',
  ],
  ['GET', '/api/v1/user/u1', undefined, 200, { user_id: 'u1' }],
  ['GET', '/api/v1/user/ghost', undefined, 404, 'not found\n'],
  ['GET', '/api/v1/user?limit=1', undefined, 200, [{ user_id: 'u1' }]],
  ['POST', '/api/v1/sessions', { session_id: '' }, 500],
  [
    'POST',
    '/api/v1/sessions',
    { session_id: 's1', user_id: 'ghost' },
    400,
    (a) => expect(a.text).toContain('user does not exist'),
  ],
  [
    'POST',
    '/api/v1/sessions',
    { session_id: 's1', user_id: 'u1' },
    201,
    { session_id: 's1', user_id: 'u1' },
  ],
  [
    'POST',
    '/api/v1/sessions',
    { session_id: 's1' },
    400,
    (a) => expect(a.text).toContain('already exists'),
  ],
  ['GET', '/api/v1/sessions/s1', undefined, 200, { session_id: 's1' }],
  [
    'GET',
    '/api/v1/sessions/s2/memory',
    undefined,
    200,
    { messages: [], summary: { content: '', uuid: '00000000-0000-0000-0000-000000000000' } },
  ],
  ['POST', '/api/v1/sessions/s2/memory', { messages: [msg('m1', 'Hello Zep')] }, 200, 'OK'],
  ['POST', '/api/v1/sessions/s2/memory', '{"messages":[', 400],
  ['GET', '/api/v1/sessions/s2', undefined, 200, { session_id: 's2', user_id: null }],
  ['POST', '/api/v1/sessions/s2/memory', { messages: [msg('m2', 'second')] }, 200, 'OK'],
  [
    'GET',
    '/api/v1/sessions/s2/memory?lastn=1',
    undefined,
    200,
    { messages: [{ uuid: 'm2', role: 'user', content: 'second' }] },
  ],
  [
    'POST',
    '/api/v1/sessions/s2/search?limit=5',
    { text: 'HELLO' },
    200,
    [{ message: { uuid: 'm1' }, dist: 1 }],
  ],
  ['POST', '/api/v1/sessions/nope/search', { text: 'hello' }, 200, []],
  ['POST', '/api/v1/sessions/s2/search', {}, 500, 'empty query\n'],
  ['DELETE', '/api/v1/sessions/s2/memory', undefined, 200, 'OK'],
  ['DELETE', '/api/v1/sessions/s2/memory', undefined, 404, 'not found\n'],
  ['GET', '/api/v1/sessions/s2', undefined, 404, 'not found\n'],
  [
    'POST',
    '/api/v1/sessions',
    { session_id: 's2' },
    400,
    (a) => expect(a.text).toContain('already exists'),
  ],
  ['POST', '/api/v1/sessions/s2/memory', { messages: [msg('m3', 'revived')] }, 200, 'OK'],
  ['GET', '/api/v1/sessions/s2', undefined, 200, { session_id: 's2', deleted_at: null }],
  [
    'GET',
    '/api/v1/sessions/s2/memory',
    undefined,
    200,
    (a) =>
      expect((a.json as { messages: { uuid: string }[] }).messages.map((m) => m.uuid)).toEqual([
        'm3',
      ]),
  ],
  ['GET', '/api/v2/users', undefined, 404, V1_HTML_404],
  ['GET', '/api/v1/users', undefined, 404, V1_HTML_404],
  ['PUT', '/api/v1/sessions/s2/memory', undefined, 405],
];

const V2_CE_STEPS: Step[] = [
  [
    'GET',
    '/api/v2/users-ordered?pageNumber=1&pageSize=1',
    undefined,
    200,
    { users: [], total_count: 0, row_count: 0 },
  ],
  [
    'POST',
    '/api/v2/users',
    { user_id: 'u1' },
    201,
    { user_id: 'u1', project_uuid: expect.any(String) },
  ],
  [
    'POST',
    '/api/v2/users',
    { user_id: 'u1' },
    400,
    (a) => expect((a.json as { message: string }).message).toContain('already exists'),
  ],
  ['GET', '/api/v2/users/ghost', undefined, 404, '{"message":"not found"}'],
  [
    'POST',
    '/api/v2/sessions',
    { session_id: 's1', user_id: 'ghost' },
    400,
    '{"message":"user not found"}',
  ],
  ['POST', '/api/v2/sessions', { session_id: '' }, 400],
  [
    'POST',
    '/api/v2/sessions',
    { session_id: 's1', user_id: 'u1' },
    201,
    { session_id: 's1', ended_at: null },
  ],
  [
    'POST',
    '/api/v2/sessions',
    { session_id: 's1' },
    400,
    (a) => expect(a.text).toContain('already exists'),
  ],
  ['GET', '/api/v2/sessions/s9/memory', undefined, 200, '{"messages":[],"relevant_facts":[]}'],
  ['GET', '/api/v2/sessions/s9/memory?lastn=-1', undefined, 400],
  ['POST', '/api/v2/sessions/s9/memory', { messages: [{ role: 'user', content: 'x' }] }, 400],
  ['POST', '/api/v2/sessions/s9/memory', { messages: [{ role_type: 'human', content: 'x' }] }, 400],
  [
    'POST',
    '/api/v2/sessions/s9/memory',
    { messages: Array.from({ length: 31 }, (_, i) => msg(`b${i}`, 'x')) },
    400,
  ],
  ['POST', '/api/v2/sessions/s9/memory', { messages: [msg('big', 'é'.repeat(2501))] }, 400],
  [
    'POST',
    '/api/v2/sessions/s9/memory',
    { messages: [msg('ok', 'é'.repeat(2500))] },
    201,
    '{"message":"OK"}',
  ],
  [
    'POST',
    '/api/v2/sessions/s9/memory',
    { messages: [msg('m1', 'Hello Zep')] },
    201,
    '{"message":"OK"}',
  ],
  ['GET', '/api/v2/sessions/s9', undefined, 200, { session_id: 's9', user_id: null }],
  [
    'GET',
    '/api/v2/sessions/s9/memory?lastn=1',
    undefined,
    200,
    { messages: [{ uuid: 'm1', role_type: 'user' }], relevant_facts: [] },
  ],
  [
    'POST',
    '/api/v2/sessions/search?limit=3',
    { text: 'hello', session_ids: ['s9'] },
    200,
    { results: [{ fact: { uuid: 'm1', fact: 'Hello Zep' } }] },
  ],
  ['POST', '/api/v2/sessions/search?limit=-1', { text: 'hello', session_ids: ['s9'] }, 400],
  ['POST', '/api/v2/sessions/s9/search', { text: 'hello' }, 404, V2_ROUTE_404],
  ['DELETE', '/api/v2/sessions/s9/memory', undefined, 200, '{"message":"OK"}'],
  ['DELETE', '/api/v2/sessions/s9/memory', undefined, 404, '{"message":"not found"}'],
  [
    'POST',
    '/api/v2/sessions',
    { session_id: 's9' },
    400,
    (a) => expect(a.text).toContain('already exists'),
  ],
  ['GET', '/api/v1/user?limit=1', undefined, 404, V2_ROUTE_404],
  ['GET', '/api/v2/user', undefined, 404, V2_ROUTE_404],
];

const V2_CLOUD_STEPS: Step[] = [
  ['POST', '/api/v2/sessions', { session_id: 's1' }, 400],
  [
    'POST',
    '/api/v2/sessions/s1/memory',
    { messages: [msg('m1', 'hi')] },
    404,
    '{"message":"not found"}',
  ],
  ['GET', '/api/v2/sessions/s1/memory', undefined, 404],
  ['POST', '/api/v2/users', { user_id: 'u1' }, 201],
  ['POST', '/api/v2/sessions', { session_id: 's1', user_id: 'u1' }, 201],
  ['POST', '/api/v2/sessions/s1/memory', { messages: [msg('m1', 'Hello cloud')] }, 200, {}],
  [
    'GET',
    '/api/v2/sessions/s1/memory',
    undefined,
    200,
    { messages: [{ uuid: 'm1', processed: true }] },
  ],
  [
    'POST',
    '/api/v2/sessions/search',
    { text: 'cloud', session_ids: ['s1'] },
    200,
    { results: [{ message: { uuid: 'm1' }, score: 1, session_id: 's1' }] },
  ],
  [
    'POST',
    '/api/v2/sessions/s1/search?limit=2',
    { text: 'cloud' },
    200,
    [{ message: { uuid: 'm1' }, score: 1 }],
  ],
];

describe('fake Zep routes', () => {
  test('v1 answers every contract route with v0.27 statuses and text bodies', async () => {
    await runSteps('v1', V1_STEPS);
  });

  test('v2-ce answers with JSON errors, 201 on add, limits and the soft-delete trap', async () => {
    await runSteps('v2-ce', V2_CE_STEPS, V2_AUTH);
  });

  test('v2-cloud needs user and session first and returns messages with scores', async () => {
    await runSteps('v2-cloud', V2_CLOUD_STEPS, V2_AUTH);
  });

  test('v1-legacy-404 answers 404 "not found" for a session without messages', async () => {
    await runSteps('v1-legacy-404', [
      ['GET', '/api/v1/sessions/s1/memory', undefined, 404, 'not found\n'],
      ['POST', '/api/v1/sessions/s1/memory', { messages: [msg('m1', 'x')] }, 200, 'OK'],
      ['GET', '/api/v1/sessions/s1/memory', undefined, 200, { messages: [{ uuid: 'm1' }] }],
    ]);
  });

  test.each([
    ['v1', V1_HTML_404, 'text/html; charset=utf-8'],
    ['v1-legacy-404', V1_HTML_404, 'text/html; charset=utf-8'],
    ['v2-ce', V2_ROUTE_404, 'text/plain; charset=utf-8'],
    ['v2-cloud', V2_ROUTE_404, 'text/plain; charset=utf-8'],
  ] as const)(
    '%s answers a route-404 outside its prefix with its own body',
    async (mode, body, type) => {
      zep = await startFakeZep({ mode, apiKey: 'k' });
      for (const path of [
        '/',
        '/api/v3/users',
        mode.startsWith('v1') ? '/api/v2/users' : '/api/v1/user',
      ]) {
        const answer = await call(zep.url, 'GET', path, undefined, V2_AUTH);
        expect([answer.status, answer.text, answer.headers.get('content-type')]).toEqual([
          404,
          body,
          type,
        ]);
      }
    },
  );

  test.each([
    ['v1', '/api/v1', 14, 12],
    ['v2-ce', '/api/v2', 8, 6],
  ] as const)(
    '%s memory without lastn returns the default window',
    async (mode, prefix, sent, window) => {
      zep = await startFakeZep({ mode });
      const messages = Array.from({ length: sent }, (_, i) => msg(`m${i}`, `n${i}`));
      await call(zep.url, 'POST', `${prefix}/sessions/s1/memory`, { messages }, V2_AUTH);
      for (const query of ['', '?lastn=0']) {
        const answer = await call(
          zep.url,
          'GET',
          `${prefix}/sessions/s1/memory${query}`,
          undefined,
          V2_AUTH,
        );
        const uuids = (answer.json as { messages: { uuid: string }[] }).messages.map((m) => m.uuid);
        expect(uuids).toEqual(messages.slice(-window).map((m) => m.uuid));
      }
    },
  );

  test('v1 keeps percent-encoded path ids as sent while v2 decodes them', async () => {
    zep = await startFakeZep({ mode: 'v1' });
    await call(zep.url, 'POST', '/api/v1/sessions/a%2Fb/memory', { messages: [msg('m1', 'x')] });
    expect([...zep.store.sessions.keys()]).toEqual(['a%2Fb']);
    await zep.stop();
    zep = await startFakeZep({ mode: 'v2-ce' });
    await call(
      zep.url,
      'POST',
      '/api/v2/sessions/a%2Fb/memory',
      { messages: [msg('m1', 'x')] },
      V2_AUTH,
    );
    expect([...zep.store.sessions.keys()]).toEqual(['a/b']);
  });

  test('success bodies carry the sniffed text/plain type and errors on v2 are JSON', async () => {
    zep = await startFakeZep({ mode: 'v2-ce' });
    const ok = await call(zep.url, 'POST', '/api/v2/users', { user_id: 'u1' }, V2_AUTH);
    const missing = await call(zep.url, 'GET', '/api/v2/users/nope', undefined, V2_AUTH);
    expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(missing.headers.get('content-type')).toBe('application/json');
  });
});
