/**
 * The v1 (Swagger) and v2 (docs/zep.md#shapes) request validators: good requests pass, bad ones are named.
 */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import {
  SWAGGER_PATH,
  SWAGGER_SHA256,
  validateV1Request,
  validateV2Request,
} from './zep-validate.ts';

describe('the v1 Swagger fixture', () => {
  test('lives in the repository and is the upstream file, byte for byte', () => {
    expect(relative(`${import.meta.dir}/../..`, SWAGGER_PATH)).toBe(
      'test/fixtures/zep/swagger.json',
    );
    const digest = createHash('sha256').update(readFileSync(SWAGGER_PATH)).digest('hex');
    expect(digest).toBe(SWAGGER_SHA256);
  });
});

const v1Message = { uuid: 'b7c8a0a4-0000-4000-8000-000000000001', role: 'user', content: 'hi' };
const v2Message = { ...v1Message, role_type: 'user', role: 'Alice' };

describe('validateV1Request', () => {
  test.each([
    ['POST', '/api/v1/user', { user_id: 'u1', metadata: { a: 1 } }],
    ['GET', '/api/v1/user?limit=1', undefined],
    ['GET', '/api/v1/user/u1', undefined],
    ['POST', '/api/v1/sessions', { session_id: 's1', user_id: null }],
    ['GET', '/api/v1/sessions/s1', undefined],
    ['POST', '/api/v1/sessions/s1/memory', { messages: [v1Message] }],
    ['GET', '/api/v1/sessions/s1/memory?lastn=6', undefined],
    ['DELETE', '/api/v1/sessions/s1/memory', undefined],
    ['POST', '/api/v1/sessions/s1/search?limit=5', { text: 'hello' }],
  ] as const)('passes %s %s', (method, path, body) => {
    expect(validateV1Request(method, path, body)).toEqual([]);
  });

  test.each([
    [
      'POST',
      '/api/v1/sessions/s1/memory',
      { messages: [{ role: 'user', content: 42 }] },
      'body/messages/0/content: must be string',
    ],
    [
      'POST',
      '/api/v1/sessions/s1/memory',
      { messages: [{ content: 'x' }] },
      "body/messages/0: must have required property 'role'",
    ],
    [
      'POST',
      '/api/v1/sessions/s1/memory',
      { messages: [] },
      'body/messages: must NOT have fewer than 1 items',
    ],
    ['POST', '/api/v1/sessions/s1/memory', { messages: 'x' }, 'body/messages: must be array'],
    ['POST', '/api/v1/sessions/s1/memory', undefined, 'body: required'],
    ['POST', '/api/v1/user', { user_id: 7 }, 'body/user_id: must be string'],
    [
      'POST',
      '/api/v1/sessions/s1/search',
      { text: '' },
      'body: needs text or metadata, else the server answers 500 "empty query" (docs/zep.md#shapes)',
    ],
    [
      'POST',
      '/api/v1/sessions/s1/search',
      { text: 'x', search_scope: 'facts' },
      'body/search_scope: must be equal to one of the allowed values (messages, summary)',
    ],
    ['GET', '/api/v1/user?limit=one', undefined, 'query limit: must be an integer, got "one"'],
    ['GET', '/api/v1/user?pageSize=1', undefined, 'query pageSize: not in the spec'],
    ['GET', '/api/v1/users', undefined, 'route: no /api/v1/users in the v1 spec'],
    ['GET', '/api/v2/users', undefined, 'route: no /api/v2/users in the v1 spec'],
    [
      'PUT',
      '/api/v1/sessions/s1/memory',
      undefined,
      'route: PUT is not allowed on /api/v1/sessions/{sessionId}/memory',
    ],
    [
      'GET',
      '/api/v1/sessions/a%20b',
      undefined,
      'path sessionId: "a%20b" is outside [A-Za-z0-9._-] (docs/zep.md#operations)',
    ],
    [
      'GET',
      '/api/v1/sessions/s1',
      { x: 1 },
      'body: GET /api/v1/sessions/{sessionId} takes no body',
    ],
  ] as const)('flags %s %s', (method, path, body, problem) => {
    expect(validateV1Request(method, path, body)).toContain(problem);
  });
});

describe('validateV2Request', () => {
  test.each([
    ['POST', '/api/v2/users', { user_id: 'u1', email: 'a@b.c' }],
    ['GET', '/api/v2/users-ordered?pageNumber=1&pageSize=1', undefined],
    ['POST', '/api/v2/sessions', { session_id: 's1', user_id: 'u1' }],
    ['POST', '/api/v2/sessions/s1/memory', { messages: [v2Message] }],
    ['GET', '/api/v2/sessions/s1/memory?lastn=6', undefined],
    ['DELETE', '/api/v2/sessions/s1/memory', undefined],
    ['POST', '/api/v2/sessions/search?limit=5', { text: 'hi', session_ids: ['s1'] }],
  ] as const)('passes %s %s', (method, path, body) => {
    expect(validateV2Request(method, path, body)).toEqual([]);
  });

  test.each([
    [
      'POST',
      '/api/v2/sessions/s1/memory',
      { messages: [v1Message] },
      "body/messages/0: must have required property 'role_type'",
    ],
    [
      'POST',
      '/api/v2/sessions/s1/memory',
      { messages: [{ ...v2Message, role_type: 'human' }] },
      'body/messages/0/role_type: must be equal to one of the allowed values (norole, system, assistant, user, function, tool)',
    ],
    [
      'POST',
      '/api/v2/sessions/s1/memory',
      { messages: Array(31).fill(v2Message) },
      'body/messages: must NOT have more than 30 items',
    ],
    [
      'POST',
      '/api/v2/sessions/s1/memory',
      { messages: [{ ...v2Message, content: 'x'.repeat(2501) }] },
      'body/messages/0/content: must NOT have more than 2500 characters',
    ],
    [
      'POST',
      '/api/v2/users',
      { user_id: '' },
      'body/user_id: must NOT have fewer than 1 characters',
    ],
    ['POST', '/api/v2/sessions/search', { text: 'hi' }, 'body: send session_ids or user_id'],
    [
      'POST',
      '/api/v2/sessions/s1/search',
      { text: 'hi' },
      'route: /api/v2/sessions/{sessionId}/search exists on Cloud only',
    ],
    ['GET', '/api/v2/sessions/s1/memory?lastn=-1', undefined, 'query lastn: must not be negative'],
    ['GET', '/api/v2/user', undefined, 'route: no /api/v2/user in the v2 contract'],
  ] as const)('flags %s %s', (method, path, body, problem) => {
    expect(validateV2Request(method, path, body)).toContain(problem);
  });

  test('accepts 2,500 astral characters because limits count code points', () => {
    const content = '😀'.repeat(2500);
    expect(
      validateV2Request('POST', '/api/v2/sessions/s1/memory', {
        messages: [{ ...v2Message, content }],
      }),
    ).toEqual([]);
  });
});
