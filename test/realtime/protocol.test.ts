import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import {
  CLIENT_FRAMES,
  CLOSE,
  ERROR_CODES,
  errorFrame,
  isAcceptableId,
  isPushFrame,
  SERVER_FRAMES,
  type ServerFrame,
} from '../../src/realtime/protocol.ts';
import { parseClientFrame } from '../../src/realtime/validate-frame.ts';

const DOC = readFileSync(join(import.meta.dir, '../../docs/protocol.md'), 'utf8');

/** Every ```json client / ```json server block of docs/protocol.md. */
function examples(direction: 'client' | 'server'): Array<[string, unknown]> {
  const pattern = new RegExp(`\`\`\`json ${direction}\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...DOC.matchAll(pattern)].map((match) => {
    const value = JSON.parse(match[1] as string) as { type: string };
    return [value.type, value];
  });
}

describe('protocol constants (docs/design.md#websocket)', () => {
  test('close codes are exactly the documented list', () => {
    expect(Object.values(CLOSE).sort()).toEqual([
      1000, 1001, 1008, 1009, 1011, 1012, 4001, 4003, 4008,
    ]);
  });

  test('error codes are the documented list plus unavailable (storage-failure)', () => {
    expect([...ERROR_CODES].sort()).toEqual([
      'bad_request',
      'empty_message',
      'forbidden_thread',
      'internal',
      'rate_limited',
      'too_large',
      'unavailable',
      'unknown_type',
    ]);
  });

  test('every client and server frame type of docs/design.md#websocket has a model', () => {
    expect(Object.keys(CLIENT_FRAMES).sort()).toEqual([
      'auth.refresh',
      'memory.query',
      'message',
      'personalization.set',
      'ping',
      'preferences.set',
      'reply.cancel',
      'thread.join',
    ]);
    expect(Object.keys(SERVER_FRAMES).sort()).toEqual([
      'ack',
      'assistant',
      'auth.expiring',
      'auth.ok',
      'error',
      'event',
      'memory',
      'memory.result',
      'message',
      'personalization',
      'pong',
      'preferences',
      'reconnect',
      'rehydrate',
      'reply.delta',
      'reply.end',
      'reply.start',
      'thread.state',
    ]);
  });

  test('isPushFrame is true exactly for frames that carry the user seq', () => {
    const pushes = Object.keys(SERVER_FRAMES).filter((type) =>
      isPushFrame({ type } as ServerFrame),
    );
    expect(pushes.sort()).toEqual([
      'assistant',
      'event',
      'memory',
      'message',
      'personalization',
      'preferences',
      'reply.end',
      'reply.start',
    ]);
  });

  test('errorFrame leaves id out unless given', () => {
    expect(errorFrame('internal', 'oops')).toEqual({
      type: 'error',
      code: 'internal',
      message: 'oops',
    });
    expect(errorFrame('internal', 'oops', 'r1')).toEqual({
      type: 'error',
      code: 'internal',
      message: 'oops',
      id: 'r1',
    });
  });

  test.each([
    ['u1', true],
    ['a.b-c_D', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['__proto__', false],
    ['constructor', false],
    ['prototype', false],
    ['u 1', false],
    ['ü', false],
    [7, false],
  ])('isAcceptableId(%p) is %p', (value, expected) => {
    expect(isAcceptableId(value)).toBe(expected);
  });
});

describe('docs/protocol.md examples match the models', () => {
  test('the reference shows every frame type in both directions', () => {
    expect(new Set(examples('client').map(([type]) => type))).toEqual(
      new Set(Object.keys(CLIENT_FRAMES)),
    );
    expect(new Set(examples('server').map(([type]) => type))).toEqual(
      new Set(Object.keys(SERVER_FRAMES)),
    );
  });

  test.each(examples('client'))('client %s is accepted as written', (_type, frame) => {
    expect(parseClientFrame(JSON.stringify(frame))).toEqual({ ok: true, frame: frame as never });
  });

  test.each(examples('server'))('server %s fits its model', (type, frame) => {
    const schema = SERVER_FRAMES[type as keyof typeof SERVER_FRAMES];
    expect(
      [...Value.Errors(schema, frame)].map((error) => `${error.path} ${error.message}`),
    ).toEqual([]);
  });
});
