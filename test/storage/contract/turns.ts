/**
 * Contract: assistant turns. A user message written with `createTurn` commits with exactly one
 * queued turn (a resend, even racing on two instances, answers the same turn); a reply written
 * with `completesTurn` ends its turn in the same write.
 */
import { describe, expect, test } from 'bun:test';
import type { AppendResult } from '../../../src/storage/store.ts';
import { type MakeStore, msg } from './contract.ts';

function turnIdOf(result: AppendResult): string | undefined {
  return result.kind === 'ok' ? result.turnId : undefined;
}

/** Registers the turn cases. */
export function turnsContract(make: MakeStore): void {
  describe('turns', () => {
    test('a user message with createTurn commits with one queued turn', async () => {
      await using db = await make();
      const m = msg({ createTurn: true });
      const result = await db.store.appendMessage(m);
      expect(result).toMatchObject({ kind: 'ok', seq: 1, duplicate: false });
      const turnId = turnIdOf(result);
      expect(turnId).toEqual(expect.any(String));
      expect(await db.store.readTurn(turnId!)).toEqual({
        turnId: turnId!,
        userId: 'u1',
        threadId: 't1',
        messageId: m.id,
        messageSeq: 1,
        status: 'queued',
        attempt: 0,
        replyId: null,
        text: '',
        createdAtWallMs: expect.any(Number),
        updatedAtWallMs: expect.any(Number),
        nextAttemptAtWallMs: null,
        error: null,
      });
      expect((await db.store.openTurns(10)).map((t) => t.turnId)).toEqual([turnId!]);
    });

    test('a message without createTurn, or refused, has no turn', async () => {
      await using db = await make();
      expect(turnIdOf(await db.store.appendMessage(msg()))).toBeUndefined();
      const refused = await db.store.appendMessage(msg({ userId: 'u2', createTurn: true }));
      expect(refused).toEqual({ kind: 'forbidden_thread' });
      expect(await db.store.openTurns(10)).toEqual([]);
    });

    test('a resend answers the same turn and adds none', async () => {
      await using db = await make();
      const m = msg({ createTurn: true });
      const first = turnIdOf(await db.store.appendMessage(m));
      const again = await db.store.appendMessage(m);
      expect(again).toEqual({ kind: 'ok', seq: 1, duplicate: true, turnId: first! });
      expect(await db.store.openTurns(10)).toHaveLength(1);
    });

    test('the same message sent at once to two instances has exactly one turn', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const m = msg({ createTurn: true });
        const results = await Promise.all([
          db.store.appendMessage(m),
          second.appendMessage(m),
          db.store.appendMessage(m),
          second.appendMessage(m),
        ]);
        const ids = new Set(results.map(turnIdOf));
        expect(ids.size).toBe(1);
        expect([...ids][0]).toEqual(expect.any(String));
        expect(await db.store.openTurns(10)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    test('turns list each thread’s turns in order and skip ended ones', async () => {
      await using db = await make();
      const a = turnIdOf(await db.store.appendMessage(msg({ createTurn: true })));
      const b = turnIdOf(await db.store.appendMessage(msg({ createTurn: true })));
      const c = turnIdOf(await db.store.appendMessage(msg({ createTurn: true, threadId: 't2' })));
      expect((await db.store.openTurns(10)).map((t) => t.turnId)).toEqual([a!, b!, c!]);
      expect(await db.store.updateTurn(a!, { status: 'failed', error: 'rejected' })).toBe(true);
      expect((await db.store.openTurns(10)).map((t) => t.turnId)).toEqual([b!, c!]);
      expect((await db.store.openTurns(1)).map((t) => t.turnId)).toEqual([b!]);
      expect((await db.store.openTurns(10, 't2')).map((t) => t.turnId)).toEqual([c!]);
      expect((await db.store.openTurns(10, 't1')).map((t) => t.turnId)).toEqual([b!]);
      expect(await db.store.openTurns(10, 'none')).toEqual([]);
    });

    test('updateTurn persists the reply so far; an unknown turn is false', async () => {
      await using db = await make();
      const turnId = turnIdOf(await db.store.appendMessage(msg({ createTurn: true })))!;
      const update = { status: 'streaming', attempt: 1, replyId: 'r1', text: 'héllo ' } as const;
      expect(await db.store.updateTurn(turnId, update)).toBe(true);
      expect(await db.store.readTurn(turnId)).toMatchObject({ ...update, error: null });
      expect(await db.store.updateTurn(turnId, { nextAttemptAtWallMs: 5 })).toBe(true);
      expect(await db.store.readTurn(turnId)).toMatchObject({ ...update, nextAttemptAtWallMs: 5 });
      expect(await db.store.updateTurn('no-such-turn', { text: 'x' })).toBe(false);
      expect(await db.store.readTurn('no-such-turn')).toBeNull();
    });

    test('the reply written with completesTurn ends its turn complete with the reply text', async () => {
      await using db = await make();
      const turnId = turnIdOf(await db.store.appendMessage(msg({ createTurn: true })))!;
      await db.store.updateTurn(turnId, {
        status: 'streaming',
        attempt: 1,
        replyId: 'r1',
        text: 'he',
      });
      const reply = msg({ id: crypto.randomUUID(), role: 'assistant', content: 'hello there' });
      const written = await db.store.appendMessage({ ...reply, completesTurn: turnId });
      expect(written).toMatchObject({ kind: 'ok', seq: 2, duplicate: false });
      expect(turnIdOf(written)).toBeUndefined();
      expect(await db.store.readTurn(turnId)).toMatchObject({
        status: 'complete',
        text: 'hello there',
      });
      expect(await db.store.openTurns(10)).toEqual([]);
    });

    test('a thread’s turn lease is granted to its holder, renewed and released', async () => {
      await using db = await make();
      await db.store.appendMessage(msg({ createTurn: true }));
      const until = Date.now() + 15_000;
      expect(await db.store.leaseTurns('t1', 'A', until)).toBe(true);
      expect(await db.store.leaseTurns('t1', 'A', until + 5_000)).toBe(true);
      await db.store.releaseTurns('t1', 'A');
      expect(await db.store.leaseTurns('t1', 'A', until)).toBe(true);
      await db.store.releaseTurns('t1', 'A');
    });

    test('a message whose write fails leaves no turn', async () => {
      await using db = await make();
      await db.breakStorage();
      try {
        const big = 'x'.repeat(db.failingContentChars);
        await expect(
          db.store.appendMessage(msg({ content: big, createTurn: true })),
        ).rejects.toThrow();
      } finally {
        await db.restoreStorage();
      }
      expect(await db.store.openTurns(10)).toEqual([]);
      expect(await db.store.recentMessages('t1', 10)).toEqual([]);
    });
  });
}
