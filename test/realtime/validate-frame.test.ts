import { describe, expect, test } from 'bun:test';
import type { ErrorCode } from '../../src/realtime/protocol.ts';
import {
  DEFAULT_FRAME_LIMITS,
  jsonErrorOffset,
  parseClientFrame,
} from '../../src/realtime/validate-frame.ts';

const MSG_ID = '0b6f1a2e-8a4e-4c1e-9a51-3d8f1b2c4d5e';
const message = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'message',
    id: MSG_ID,
    thread_id: 't1',
    role: 'user',
    content: 'hi',
    ...extra,
  });

function deep(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

describe('parseClientFrame: refusals (docs/faults.md#w1 (W1–W9))', () => {
  test.each<[string, unknown, ErrorCode, string]>([
    // W1: invalid JSON names the position of the first error.
    ['W1 unclosed object', '{', 'bad_request', 'invalid JSON at position 1'],
    ['W1 stray bracket', ']', 'bad_request', 'invalid JSON at position 0'],
    ['W1 bare word', 'ping', 'bad_request', 'invalid JSON at position 0'],
    ['W1 trailing comma', '{"type":"ping",}', 'bad_request', 'invalid JSON at position 15'],
    ['W1 trailing garbage', '{"type":"ping"} x', 'bad_request', 'invalid JSON at position 16'],
    ['W1 empty text', '', 'bad_request', 'invalid JSON at position 0'],
    // W2: JSON that is not an object, as text and as Elysia's already-parsed values.
    ['W2 array', '[1,2]', 'bad_request', 'expected an object'],
    ['W2 string', '"ping"', 'bad_request', 'expected an object'],
    ['W2 number', '42', 'bad_request', 'expected an object'],
    ['W2 null', 'null', 'bad_request', 'expected an object'],
    ['W2 parsed number', 123, 'bad_request', 'expected an object'],
    ['W2 parsed boolean', true, 'bad_request', 'expected an object'],
    ['W2 parsed null', null, 'bad_request', 'expected an object'],
    ['W2 parsed array', [{ type: 'ping' }], 'bad_request', 'expected an object'],
    // W3: binary frames in every shape Bun or Elysia may hand over.
    [
      'W3 Buffer',
      Buffer.from('{"type":"ping"}'),
      'bad_request',
      'binary frames are not supported; send JSON text',
    ],
    [
      'W3 Uint8Array',
      new Uint8Array([1, 2]),
      'bad_request',
      'binary frames are not supported; send JSON text',
    ],
    [
      'W3 ArrayBuffer',
      new ArrayBuffer(4),
      'bad_request',
      'binary frames are not supported; send JSON text',
    ],
    // W5: nesting is bounded before any recursive work.
    [
      'W5 1,000 deep in metadata',
      message({ metadata: { a: JSON.parse(deep(1_000)) } }),
      'bad_request',
      'nested deeper than 32 levels',
    ],
    [
      'W5 32,000 deep text',
      `{"type":"ping","x":${deep(32_000)}}`,
      'bad_request',
      'nested deeper than 32 levels',
    ],
    [
      'W5 33 levels',
      `{"type":"preferences.set","preferences":{"a":${deep(31)}}}`,
      'bad_request',
      'nested deeper than 32 levels',
    ],
    // W6: Unicode rules of docs/design.md#content-rules.
    [
      'W6 lone surrogate',
      message({ content: 'a\ud800b' }),
      'bad_request',
      '/content: contains a lone surrogate or U+0000',
    ],
    [
      'W6 lone low surrogate',
      message({ content: '\udc00' }),
      'bad_request',
      '/content: contains a lone surrogate or U+0000',
    ],
    [
      'W6 NUL',
      message({ content: 'a\u0000b' }),
      'bad_request',
      '/content: contains a lone surrogate or U+0000',
    ],
    [
      'W6 NUL in a metadata key',
      message({ metadata: { 'k\u0000': 1 } }),
      'bad_request',
      '/metadata/k\u0000: contains a lone surrogate or U+0000',
    ],
    [
      'W6 surrogate in an unknown field',
      message({ extra: ['\ud800'] }),
      'bad_request',
      '/extra/0: contains a lone surrogate or U+0000',
    ],
    [
      'W6 invisible-only content',
      message({ content: '\u200b\u2060\ufeff\u00a0\u3000 \n' }),
      'empty_message',
      'content is empty',
    ],
    ['W6 empty content', message({ content: '' }), 'empty_message', 'content is empty'],
    [
      'W6 content over the byte limit',
      message({ content: '😀'.repeat(8_193) }),
      'too_large',
      '/content: 32772 bytes; the limit is 32768',
    ],
    // W7: prototype names as ids.
    [
      'W7 thread __proto__',
      message({ thread_id: '__proto__' }),
      'bad_request',
      '/thread_id: this id is reserved',
    ],
    [
      'W7 thread constructor',
      JSON.stringify({ type: 'thread.join', thread_id: 'constructor' }),
      'bad_request',
      '/thread_id: this id is reserved',
    ],
    // W8: unknown type echoes the id.
    ['W8 unknown type', '{"type":"nope","id":"r1"}', 'unknown_type', 'unknown type "nope"'],
    [
      'W8 prototype name as type',
      '{"type":"__proto__"}',
      'unknown_type',
      'unknown type "__proto__"',
    ],
    ['W8 toString as type', '{"type":"toString"}', 'unknown_type', 'unknown type "toString"'],
    // W9: missing and wrong fields name their path.
    ['W9 no type', '{"id":"r1"}', 'bad_request', '/type: expected string'],
    ['W9 numeric type', '{"type":7}', 'bad_request', '/type: expected string'],
    ['W9 content a number', message({ content: 5 }), 'bad_request', '/content: expected string'],
    [
      'W9 content missing',
      JSON.stringify({ type: 'message', id: MSG_ID, thread_id: 't1', role: 'user' }),
      'bad_request',
      '/content: is required',
    ],
    [
      'W9 bad role',
      message({ role: 'admin' }),
      'bad_request',
      '/role: expected one of user, assistant, system, tool',
    ],
    ['W9 message id not a UUID', message({ id: 'm1' }), 'bad_request', '/id: expected a UUID'],
    [
      'W9 bad thread id',
      message({ thread_id: 't/1' }),
      'bad_request',
      '/thread_id: expected a thread id matching [A-Za-z0-9._-]{1,128}',
    ],
    [
      'W9 thread id too long',
      message({ thread_id: 't'.repeat(129) }),
      'bad_request',
      '/thread_id: expected a thread id matching [A-Za-z0-9._-]{1,128}',
    ],
    [
      'W9 metadata an array',
      message({ metadata: [1] }),
      'bad_request',
      '/metadata: expected an object',
    ],
    [
      'W9 preferences null',
      '{"type":"preferences.set","preferences":null}',
      'bad_request',
      '/preferences: expected an object',
    ],
    [
      'W9 state missing',
      '{"type":"personalization.set","thread_id":"t1"}',
      'bad_request',
      '/state: is required',
    ],
    [
      'W9 limit out of range',
      '{"type":"memory.query","thread_id":"t1","query":"q","limit":51}',
      'bad_request',
      '/limit: expected an integer 1..50',
    ],
    [
      'W9 limit fractional',
      '{"type":"memory.query","thread_id":"t1","query":"q","limit":1.5}',
      'bad_request',
      '/limit: expected an integer 1..50',
    ],
    [
      'W9 blank query',
      '{"type":"memory.query","thread_id":"t1","query":" \u200b"}',
      'bad_request',
      '/query: must not be blank',
    ],
    [
      'W9 request id of the wrong type',
      '{"type":"ping","id":5}',
      'bad_request',
      '/id: expected a string matching [A-Za-z0-9._-]{1,128}',
    ],
    [
      'W9 token not a string',
      '{"type":"auth.refresh","token":1}',
      'bad_request',
      '/token: expected string',
    ],
  ])('%s', (_name, raw, code, text) => {
    const result = parseClientFrame(raw);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect({ code: result.code, message: result.message }).toEqual({ code, message: text });
  });

  test('echoes a well-formed id on refusals, never a junk one', () => {
    expect(parseClientFrame(message({ content: 5 }))).toMatchObject({ id: MSG_ID });
    expect(parseClientFrame('{"type":"nope","id":"x/../y"}')).not.toHaveProperty('id');
    expect(parseClientFrame(`{"type":"nope","id":"${'a'.repeat(200)}"}`)).not.toHaveProperty('id');
  });

  test('refuses a text frame over the frame limit before parsing it', () => {
    const raw = message({ content: 'x'.repeat(DEFAULT_FRAME_LIMITS.maxFrameBytes) });
    expect(parseClientFrame(raw)).toMatchObject({ ok: false, code: 'too_large' });
  });

  test('refuses metadata, preferences and state over the object limit', () => {
    const big = { blob: 'x'.repeat(DEFAULT_FRAME_LIMITS.maxObjectBytes) };
    expect(parseClientFrame(message({ metadata: big }))).toMatchObject({ code: 'too_large' });
    const prefs = JSON.stringify({ type: 'preferences.set', preferences: big });
    expect(parseClientFrame(prefs)).toMatchObject({ code: 'too_large' });
  });
});

describe('parseClientFrame: accepted frames', () => {
  test.each([
    [
      'message',
      message({ metadata: { lang: 'en' } }),
      {
        type: 'message',
        id: MSG_ID,
        thread_id: 't1',
        role: 'user',
        content: 'hi',
        metadata: { lang: 'en' },
      },
    ],
    [
      'memory.query',
      '{"type":"memory.query","id":"q1","thread_id":"t1","query":"cats","limit":5}',
      { type: 'memory.query', id: 'q1', thread_id: 't1', query: 'cats', limit: 5 },
    ],
    [
      'preferences.set',
      '{"type":"preferences.set","preferences":{"theme":"dark"}}',
      { type: 'preferences.set', preferences: { theme: 'dark' } },
    ],
    [
      'personalization.set',
      '{"type":"personalization.set","thread_id":"a.b-c_d","state":{}}',
      { type: 'personalization.set', thread_id: 'a.b-c_d', state: {} },
    ],
    [
      'thread.join',
      '{"type":"thread.join","thread_id":"t1"}',
      { type: 'thread.join', thread_id: 't1' },
    ],
    [
      'auth.refresh',
      '{"type":"auth.refresh","token":"a.b.c"}',
      { type: 'auth.refresh', token: 'a.b.c' },
    ],
    ['ping', '{"type":"ping","id":"p-1"}', { type: 'ping', id: 'p-1' }],
    ['already-parsed ping', { type: 'ping' }, { type: 'ping' }],
  ])('%s', (_name, raw, frame) => {
    expect(parseClientFrame(raw)).toEqual({ ok: true, frame: frame as never });
  });

  test('keeps content byte for byte, including RTL overrides, NFD forms and a 4-byte emoji at the limit', () => {
    const content = '\u202Eabc e\u0301 \u00e9 😀';
    const result = parseClientFrame(message({ content }));
    expect(result).toMatchObject({ ok: true, frame: { content } });
    const atLimit = '😀'.repeat(8_192);
    expect(parseClientFrame(message({ content: atLimit }))).toMatchObject({ ok: true });
  });

  test('counts only brackets outside strings when scanning text for depth', () => {
    const content = `${'[{'.repeat(100)} \\" ${'['.repeat(100)}`;
    expect(parseClientFrame(message({ content }))).toMatchObject({ ok: true, frame: { content } });
  });

  test('bounds the depth of an already-parsed value too', () => {
    const parsed = { type: 'ping', x: JSON.parse(deep(1_000)) };
    expect(parseClientFrame(parsed)).toMatchObject({
      ok: false,
      message: 'nested deeper than 32 levels',
    });
  });

  test('accepts exactly 32 levels of nesting', () => {
    const raw = `{"type":"preferences.set","preferences":{"a":${deep(30)}}}`;
    expect(parseClientFrame(raw)).toMatchObject({ ok: true });
  });
});

describe('parseClientFrame: prototype pollution (docs/faults.md#w7)', () => {
  test('drops extra fields and never merges __proto__ into the frame', () => {
    const raw = `{"type":"ping","__proto__":{"isAdmin":true},"constructor":{"x":1},"prototype":1,"extra":2}`;
    const result = parseClientFrame(raw);
    expect(result).toEqual({ ok: true, frame: { type: 'ping' } });
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.frame)).toBe(Object.prototype);
    expect((result.frame as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.keys(result.frame)).toEqual(['type']);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  test('keeps __proto__ inside free-form objects as plain data, without touching any prototype', () => {
    const raw = message({
      metadata: JSON.parse('{"__proto__":{"isAdmin":true},"constructor":"c"}'),
    });
    const result = parseClientFrame(raw);
    expect(result.ok).toBe(true);
    if (!result.ok || result.frame.type !== 'message') return;
    const metadata = result.frame.metadata as Record<string, unknown>;
    expect(Object.hasOwn(metadata, '__proto__')).toBe(true);
    expect(metadata.isAdmin).toBeUndefined();
    expect(JSON.stringify(metadata)).toBe('{"__proto__":{"isAdmin":true},"constructor":"c"}');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  test('never fills a missing required field from the prototype', () => {
    const polluted = Object.create({ thread_id: 't1' }) as Record<string, unknown>;
    polluted.type = 'thread.join';
    expect(parseClientFrame(polluted)).toMatchObject({
      ok: false,
      message: '/thread_id: is required',
    });
  });
});

describe('jsonErrorOffset', () => {
  test.each([
    ['{"a":1}', -1],
    ['[1,[2,{"b":[true,false,null,-1.5e3]}]]', -1],
    ['"\\u00e9"', -1],
    ['{"a" 1}', 5],
    ['{"a":01}', 6],
    ['[1 2]', 3],
    ['"abc', 4],
    ['"\\x"', 1],
    ['"\\u12"', 1],
    ['"a\nb"', 2],
    ['{"a":}', 5],
    ['[', 1],
    ['tru', 0],
  ])('%j → %d', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  test('agrees with JSON.parse about validity on a 32,000-deep input', () => {
    expect(jsonErrorOffset(deep(32_000))).toBe(-1);
    expect(jsonErrorOffset(`${deep(32_000)}]`)).toBe(64_000);
  });
});
