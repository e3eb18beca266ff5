/**
 * The fake Zep server's health check and authentication per version (docs/zep.md#versions, #health,
 * #fake).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { FakeZep } from './fake-zep.ts';
import { startFakeZep } from './fake-zep.ts';
import { call } from './http.ts';

let zep: FakeZep | null = null;

afterEach(async () => {
  await zep?.stop();
  zep = null;
});

describe('fake Zep health and auth', () => {
  test.each([
    ['v1', '0.27.2-fake (n/a)'],
    ['v2-ce', null],
  ] as const)(
    '%s /healthz answers 200 "." without auth, version header %p',
    async (mode, version) => {
      zep = await startFakeZep({ mode, apiKey: 'k', v1Bearer: 't' });
      const answer = await call(zep.url, 'GET', '/healthz');
      expect([answer.status, answer.text, answer.headers.get('x-zep-version')]).toEqual([
        200,
        '.',
        version,
      ]);
      const head = await fetch(`${zep.url}/healthz`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    },
  );

  test.each([
    [undefined, 401],
    ['Bearer k', 401],
    ['api-key k', 401],
    ['Api-Key  k', 401],
    ['Api-Key wrong', 401],
    ['Api-Key k', 200],
  ] as const)('v2 Authorization %p answers %p', async (authorization, status) => {
    zep = await startFakeZep({ mode: 'v2-ce', apiKey: 'k' });
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const answer = await call(
      zep.url,
      'GET',
      '/api/v2/users-ordered?pageNumber=1&pageSize=1',
      undefined,
      headers,
    );
    expect(answer.status).toBe(status);
    if (status === 401)
      expect([answer.text, answer.headers.get('content-type')]).toEqual([
        'unauthorized\n',
        'text/plain; charset=utf-8',
      ]);
  });

  test.each([
    [undefined, 401],
    ['Bearer nope', 401],
    ['bearer jwt', 200],
    ['Bearer jwt', 200],
  ] as const)(
    'v1 with auth required: Authorization %p answers %p',
    async (authorization, status) => {
      zep = await startFakeZep({ mode: 'v1', v1Bearer: 'jwt' });
      const headers: Record<string, string> = authorization ? { authorization } : {};
      expect((await call(zep.url, 'GET', '/api/v1/user?limit=1', undefined, headers)).status).toBe(
        status,
      );
    },
  );
});
