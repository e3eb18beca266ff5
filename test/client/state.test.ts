import { describe, expect, test } from 'bun:test';
import {
  applyOwnMessage,
  applyPush,
  applyRehydrate,
  initialState,
  type LifelineState,
  MAX_MESSAGES_PER_THREAD,
  mergeMessages,
} from '../../client/state.ts';
import type { PushFrame, RehydrateFrame } from '../../src/realtime/protocol.ts';
import { messageView, rehydrate, uuid } from './fakes.ts';

function snapshot(overrides: Record<string, unknown> = {}): RehydrateFrame {
  return rehydrate(overrides) as unknown as RehydrateFrame;
}

function pushAll(state: LifelineState, frames: PushFrame[]) {
  const outcomes: string[] = [];
  for (const frame of frames) {
    const result = applyPush(state, frame);
    outcomes.push(result.outcome);
    state = result.state;
  }
  return { state, outcomes };
}

const threeMessages = {
  t1: {
    personalization: { persona: 'tutor' },
    messages: [messageView(uuid(1), 1), messageView(uuid(2), 2), messageView(uuid(3), 3)],
  },
};

describe('applyRehydrate', () => {
  test('replaces the state from a snapshot that did not recover, and moves the cursor to its seq', () => {
    const first = applyRehydrate(initialState(), snapshot({ seq: 3, threads: threeMessages }));
    const replaced = applyRehydrate(
      first,
      snapshot({ epoch: 'e2', seq: 1, preferences: { theme: 'dark' } }),
    );
    expect(replaced.epoch).toBe('e2');
    expect(replaced.seq).toBe(1);
    expect(replaced.snapshotSeq).toBe(1);
    expect(replaced.preferences).toEqual({ theme: 'dark' });
    expect(Object.keys(replaced.threads)).toEqual([]);
  });

  test('keeps held messages and the cursor when the snapshot resumes the same epoch', () => {
    const first = applyRehydrate(initialState(), snapshot({ seq: 3, threads: threeMessages }));
    const resumed = applyRehydrate(
      first,
      snapshot({
        seq: 5,
        recovered: true,
        threads: { t1: { personalization: {}, messages: [messageView(uuid(3), 3)] } },
      }),
    );
    expect(resumed.seq).toBe(3);
    expect(resumed.snapshotSeq).toBe(5);
    expect(resumed.threads.t1?.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(resumed.threads.t1?.personalization).toEqual({});
  });

  test('treats recovered:true in another epoch as a replacement', () => {
    const first = applyRehydrate(initialState(), snapshot({ seq: 3, threads: threeMessages }));
    const other = applyRehydrate(first, snapshot({ epoch: 'e9', seq: 2, recovered: true }));
    expect(other.seq).toBe(2);
    expect(other.threads.t1).toBeUndefined();
  });

  test('holds a thread named like an Object method as a plain key', () => {
    const state = applyRehydrate(initialState(), snapshot({}));
    const name: string = 'toString';
    expect(state.threads[name]).toBeUndefined();
    const withThread = applyRehydrate(
      state,
      snapshot({ threads: { toString: { personalization: {}, messages: [] } } }),
    );
    expect(withThread.threads[name]).toEqual({ personalization: {}, messages: [] });
  });

  test('returns a deeply frozen snapshot', () => {
    const state = applyRehydrate(initialState(), snapshot({ seq: 3, threads: threeMessages }));
    expect(Object.isFrozen(state)).toBe(true);
    expect(Object.isFrozen(state.threads.t1?.messages[0])).toBe(true);
    expect(() => {
      (state.preferences as Record<string, unknown>).x = 1;
    }).toThrow();
  });
});

describe('applyPush', () => {
  const base = applyRehydrate(
    initialState(),
    snapshot({ seq: 10, preferences: { theme: 'dark' } }),
  );

  test('drops a push at or below the snapshot seq on a fresh snapshot (docs/design.md#snapshot-before-stream)', () => {
    const { state, outcomes } = pushAll(base, [
      { type: 'preferences', seq: 9, preferences: { theme: 'old' } },
      { type: 'preferences', seq: 10, preferences: { theme: 'old' } },
    ]);
    expect(outcomes).toEqual(['duplicate', 'duplicate']);
    expect(state).toBe(base);
  });

  test('applies newer pushes in order and moves the cursor', () => {
    const { state, outcomes } = pushAll(base, [
      { type: 'preferences', seq: 11, preferences: { theme: 'light' } },
      { type: 'memory', seq: 12, status: 'write_only' },
      { type: 'personalization', seq: 13, thread_id: 't2', state: { a: 1 } },
      { type: 'message', seq: 14, message: messageView(uuid(14), 14, 't2') },
      { type: 'event', seq: 15, event: 'billing', data: { plan: 'pro' } },
    ]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    expect(state.seq).toBe(15);
    expect(state.preferences).toEqual({ theme: 'light' });
    expect(state.memory).toBe('write_only');
    expect(state.threads.t2).toEqual({
      personalization: { a: 1 },
      messages: [messageView(uuid(14), 14, 't2')],
    });
  });

  test('drops a push seen twice', () => {
    const frame: PushFrame = { type: 'message', seq: 11, message: messageView(uuid(11), 11) };
    const { state, outcomes } = pushAll(base, [frame, frame]);
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect(state.threads.t1?.messages).toHaveLength(1);
  });

  test('adds replayed messages but never moves state behind the snapshot', () => {
    const held = applyRehydrate(initialState(), snapshot({ seq: 2 }));
    const resumed = applyRehydrate(
      held,
      snapshot({
        seq: 5,
        recovered: true,
        preferences: { theme: 'new' },
        memory: { status: 'ok' },
      }),
    );
    const { state, outcomes } = pushAll(resumed, [
      { type: 'preferences', seq: 3, preferences: { theme: 'older' } },
      { type: 'memory', seq: 4, status: 'write_only' },
      { type: 'message', seq: 5, message: messageView(uuid(5), 5) },
      { type: 'message', seq: 6, message: messageView(uuid(6), 6) },
    ]);
    expect(outcomes).toEqual(['replayed', 'replayed', 'replayed', 'applied']);
    expect(state.preferences).toEqual({ theme: 'new' });
    expect(state.memory).toBe('ok');
    expect(state.threads.t1?.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(state.seq).toBe(6);
  });
});

describe('messages', () => {
  test('an own message acked and later replayed is held once', () => {
    const state = applyRehydrate(initialState(), snapshot({ seq: 1 }));
    const own = applyOwnMessage(
      state,
      { type: 'message', id: uuid(2), thread_id: 't1', role: 'user', content: 'hi' },
      2,
      '2026-11-24T12:00:00.000Z',
    );
    expect(own.seq).toBe(1);
    const { state: after } = pushAll(own, [
      { type: 'message', seq: 2, message: messageView(uuid(2), 2, 't1', 'hi') },
    ]);
    expect(after.threads.t1?.messages.map((m) => m.id)).toEqual([uuid(2)]);
  });

  test('mergeMessages sorts by seq and keeps the newest ones', () => {
    const many = Array.from({ length: MAX_MESSAGES_PER_THREAD + 5 }, (_, i) =>
      messageView(uuid(i), i),
    );
    const merged = mergeMessages([], [...many].reverse());
    expect(merged).toHaveLength(MAX_MESSAGES_PER_THREAD);
    expect(merged[0]?.seq).toBe(5);
    expect(merged.at(-1)?.seq).toBe(MAX_MESSAGES_PER_THREAD + 4);
  });
});
