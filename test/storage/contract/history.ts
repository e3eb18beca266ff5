/** Contract: the replay history (eventsSince, gone, trim) and the rehydrate snapshot. */
import { describe, expect, test } from 'bun:test';
import { FakeClock } from '../../support/clock.ts';
import { type MakeStore, msg, write } from './contract.ts';

/** Registers the history and snapshot cases. */
export function historyContract(make: MakeStore): void {
  describe('history', () => {
    test('events since a seq come back in order with their payloads', async () => {
      await using db = await make();
      await db.store.appendEvent('u1', 'event', { n: 1 });
      await db.store.setPreferences('u1', { theme: 'dark' });
      await db.store.appendEvent('u1', 'memory', { status: 'write_only' });
      const result = await db.store.eventsSince('u1', 1, 300);
      expect(result.kind === 'ok' && result.events.map((e) => [e.seq, e.type, e.payload])).toEqual([
        [2, 'preferences', { preferences: { theme: 'dark' } }],
        [3, 'memory', { status: 'write_only' }],
      ]);
    });

    test('sequences are per user', async () => {
      await using db = await make();
      expect(await db.store.appendEvent('u1', 'e', 1)).toBe(1);
      expect(await db.store.appendEvent('u2', 'e', 1)).toBe(1);
      expect(await db.store.appendEvent('u1', 'e', 2)).toBe(2);
    });

    test('since the current seq is an empty replay', async () => {
      await using db = await make();
      await db.store.appendEvent('u1', 'e', null);
      expect(await db.store.eventsSince('u1', 1, 300)).toEqual({ kind: 'ok', events: [] });
      expect(await db.store.eventsSince('new-user', 0, 300)).toEqual({ kind: 'ok', events: [] });
    });

    test.each([
      ['ahead of the current seq', 5],
      ['negative', -1],
      ['not an integer', 1.5],
      ['not a number', Number.NaN],
    ])('a since that is %s is gone', async (_name, since) => {
      await using db = await make();
      await db.store.appendEvent('u1', 'e', null);
      expect(await db.store.eventsSince('u1', since, 300)).toEqual({ kind: 'gone' });
    });

    test('a replay longer than maxEvents is gone', async () => {
      await using db = await make();
      for (let i = 0; i < 5; i++) await db.store.appendEvent('u1', 'e', i);
      expect(await db.store.eventsSince('u1', 0, 4)).toEqual({ kind: 'gone' });
      expect((await db.store.eventsSince('u1', 1, 4)).kind).toBe('ok');
    });

    test('trimming by count keeps the newest events per user; an older since is gone', async () => {
      await using db = await make();
      for (let i = 0; i < 10; i++) await db.store.appendEvent('u1', 'e', i);
      for (let i = 0; i < 3; i++) await db.store.appendEvent('u2', 'e', i);
      expect(await db.store.trimHistory(4, 86_400_000, Date.now())).toBe(6);
      expect(await db.store.eventsSince('u1', 5, 300)).toEqual({ kind: 'gone' });
      const kept = await db.store.eventsSince('u1', 6, 300);
      expect(kept.kind === 'ok' && kept.events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
      expect((await db.store.eventsSince('u2', 0, 300)).kind).toBe('ok');
      // Trimming never rewinds the counter: the next event continues the sequence.
      expect(await db.store.appendEvent('u1', 'e', 'next')).toBe(11);
    });

    test('trimming by age drops events older than the ttl', async () => {
      const clock = new FakeClock();
      await using db = await make({ clock });
      await db.store.appendEvent('u1', 'e', 'old');
      clock.advance(60_000);
      await db.store.appendEvent('u1', 'e', 'new');
      expect(await db.store.trimHistory(1000, 30_000, clock.wallMs())).toBe(1);
      expect(await db.store.eventsSince('u1', 0, 300)).toEqual({ kind: 'gone' });
      const rest = await db.store.eventsSince('u1', 1, 300);
      expect(rest.kind === 'ok' && rest.events.map((e) => e.payload)).toEqual(['new']);
      expect(rest.kind === 'ok' && rest.events[0]!.createdAtWallMs).toBe(clock.wallMs());
    });

    test('a message event, the append answer and a read show the row as written', async () => {
      const clock = new FakeClock();
      await using db = await make({ clock });
      const id = crypto.randomUUID();
      const metadata = { tags: ['a'], n: 1 };
      const result = await db.store.appendMessage(msg({ id, content: 'hi', metadata }));
      const [row] = await db.store.recentMessages('t1', 1);
      expect(row).toEqual({
        id,
        threadId: 't1',
        userId: 'u1',
        role: 'user',
        content: 'hi',
        metadata,
        createdAtWallMs: clock.wallMs(),
        seq: 1,
      });
      expect(result).toEqual({ kind: 'ok', seq: 1, duplicate: false, message: row! });
      const snapshot = await db.store.readSnapshot('u1', ['t1'], 10);
      expect(snapshot.threads.t1?.messages).toEqual([row!]);
      const message = {
        id,
        thread_id: 't1',
        role: 'user',
        content: 'hi',
        created_at: new Date(clock.wallMs()).toISOString(),
        metadata,
      };
      expect(await db.store.eventsSince('u1', 0, 300)).toEqual({
        kind: 'ok',
        events: [
          { seq: 1, type: 'message', payload: { message }, createdAtWallMs: clock.wallMs() },
        ],
      });
    });

    test('a message without metadata has none in its event', async () => {
      await using db = await make();
      await db.store.appendMessage(msg({ content: 'plain' }));
      const replay = await db.store.eventsSince('u1', 0, 300);
      const payload = replay.kind === 'ok' ? replay.events[0]?.payload : undefined;
      expect(Object.keys((payload as { message: object }).message)).toEqual([
        'id',
        'thread_id',
        'role',
        'content',
        'created_at',
      ]);
    });

    test('a client resumes on another instance from the seq it saw', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        await db.store.appendEvent('u1', 'e', 'a');
        await second.appendEvent('u1', 'e', 'b');
        await db.store.setPreferences('u1', { x: 1 });
        const replay = await second.eventsSince('u1', 1, 300);
        expect(replay.kind === 'ok' && replay.events.map((e) => [e.seq, e.type])).toEqual([
          [2, 'e'],
          [3, 'preferences'],
        ]);
      } finally {
        await second.close();
      }
    });
  });

  describe('readSnapshot', () => {
    test('holds seq, preferences and each owned thread with its recent messages', async () => {
      await using db = await make();
      await db.store.setPreferences('u1', { theme: 'dark' });
      for (let i = 0; i < 4; i++) await write(db.store, 't1', `m${i}`);
      expect(await db.store.setPersonalization('u1', 't1', { tone: 'brief' })).toEqual({
        kind: 'ok',
        seq: 6,
      });
      const snap = await db.store.readSnapshot('u1', ['t1', 't1'], 2);
      expect(snap.seq).toBe(6);
      expect(snap.preferences).toEqual({ theme: 'dark' });
      expect(Object.keys(snap.threads)).toEqual(['t1']);
      expect(snap.threads.t1!.personalization).toEqual({ tone: 'brief' });
      expect(snap.threads.t1!.messages.map((m) => m.content)).toEqual(['m2', 'm3']);
    });

    test('beforeSeq pages older messages: the newest below it, oldest first', async () => {
      await using db = await make();
      for (let i = 0; i < 5; i++) await write(db.store, 't1', `m${i}`);
      const page = await db.store.readSnapshot('u1', ['t1'], 2, { beforeSeq: 4 });
      expect(page.seq).toBe(5);
      expect(page.threads.t1!.messages.map((m) => [m.content, m.seq])).toEqual([
        ['m1', 2],
        ['m2', 3],
      ]);
      const last = await db.store.readSnapshot('u1', ['t1'], 20, { beforeSeq: 2 });
      expect(last.threads.t1!.messages.map((m) => m.content)).toEqual(['m0']);
      const none = await db.store.readSnapshot('u1', ['t1'], 20, { beforeSeq: 1 });
      expect(none.threads.t1!.messages).toEqual([]);
    });

    test('leaves out threads of other users and threads nobody owns', async () => {
      await using db = await make();
      await write(db.store, 'theirs', 'x', 'u2');
      await write(db.store, 'mine', 'y', 'u1');
      const snap = await db.store.readSnapshot('u1', ['theirs', 'mine', 'unknown'], 20);
      expect(Object.keys(snap.threads)).toEqual(['mine']);
    });

    test('a new user gets seq 0, null preferences and no threads', async () => {
      await using db = await make();
      expect(await db.store.readSnapshot('nobody', [], 20)).toEqual({
        seq: 0,
        preferences: null,
        threads: {},
      });
    });

    test('personalization of another user’s thread is forbidden', async () => {
      await using db = await make();
      await write(db.store, 't1', 'x');
      expect(await db.store.setPersonalization('u2', 't1', {})).toEqual({
        kind: 'forbidden_thread',
      });
      const snap = await db.store.readSnapshot('u1', ['t1'], 20);
      expect(snap.threads.t1!.personalization).toBeNull();
    });

    test('the snapshot seq covers exactly the writes committed before it', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        await write(db.store, 't1', 'a');
        const writes = Array.from({ length: 20 }, (_, i) => write(second, 't1', `w${i}`));
        const snaps = await Promise.all(
          Array.from({ length: 10 }, () => db.store.readSnapshot('u1', ['t1'], 100)),
        );
        await Promise.all(writes);
        for (const snap of snaps) {
          expect(snap.seq).toBe(snap.threads.t1!.messages.at(-1)!.seq);
          expect(snap.threads.t1!.messages).toHaveLength(snap.seq);
        }
      } finally {
        await second.close();
      }
    });
  });
}
