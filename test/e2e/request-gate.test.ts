/**
 * The request gate against the compiled binary (the listener decides what the raw path and the
 * Host look like, so only the real process shows them): dot segments, Host-less requests,
 * content types other than JSON and invalid UTF-8 are each refused with the error envelope,
 * nothing is stored, nothing is logged above debug, and the daemon keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type OpsServer, openReadOnly, startServer } from '../daemon/harness.ts';
import { jsonOf, type RawAnswer, rawRequest } from '../support/raw-http.ts';
import { waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

const KEY_HEADER = 'Authorization: Bearer ops-test-api-key-9f8e7d6c5b4a39281706\r\n';

let dir: TempDir;
let server: OpsServer;

beforeAll(async () => {
  dir = tempDir('lifeline-gate');
  server = await startServer({
    dataDir: dir.path,
    binary: true,
    env: { LIFELINE_LOG_LEVEL: 'debug' },
  });
});

afterAll(async () => {
  await server?.stop();
  dir?.[Symbol.dispose]();
});

function count(table: string): number {
  const db = openReadOnly(server.dbPath);
  try {
    return (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Rows of every table a refused request could have written. */
function stored() {
  return {
    preferences: count('user_preferences'),
    messages: count('messages'),
    history: count('history'),
    audit: count('runtime_config_audit'),
  };
}

async function breakerState(): Promise<string> {
  const answer = await server.api('GET', '/api/v1/admin/status');
  return ((await answer.json()) as { breaker: { state: string } }).breaker.state;
}

function expectRefused(answer: RawAnswer, status: number, code: string, mentions: string) {
  expect(answer.status).toBe(status);
  const body = jsonOf(answer) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toContain(mentions);
}

async function expectServing() {
  const health = await fetch(`${server.baseUrl}/healthz`);
  expect(health.status).toBe(200);
}

/** Log lines written since `mark` lines were there, that are above debug. */
function loudLinesSince(mark: number) {
  return server
    .logLines()
    .slice(mark)
    .filter((line) => line.level !== 'debug');
}

