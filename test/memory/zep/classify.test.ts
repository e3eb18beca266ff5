import { describe, expect, test } from 'bun:test';
import { checkContent, checkMessageList } from '../../../src/memory/guards.ts';
import {
  classifyStatus,
  isRouteNotFound,
  parseRetryAfterMs,
} from '../../../src/memory/zep/classify.ts';
import { V1_HTML_404, V2_ROUTE_404 } from '../../support/fake-zep-replies.ts';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const res = (status: number, text = '', retryAfter: string | null = null) => ({
  status,
  text,
  retryAfter,
});

describe('classifyStatus', () => {
  test.each([
    [200, 'OK', 'ok'],
    [201, '{"message":"OK"}', 'ok'],
    [404, 'not found\n', 'not_found'],
    [404, '{"message":"not found"}', 'not_found'],
    [404, V2_ROUTE_404, 'misconfigured'],
    [404, V1_HTML_404, 'misconfigured'],
    [404, '<html><body>nginx</body></html>', 'misconfigured'],
    [401, 'unauthorized\n', 'misconfigured'],
    [302, '', 'misconfigured'],
    [500, 'boom', 'failure'],
    [502, '', 'failure'],
    [503, '', 'failure'],
    [429, '', 'failure'],
    [408, '', 'failure'],
    [400, 'bad request: role_type must be one of', 'rejected'],
    [409, '{"message":"session ended"}', 'rejected'],
    [413, '', 'rejected'],
  ])('HTTP %d %j is %s', (status, text, kind) => {
    expect(classifyStatus(res(status, text), NOW).kind).toBe(kind as never);
  });

  test('route-404 names its reason, resource-404 does not open anything', () => {
    expect(classifyStatus(res(404, V2_ROUTE_404), NOW)).toEqual({
      kind: 'misconfigured',
      reason: 'route_404',
      status: 404,
      detail: 'route missing (404 404 page not found)',
      routeBody: 'router',
    });
    expect(classifyStatus(res(404, V1_HTML_404), NOW)).toMatchObject({ routeBody: 'html' });
    expect(isRouteNotFound('not found\n')).toBe(false);
  });

  test('a rejection carries the server reason from a JSON or text body', () => {
    expect(classifyStatus(res(400, '{"message":"user not found"}'), NOW)).toEqual({
      kind: 'rejected',
      status: 400,
      reason: 'user not found',
    });
  });

  test('a 429 carries its parsed Retry-After', () => {
    expect(classifyStatus(res(429, '', '120'), NOW)).toMatchObject({
      failure: 'http_429',
      retryAfterMs: 120_000,
    });
    expect(classifyStatus(res(429, '', 'soon'), NOW)).not.toHaveProperty('retryAfterMs');
  });
});

describe('parseRetryAfterMs', () => {
  test.each([
    ['120', 120_000],
    ['1', 1000],
    ['0', 0],
    ['1e9', 1e12],
    [new Date(NOW + 90_000).toUTCString(), 90_000],
    [new Date(NOW - 90_000).toUTCString(), 0],
    ['-5', undefined],
    ['soon', undefined],
    ['', undefined],
    ['  ', undefined],
    ['12abc', undefined],
    ['Infinity', undefined],
  ])('%j → %p', (value, expected) => {
    expect(parseRetryAfterMs(value, NOW)).toBe(expected as never);
  });

  test('no header is undefined', () => {
    expect(parseRetryAfterMs(null, NOW)).toBeUndefined();
  });
});

describe('guards', () => {
  test.each([
    ['empty_message', ''],
    ['empty_message', ' '],
    ['empty_message', '\t\n\r'],
    ['empty_message', '\u00a0\u3000'],
    ['empty_message', '\u200b\u200c\u200d\u2060\ufeff'],
    ['empty_message', ' \u200b \n'],
    ['bad_request', 'a\u0000b'],
    ['bad_request', '\ud800'],
    ['bad_request', 'x\udc00'],
    ['bad_request', 42],
    ['too_large', 'x'.repeat(32_769)],
    ['too_large', 'é'.repeat(16_385)],
  ])('case %# is %s', (code, content) => {
    expect(checkContent(content)?.code).toBe(code as never);
  });

  test.each([['hello'], ['😀'], ['é'.repeat(16_384)], [' a ']])('case %# passes', (content) => {
    expect(checkContent(content)).toBeNull();
  });

  test('an empty list is empty_message and a bad member is named by index', () => {
    expect(checkMessageList([])).toEqual({
      code: 'empty_message',
      message: 'the message list is empty',
    });
    expect(checkMessageList([{ content: 'a' }, { content: '  ' }])?.message).toBe(
      'message 1: content is empty or white space only',
    );
  });
});
