import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { CLIENT_FRAMES, ERROR_CODES } from '../../src/realtime/protocol.ts';
import { parseClientFrame } from '../../src/realtime/validate-frame.ts';

const CODES = new Set<string>(ERROR_CODES);
const TYPES = Object.keys(CLIENT_FRAMES);
const TRICKY_KEYS = ['__proto__', 'constructor', 'prototype', 'type', 'id'];

/** Objects whose keys come from the prototype names and the protocol's own fields. */
const trickyObject = fc.dictionary(
  fc.constantFrom(...TRICKY_KEYS, 'thread_id', 'content', 'role', 'metadata', 'preferences'),
  fc.oneof(fc.constantFrom(...TYPES), fc.jsonValue({ maxDepth: 3 }), fc.string()),
  { maxKeys: 6 },
);

/** Frames close to valid ones, so the deeper rules are exercised too. */
const nearFrame = fc.record(
  {
    type: fc.constantFrom(...TYPES, 'nope', '__proto__'),
    id: fc.oneof(fc.uuid(), fc.string(), fc.integer()),
    thread_id: fc.oneof(fc.constantFrom('t1', '__proto__', ''), fc.string()),
    role: fc.constantFrom('user', 'assistant', 'tool', 'admin'),
    content: fc.oneof(fc.string(), fc.constantFrom('\u200b', '\ud800', 'a\u0000')),
    query: fc.string(),
    limit: fc.oneof(fc.integer(), fc.double()),
    token: fc.string(),
    metadata: fc.oneof(fc.object(), fc.jsonValue()),
    preferences: fc.oneof(fc.object(), fc.jsonValue()),
    state: fc.object(),
  },
  { requiredKeys: ['type'] },
);

/** A frame parsed from JSON text the way a socket delivers it, with `__proto__` as an own key. */
const asText = (value: unknown) => JSON.stringify(value) ?? 'undefined';

/**
 * fast-check 4 dropped `unicodeJsonValue()`; `jsonValue({ stringUnit: 'binary' })` is its
 * replacement. Strings with lone surrogates and NUL are added on purpose
 * (docs/design.md#content-rules).
 */
const unicodeJsonValue = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 });
const hostileString = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\ud800', '\udfff', '\u0000', '\u200b'),
    fc.string({ maxLength: 1 }),
  ),
});

const anyInput = fc.oneof(
  fc.json(),
  fc.string(),
  hostileString,
  hostileString.map((content) =>
    JSON.stringify({
      type: 'message',
      id: crypto.randomUUID(),
      thread_id: 't1',
      role: 'user',
      content,
    }),
  ),
  unicodeJsonValue.map(asText),
  unicodeJsonValue,
  trickyObject.map(asText),
  trickyObject,
  nearFrame.map(asText),
  nearFrame,
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
);

describe('parseClientFrame (fast-check, docs/faults.md#fuzzing)', () => {
  test('the generators reach accepted frames as well as refusals', () => {
    const samples = fc
      .sample(anyInput, { numRuns: 2_000, seed: 42 })
      .map((raw) => parseClientFrame(raw));
    expect(samples.filter((result) => result.ok).length).toBeGreaterThan(20);
    const codes = new Set(samples.flatMap((result) => (result.ok ? [] : [result.code])));
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['bad_request', 'empty_message', 'unknown_type']),
    );
  });

  test('never throws and answers ok or an error code from the documented list', () => {
    fc.assert(
      fc.property(anyInput, (raw) => {
        const result = parseClientFrame(raw);
        if (result.ok) {
          expect(TYPES).toContain(result.frame.type);
          expect(Object.getPrototypeOf(result.frame)).toBe(Object.prototype);
        } else {
          expect(CODES.has(result.code)).toBe(true);
          // The catch-all inside parseClientFrame hides bugs as this message; it must never fire.
          expect(result.message).not.toBe('the frame could not be validated');
        }
      }),
      { numRuns: 1_000 },
    );
  });

  test('an accepted frame holds only fields its model names, and Object.prototype stays clean', () => {
    fc.assert(
      fc.property(fc.oneof(nearFrame.map(asText), trickyObject.map(asText)), (raw) => {
        const result = parseClientFrame(raw);
        if (result.ok) {
          const schema = CLIENT_FRAMES[result.frame.type] as { properties: object };
          for (const key of Object.keys(result.frame))
            expect(schema.properties).toHaveProperty(key);
        }
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });
});