describe('dot segments in the raw path', () => {
  const spellings = [
    '/api/v1/threads/../admin/breaker/open',
    '/api/v1/threads/%2e%2E/admin/breaker/open',
    '/api/v1/threads/.%2e/admin/breaker/open',
    '/api/v1/threads/t1/./../../admin/breaker/open',
    '/api/v1/threads\\..\\admin/breaker/open',
    '/api/v1/threads/../admin/breaker/open/',
    'http://127.0.0.1/api/v1/threads/../admin/breaker/open',
  ];

  test('are refused with 400 before routing; the admin route is never reached', async () => {
    const before = stored();
    for (const path of spellings) {
      const answer = await rawRequest(
        server.port,
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${KEY_HEADER}Content-Length: 0\r\n\r\n`,
      );
      expectRefused(answer, 400, 'bad_request', 'path:');
    }
    expect(await breakerState()).toBe('closed');
    expect(stored()).toEqual(before);
    await expectServing();
    // The same request by its resolved path does reach the route: the refusal was the path's.
    const direct = await rawRequest(
      server.port,
      `POST /api/v1/admin/breaker/open HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${KEY_HEADER}Content-Length: 0\r\n\r\n`,
    );
    expect(direct.status).toBe(200);
    expect(await breakerState()).toBe('open');
    expect((await server.api('POST', '/api/v1/admin/breaker/reset')).status).toBe(200);
  });

  test('a dot segment in a query string is no path segment', async () => {
    const answer = await rawRequest(
      server.port,
      `GET /healthz?next=/../x HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    );
    expect(answer.status).toBe(200);
  });
});

describe('a missing, empty or invalid Host', () => {
  const hosts = ['', 'Host:\r\n', 'Host: [::1\r\n', 'Host: localhost:99999\r\n', 'Host: a b\r\n'];
  // HTTP/1.1 without any Host line is refused by Bun's parser itself (400, as RFC 9112 requires),
  // before the daemon sees it; HTTP/1.0, which health checkers use, may omit it.
  const versionsFor = (host: string) => (host === '' ? ['1.0'] : ['1.0', '1.1']);

  test('/healthz and /readyz answer as usual, HTTP/1.0 included', async () => {
    const mark = server.logLines().length;
    for (const host of hosts) {
      for (const version of versionsFor(host)) {
        const healthz = await rawRequest(
          server.port,
          `GET /healthz HTTP/${version}\r\n${host}\r\n`,
        );
        expect(healthz.status).toBe(200);
        expect(jsonOf(healthz)).toEqual({ status: 'ok' });
        const readyz = await rawRequest(server.port, `GET /readyz HTTP/${version}\r\n${host}\r\n`);
        expect(readyz.status).toBe(200);
        expect((jsonOf(readyz) as { status: string }).status).toBe('ready');
      }
    }
    expect(loudLinesSince(mark)).toEqual([]);
  });

  test('every other route answers 400 with the envelope, stores nothing, logs at debug only', async () => {
    const mark = server.logLines().length;
    const before = stored();
    const body = JSON.stringify({ theme: 'dark' });
    for (const host of hosts) {
      const put = await rawRequest(
        server.port,
        `PUT /api/v1/users/u1/preferences HTTP/1.0\r\n${host}${KEY_HEADER}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      expectRefused(put, 400, 'bad_request', 'Host');
      for (const path of ['/metrics', '/', '/api/v1/admin/status']) {
        const get = await rawRequest(
          server.port,
          `GET ${path} HTTP/1.0\r\n${host}${KEY_HEADER}\r\n`,
        );
        expectRefused(get, 400, 'bad_request', 'Host');
      }
    }
    expect(stored()).toEqual(before);
    await expectServing();
    // The refusals are logged, at debug (the stdout pipe may lag the answers).
    await waitFor(
      () =>
        server
          .logLines()
          .slice(mark)
          .filter((line) => line.msg === 'http request' && line.status === 400).length >=
        hosts.length * 4,
      5000,
    );
    expect(loudLinesSince(mark)).toEqual([]);
  });
});

describe('bodies of JSON routes', () => {
  const put = (type: string | undefined, body: Buffer | string) =>
    fetch(`${server.baseUrl}/api/v1/users/u1/preferences`, {
      method: 'PUT',
      headers: {
        authorization: 'Bearer ops-test-api-key-9f8e7d6c5b4a39281706',
        ...(type === undefined ? {} : { 'content-type': type }),
      },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });

  test('any content type but JSON is refused with 415; nothing is stored', async () => {
    const before = stored();
    const form = new FormData();
    form.set('theme', 'dark');
    const multipart = await fetch(`${server.baseUrl}/api/v1/users/u1/preferences`, {
      method: 'PUT',
      headers: { authorization: 'Bearer ops-test-api-key-9f8e7d6c5b4a39281706' },
      body: form,
    });
    expect(multipart.status).toBe(415);
    const refused: Array<[string | undefined, string]> = [
      ['application/x-www-form-urlencoded', 'a=1&__proto__[x]=1'],
      ['text/plain', '{"theme":"dark"}'],
      ['application/json; charset=iso-8859-1', '{"theme":"dark"}'],
      ['application/jsonp', '{"theme":"dark"}'],
      [undefined, '{"theme":"dark"}'],
    ];
    for (const [type, body] of refused) {
      const answer = await put(type, body);
      expect(answer.status).toBe(415);
      const envelope = (await answer.json()) as { error: { code: string; message: string } };
      expect(envelope.error.code).toBe('unsupported_media_type');
      expect(envelope.error.message).toContain('application/json');
    }
    expect(stored()).toEqual(before);
    const state = await server.api('GET', '/api/v1/users/u1/state');
    expect(((await state.json()) as { preferences: unknown }).preferences).toEqual({});
    await expectServing();
  });

  test('JSON with charset utf-8 and +json types are taken', async () => {
    expect((await put('application/json; charset=UTF-8', '{"theme":"dark"}')).status).toBe(200);
    expect((await put('application/merge-patch+json', '{"theme":"light"}')).status).toBe(200);
    const state = await server.api('GET', '/api/v1/users/u1/state');
    expect(((await state.json()) as { preferences: unknown }).preferences).toEqual({
      theme: 'light',
    });
  });

  test('invalid UTF-8 is refused with 400, never stored as U+FFFD', async () => {
    const before = stored();
    const bad = [
      [0xff, 0xfe], // never valid
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xe2, 0x82], // truncated
    ];
    for (const bytes of bad) {
      const body = Buffer.concat([
        Buffer.from('{"content":"'),
        Buffer.from(bytes),
        Buffer.from('"}'),
      ]);
      const answer = await put('application/json', body);
      expect(answer.status).toBe(400);
      const envelope = (await answer.json()) as { error: { code: string; message: string } };
      expect(envelope.error.message).toContain('UTF-8');
      const message = Buffer.concat([
        Buffer.from('{"user_id":"u1","role":"user","content":"a'),
        Buffer.from(bytes),
        Buffer.from('"}'),
      ]);
      const posted = await fetch(`${server.baseUrl}/api/v1/threads/t1/messages`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer ops-test-api-key-9f8e7d6c5b4a39281706',
          'content-type': 'application/json',
        },
        body: message,
      });
      expect(posted.status).toBe(400);
    }
    expect(stored()).toEqual(before);
    await expectServing();
  });
});
