/** Contract: storage failures reject as `unavailable`, flip health, and recovery is automatic. */
import { describe, expect, test } from 'bun:test';
import { LifelineError } from '../../../src/lib/errors.ts';
import { committed, type MakeStore, msg, rejection } from './contract.ts';

/** Registers the failure cases. */
export function failureContract(make: MakeStore): void {
  describe('storage failure', () => {
    test('a failing storage rejects writes as unavailable; the next write after repair commits', async () => {
      await using db = await make();
      expect(await db.store.appendMessage(msg({ content: 'before' }))).toMatchObject({ seq: 1 });
      await db.breakStorage();
      let restored = false;
      try {
        const big = 'x'.repeat(db.failingContentChars);
        const results = await Promise.allSettled([
          db.store.appendMessage(msg({ content: big })),
          db.store.appendMessage(msg({ content: big })),
        ]);
        for (const r of results) {
          expect(r.status).toBe('rejected');
          const error = (r as PromiseRejectedResult).reason as LifelineError;
          expect(error).toBeInstanceOf(LifelineError);
          expect(error.code).toBe('unavailable');
        }
        expect(db.store.storageHealth()).toEqual({ ok: false, reason: expect.any(String) });
        await db.restoreStorage();
        restored = true;
        expect(await db.store.appendMessage(msg({ content: 'after' }))).toEqual(
          committed(2, { content: 'after' }),
        );
        expect(db.store.storageHealth()).toEqual({ ok: true });
      } finally {
        if (!restored) await db.restoreStorage();
      }
    });

    test('a bug in one write is not reported as a storage failure', async () => {
      await using db = await make();
      const error = await rejection(db.store.appendEvent('u1', 'e', 10n));
      expect(error).toBeInstanceOf(TypeError);
      expect(db.store.storageHealth()).toEqual({ ok: true });
    });

    test('a closed store refuses calls as unavailable after finishing the ones in flight', async () => {
      const db = await make();
      const inFlight = db.store.appendEvent('u1', 'e', 1);
      await db.store.close();
      expect(await inFlight).toBe(1);
      const late = (await rejection(db.store.appendEvent('u1', 'e', 2))) as LifelineError;
      expect(late.code).toBe('unavailable');
      await db[Symbol.asyncDispose]();
    });
  });
}
