/**
 * The relay of live replies between instances (assistant/reply-relay.ts), over an in-memory
 * channel: every payload fits the NOTIFY bound (a long delta is split at character boundaries with
 * the right offsets), the other instance's tabs get deltas whose concatenation is the text, and
 * its mirror shows the text so far in `rehydrate` — never a text that missed its beginning.
 */
import { describe, expect, test } from 'bun:test';
import { ReplyRelay } from '../../src/assistant/reply-relay.ts';
import { silentLogger } from '../../src/lib/log.ts';
import type { ServerFrame } from '../../src/realtime/protocol.ts';

const bytes = (text: string) => Buffer.byteLength(text);
const ids = { turn_id: 'turn1', thread_id: 't1', reply_id: 'r1' };

/** Two relays, A and B, on one channel of `maxPayloadBytes`; B records what its tabs get. */
function pair(maxPayloadBytes = 7999) {
  const payloads: string[] = [];
  const delivered: ServerFrame[] = [];
  let b: ReplyRelay | undefined;
  const make = (origin: string) =>
    new ReplyRelay({
      origin,
      maxPayloadBytes,
      send: async (payload) => {
        payloads.push(payload);
        b?.received(payload);
      },
      deliver: (_userId, frame) => delivered.push(frame),
      wallMs: () => Date.now(),
      logger: silentLogger,
    });
  const a = make('A');
  b = make('B');
  const settle = () => Bun.sleep(5);
  return { a, b, payloads, delivered, settle };
}

function start(relay: ReplyRelay) {
  relay.published('u1', { type: 'reply.start', seq: 1, ...ids, message_id: 'm1' } as ServerFrame);
}

function delta(relay: ReplyRelay, offset: number, text: string) {
  relay.published('u1', { type: 'reply.delta', ...ids, offset, text });
}

describe('reply relay', () => {
  test('a long delta with escapes and emoji is split between characters within the bound', async () => {
    const { a, b, payloads, delivered, settle } = pair(1000);
    const text = `${'ä'.repeat(3000)}"\u0001\\${'😀'.repeat(2000)}`;
    start(a);
    delta(a, 0, text);
    await settle();
    expect(payloads.length).toBeGreaterThan(10);
    expect(payloads.every((p) => bytes(p) <= 1000)).toBe(true);
    const deltas = delivered as Array<{ offset: number; text: string }>;
    let offset = 0;
    for (const d of deltas) {
      expect(d.offset).toBe(offset);
      expect(d.text.isWellFormed()).toBe(true);
      offset += bytes(d.text);
    }
    expect(deltas.map((d) => d.text).join('')).toBe(text);
    expect(b.replies('u1', 't1').map((v) => v.text)).toEqual([text]);
  });

  test('the other instance gets every delta, its mirror the text so far; the end clears it', async () => {
    const { a, b, payloads, delivered, settle } = pair(1200);
    start(a);
    const text = 'wörd '.repeat(900);
    delta(a, 0, text.slice(0, 10));
    delta(a, bytes(text.slice(0, 10)), text.slice(10));
    await settle();
    expect(payloads.every((p) => bytes(p) <= 1200)).toBe(true);
    const deltas = delivered.filter((f) => f.type === 'reply.delta') as Array<{
      offset: number;
      text: string;
    }>;
    expect(deltas.map((d) => d.text).join('')).toBe(text);
    let offset = 0;
    for (const d of deltas) {
      expect(d.offset).toBe(offset);
      offset += bytes(d.text);
    }
    expect(b.replies('u1', 't1')).toEqual([
      { turn_id: 'turn1', reply_id: 'r1', status: 'streaming', text, offset: bytes(text) },
    ]);
    expect(b.replies('u2', 't1')).toEqual([]);
    expect(a.replies('u1', 't1')).toEqual([]); // its own notices are ignored
    a.published('u1', { type: 'reply.end', seq: 2, ...ids, status: 'complete' } as ServerFrame);
    await settle();
    expect(b.replies('u1', 't1')).toEqual([]);
  });

  test('a mirror that missed the beginning or a piece never shows the reply', async () => {
    const { a, b, settle } = pair();
    delta(a, 5, 'world'); // joined mid-stream: no start, offset 5
    await settle();
    expect(b.replies('u1', 't1')).toEqual([]);
    start(a);
    delta(a, 0, 'hello');
    await settle();
    expect(b.replies('u1', 't1').map((v) => v.text)).toEqual(['hello']);
    delta(a, 9, 'gap'); // bytes 5..9 never arrived
    delta(a, 12, 'more');
    await settle();
    expect(b.replies('u1', 't1')).toEqual([]);
  });

  test('a lost LISTEN makes every mirrored reply untrusted', async () => {
    const { a, b, settle } = pair();
    start(a);
    delta(a, 0, 'hello');
    await settle();
    b.resubscribed();
    delta(a, 5, ' world');
    await settle();
    expect(b.replies('u1', 't1')).toEqual([]);
  });
});
