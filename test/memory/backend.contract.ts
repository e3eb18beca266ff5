/**
 * The shared contract every memory backend passes (drizzle's per-driver suite pattern): run by
 * `local.test.ts` and `zep.contract.test.ts`. `seed` writes messages the way production does for
 * that backend (the local backend reads the message log, so its seed commits to the store).
 */
import { describe, expect, test } from 'bun:test';
import type { MemoryBackend, MemoryMessage } from '../../src/memory/client.ts';

/** One backend under test, fresh per test. */
export interface ContractSubject extends AsyncDisposable {
  backend: MemoryBackend;
  seed(threadId: string, userId: string, messages: MemoryMessage[]): Promise<void>;
}

const msg = (content: string, role = 'user'): MemoryMessage => ({
  uuid: crypto.randomUUID(),
  role,
  content,
});

/**
 * Registers the contract tests for one backend. `searchScope: 'user'` is for Zep v3, whose graph
 * search covers everything known about the user, every thread of theirs included.
 */
export function backendContract(
  name: string,
  make: () => Promise<ContractSubject>,
  { searchScope = 'thread' }: { searchScope?: 'thread' | 'user' } = {},
): void {
  describe(`memory backend contract: ${name}`, () => {
    test('recent messages come back oldest first, limited to the last n', async () => {
      await using s = await make();
      const written = [msg('one'), msg('two', 'assistant'), msg('three')];
      await s.seed('t1', 'u1', written);
      const recent = await s.backend.recentMessages('t1', 2);
      expect(recent).toMatchObject({
        kind: 'answer',
        value: [{ content: 'two', role: 'assistant' }, { content: 'three' }],
      });
    });

    test(`search finds what was written, in that ${searchScope} only`, async () => {
      await using s = await make();
      await s.seed('t1', 'u1', [msg('the quick brown fox'), msg('lazy afternoon')]);
      await s.seed('t2', 'u1', [msg('another fox elsewhere')]);
      await s.seed('t3', 'u2', [msg('a fox of another user')]);
      const hits = await s.backend.search('t1', 'u1', 'fox', 5);
      expect(hits.kind).toBe('answer');
      const expected =
        searchScope === 'thread'
          ? ['the quick brown fox']
          : ['the quick brown fox', 'another fox elsewhere'];
      if (hits.kind === 'answer')
        expect(hits.value.map((h) => h.content).sort()).toEqual(expected.sort());
    });

    test('a blank query and an unknown thread answer []', async () => {
      await using s = await make();
      expect(await s.backend.search('t1', 'u1', '  ', 5)).toEqual({ kind: 'answer', value: [] });
      expect(await s.backend.recentMessages('nobody', 5)).toEqual({ kind: 'answer', value: [] });
      expect(await s.backend.search('nobody', 'u1', 'fox', 5)).toEqual({
        kind: 'answer',
        value: [],
      });
    });

    test('deleting a thread forgets it, and deleting twice is fine', async () => {
      await using s = await make();
      await s.seed('t1', 'u1', [msg('to be forgotten')]);
      expect(await s.backend.deleteThread('t1')).toEqual({ kind: 'answer', value: undefined });
      expect(await s.backend.recentMessages('t1', 5)).toEqual({ kind: 'answer', value: [] });
      expect(await s.backend.deleteThread('t1')).toEqual({ kind: 'answer', value: undefined });
    });

    test('an empty list or a blank message is rejected, never written', async () => {
      await using s = await make();
      expect((await s.backend.addMessages('t1', 'u1', [])).kind).toBe('rejected');
      expect((await s.backend.addMessages('t1', 'u1', [msg('\u200b ')])).kind).toBe('rejected');
      expect(await s.backend.recentMessages('t1', 5)).toEqual({ kind: 'answer', value: [] });
    });

    test('health answers', async () => {
      await using s = await make();
      expect(await s.backend.health()).toEqual({ kind: 'answer', value: undefined });
    });
  });
}
