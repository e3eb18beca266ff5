/**
 * A fast-check property over arbitrary frames sent on a real socket (docs/faults.md#fuzzing): the
 * server never crashes or closes the socket, every reply is an `ack`, an `error` with a documented code,
 * or the documented answer of a valid frame, and rows appear in SQLite only when an ack was sent.
 */
import { expect, test } from 'bun:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../src/realtime/protocol.ts';
import { startRealtime } from '../support/realtime-harness.ts';
import { connect } from '../support/ws.ts';

const RUNS = Number(process.env.LIFELINE_PROPERTY_RUNS ?? 1000);

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'type',
  'id',
  'thread_id',
  'role',
  'content',
  'metadata',
  'preferences',
  'state',
  'query',
  'limit',
] as const;

const typeValue = fc.constantFrom(
  'message',
  'preferences.set',
  'personalization.set',
  'thread.join',
  'memory.query',
  'ping',
  'nope',
  '__proto__',
);
const fieldValue = fc.oneof(
  typeValue,
  fc.constantFrom('t1', 't2', 'theirs', '__proto__', 'user', 'assistant', '', ' \u200b'),
  fc.uuid().map(String),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string(),
);
const objectFrame = fc
  .dictionary(fc.constantFrom(...KEYS), fieldValue, { maxKeys: 8 })
  .map((value) => JSON.stringify(value));
const threadId = fc.constantFrom('t1', 't2', 'theirs', '__proto__', 'a b');
const anyObject = fc.dictionary(fc.constantFrom(...KEYS, 'x', 'y'), fc.jsonValue({ maxDepth: 3 }), {
  maxKeys: 4,
});
/** Frames close to valid ones, so acks and refusals are both common. */
const nearValid = fc
  .oneof(
    fc.record({
      type: fc.constant('message'),
      id: fc.uuid().map(String),
      thread_id: threadId,
      role: fc.constantFrom('user', 'assistant', 'robot'),
      content: fc.oneof(fc.string(), fc.constantFrom('', ' \u200b', 'a\ud800', 'ok')),
      metadata: fc.option(anyObject, { nil: undefined }),
    }),
    fc.record({
      type: fc.constant('preferences.set'),
      preferences: fc.oneof(anyObject, fc.jsonValue()),
    }),
    fc.record({ type: fc.constant('personalization.set'), thread_id: threadId, state: anyObject }),
  )
  .map((value) => JSON.stringify(value));
const frame = fc.oneof(
  { weight: 4, arbitrary: nearValid },
  { weight: 3, arbitrary: objectFrame },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }) },
);

const REPLY_OF: Record<string, string> = {
  ping: 'pong',
  'thread.join': 'thread.state',
  'memory.query': 'memory.result',
};

test('arbitrary frames: never a crash, only documented replies, rows only with an ack', async () => {
  await using h = await startRealtime({
    configure: (c) => {
      c.limits.messages_per_s = 10_000;
      c.limits.burst = 1_000_000;
    },
  });
  await h.store.setPersonalization('someone-else', 'theirs', {});
  const { client } = await connect(await h.urlFor('u1'));
  const rows = () =>
    (
      h.db.handle.sqlite
        .query(
          "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM history WHERE user_id = 'u1') AS n",
        )
        .get() as { n: number }
    ).n;
  const codes = new Set<string>(ERROR_CODES);
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(frame, async (sent) => {
      const before = rows();
      const reply = await client.request<{ type: string; code?: string }>(sent);
      const after = rows();
      seen.add(reply.type);
      const sentType = typeof sent === 'string' ? safeParse(sent)?.type : undefined;
      if (reply.type === 'error') expect(codes.has(reply.code ?? '')).toBe(true);
      else if (reply.type !== 'ack') expect(reply.type).toBe(REPLY_OF[sentType as string] ?? 'ack');
      if (after > before) expect(reply.type).toBe('ack');
    }),
    { numRuns: RUNS },
  );
  // The generator reaches both outcomes, so the property is not vacuous.
  expect([...seen]).toEqual(expect.arrayContaining(['ack', 'error']));
  // Still the same socket, still serving.
  expect(await client.request({ type: 'ping', id: 'end' })).toEqual({ type: 'pong', id: 'end' });
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  await client.close();
});

function safeParse(text: string): { type?: unknown } | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as { type?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
