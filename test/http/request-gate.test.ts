/**
 * The request gate's rules one by one (the end-to-end tests in test/e2e/request-gate.test.ts and
 * body-limits.test.ts drive them through the compiled binary's listener).
 */
import { describe, expect, test } from 'bun:test';
import { HttpError } from '../../src/http/errors.ts';
import {
  badSegment,
  checkRequest,
  isJsonType,
  pathOf,
  readJsonBody,
} from '../../src/http/request-gate.ts';

const deps = { apiKey: () => 'the-key-0123456789', maxBodyBytes: () => 64 };

describe('raw path segments', () => {
  test('dot segments, backslashes and # are refused; ordinary ids pass', () => {
    for (const segment of ['.', '..', 'a\\..', 'x#y']) expect(badSegment(segment)).toBeString();
    for (const segment of ['...', '.hidden', 'a.b', 'threads', 'u-1_2']) {
      expect(badSegment(segment)).toBeUndefined();
    }
  });

  test('a request whose router params hold ".." is refused before anything else', () => {
    const request = Object.assign(new Request('http://h/api/v1/admin/breaker/open'), {
      params: { s1: 'api', s2: 'v1', s3: 'threads', s4: '..', s5: 'admin' },
    });
    expect(checkRequest(request, deps)?.status).toBe(400);
  });
});

describe('pathOf', () => {
  test('reads absolute and Host-less (relative) URLs without throwing', () => {
    expect(pathOf('http://127.0.0.1:7400/healthz?x=1')).toBe('/healthz');
    expect(pathOf('/readyz')).toBe('/readyz');
    expect(pathOf('http://[::1/healthz')).toBe('/healthz');
    expect(pathOf('http://host')).toBe('/');
  });
});

describe('content types', () => {
  test('JSON with no charset or utf-8, and +json types, are JSON', () => {
    for (const type of [
      'application/json',
      'Application/JSON; charset=UTF-8',
      'application/json;charset="utf-8"',
      'application/merge-patch+json',
    ]) {
      expect(isJsonType(type)).toBe(true);
    }
  });

  test('forms, multipart, text, other charsets and look-alikes are not', () => {
    for (const type of [
      null,
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      'application/json; charset=latin1',
      'application/jsonp',
      'text/json',
    ]) {
      expect(isJsonType(type)).toBe(false);
    }
  });
});

describe('checkRequest', () => {
  const request = (path: string, headers: Record<string, string>, body?: string) =>
    new Request(`http://127.0.0.1${path}`, {
      method: body === undefined ? 'GET' : 'PUT',
      // A Request built here has no Content-Length until sent; the listener's always do.
      headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) },
      ...(body === undefined ? {} : { body }),
    });
  const key = { authorization: 'Bearer the-key-0123456789' };

  test('the key is checked before the body: no key and a form body is 401, not 415', () => {
    const answer = checkRequest(
      request('/api/v1/users/u/preferences', { 'content-type': 'text/plain' }, 'a=1'),
      deps,
    );
    expect(answer?.status).toBe(401);
  });

  test('with the key: 415 for a form body, 413 for a declared length over the limit', () => {
    const form = request(
      '/api/v1/users/u/preferences',
      { ...key, 'content-type': 'application/x-www-form-urlencoded' },
      'a=1',
    );
    expect(checkRequest(form, deps)?.status).toBe(415);
    const big = request(
      '/api/v1/users/u/preferences',
      { ...key, 'content-type': 'application/json' },
      JSON.stringify({ pad: 'x'.repeat(100) }),
    );
    expect(checkRequest(big, deps)?.status).toBe(413);
    expect(checkRequest(request('/api/v1/users/u/state', key), deps)).toBeUndefined();
  });

  test('headers over the budget are 431', () => {
    const answer = checkRequest(request('/healthz', { 'x-big': 'a'.repeat(17_000) }), deps);
    expect(answer?.status).toBe(431);
    expect(answer?.code).toBe('headers_too_large');
  });
});

describe('readJsonBody', () => {
  const body = (bytes: Uint8Array<ArrayBuffer> | string) =>
    new Request('http://h/', { method: 'PUT', body: bytes });

  test('parses strict UTF-8 JSON', async () => {
    expect(await readJsonBody(body('{"a":"é"}'), 64)).toEqual({ a: 'é' });
  });

  test('invalid UTF-8 is a 400, never U+FFFD', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const error = await readJsonBody(body(bytes), 64).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    expect((error as HttpError).message).toContain('UTF-8');
  });

  test('a body past the limit is a 413; broken JSON is a 400', async () => {
    const tooBig = await readJsonBody(body(`"${'x'.repeat(100)}"`), 64).catch((e: unknown) => e);
    expect((tooBig as HttpError).status).toBe(413);
    const declared = new Request('http://h/', {
      method: 'PUT',
      headers: { 'content-length': '100' },
      body: 'x'.repeat(100),
    });
    expect(((await readJsonBody(declared, 64).catch((e: unknown) => e)) as HttpError).status).toBe(
      413,
    );
    const broken = await readJsonBody(body('{"a":'), 64).catch((e: unknown) => e);
    expect((broken as HttpError).status).toBe(400);
  });
});
