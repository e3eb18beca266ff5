/**
 * Each client frame's handler over a real socket (docs/design.md#websocket): thread.join,
 * personalization.set, memory.query (results, degraded, ownership), duplicate and foreign message
 * ids, memory status pushes, drain, and a storage failure that acks nothing
 * (docs/design.md#storage-failure).
 */
import { describe, expect, test } from 'bun:test';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect } from '../support/ws.ts';

const uuid = () => crypto.randomUUID();
const rows = (h: Harness, sql: string) => h.db.handle.sqlite.query(sql).all();
const message = (threadId: string, content: string, id = uuid()) => ({
  type: 'message',
  id,
  thread_id: threadId,
  role: 'user',
  content,
});

describe('thread.join', () => {
  test('answers the thread’s state; an unknown thread is empty; another user’s is forbidden (Z1)', async () => {
    await using h = await startRealtime();
    const { client: a } = await connect(await h.urlFor('a'));
    const id = uuid();
    await a.request(message('ta', 'hello', id));
    await a.request({ type: 'personalization.set', thread_id: 'ta', state: { p: 1 } });
    const state = await a.request<Record<string, unknown>>({
      type: 'thread.join',
      id: 'j1',
      thread_id: 'ta',
    });
    expect(state).toMatchObject({
      type: 'thread.state',
      id: 'j1',
      thread_id: 'ta',
      personalization: { p: 1 },
    });
    expect((state.messages as Array<{ id: string }>).map((m) => m.id)).toEqual([id]);
    expect(await a.request({ type: 'thread.join', thread_id: 'new' })).toEqual({
      type: 'thread.state',
      thread_id: 'new',
      personalization: {},
      messages: [],
    });
    const { client: b } = await connect(await h.urlFor('b'));
    const refused = await b.request({ type: 'thread.join', id: 'j2', thread_id: 'ta' });
    expect(refused).toEqual({
      type: 'error',
      code: 'forbidden_thread',
      message: 'the thread belongs to another user',
      id: 'j2',
    });
    expect(JSON.stringify(b.frames)).not.toContain('hello');
    await a.close();
    await b.close();
  });
});

describe('personalization.set', () => {
  test('acks, pushes to the other socket, and refuses another user’s thread with nothing stored (Z2)', async () => {
    await using h = await startRealtime();
    const { client: one } = await connect(await h.urlFor('a'));
    const { client: two } = await connect(await h.urlFor('a'));
    const ack = await one.request({
      type: 'personalization.set',
      id: 's',
      thread_id: 't',
      state: { x: 1 },
    });
    expect(ack).toEqual({ type: 'ack', id: 's', seq: 1 });
    expect(await two.next()).toEqual({
      type: 'personalization',
      seq: 1,
      thread_id: 't',
      state: { x: 1 },
    });
    const { client: b } = await connect(await h.urlFor('b'));
    for (const frame of [
      { type: 'personalization.set', thread_id: 't', state: { x: 2 } },
      message('t', 'intrusion'),
      { type: 'memory.query', thread_id: 't', query: 'x' },
    ]) {
      expect(await b.request(frame)).toMatchObject({ type: 'error', code: 'forbidden_thread' });
    }
    expect(rows(h, 'SELECT json FROM thread_personalization')).toEqual([{ json: '{"x":1}' }]);
    expect(rows(h, 'SELECT count(*) AS n FROM messages')).toEqual([{ n: 0 }]);
    expect(rows(h, "SELECT count(*) AS n FROM history WHERE user_id = 'b'")).toEqual([{ n: 0 }]);
    expect(h.memory.searches).toEqual([]);
    for (const c of [one, two, b]) await c.close();
  });
});

describe('memory.query', () => {
  test('answers hits from memory, and degraded [] while the memory service is out', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('a'));
    const id = uuid();
    await client.request(message('t', 'I like cats', id));
    const found = await client.request<Record<string, unknown>>({
      type: 'memory.query',
      id: 'q',
      thread_id: 't',
      query: 'cats',
      limit: 3,
    });
    expect(found).toMatchObject({
      type: 'memory.result',
      id: 'q',
      thread_id: 't',
      degraded: false,
    });
    expect(found.results).toEqual([
      expect.objectContaining({ content: 'I like cats', message_id: id }),
    ]);
    expect(h.memory.searches).toEqual([{ userId: 'a', threadId: 't', query: 'cats', limit: 3 }]);
    h.memory.setStatus('write_only');
    await client.nextOfType('memory');
    expect(await client.request({ type: 'memory.query', thread_id: 't', query: 'cats' })).toEqual({
      type: 'memory.result',
      thread_id: 't',
      results: [],
      degraded: true,
    });
    await client.close();
  });
});

describe('message ids', () => {
  test('W10: a resent id gets the same ack and stays one row', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('a'));
    const frame = message('t', 'once');
    const first = await client.request(frame);
    expect(await client.request(frame)).toEqual(first);
    expect(rows(h, 'SELECT count(*) AS n FROM messages')).toEqual([{ n: 1 }]);
    await client.close();
  });

  test('W11: another user reusing a message id is refused and the row is unchanged', async () => {
    await using h = await startRealtime();
    const { client: a } = await connect(await h.urlFor('a'));
    const id = uuid();
    await a.request(message('ta', 'original', id));
    const { client: b } = await connect(await h.urlFor('b'));
    const same = await b.request(message('ta', 'overwrite', id));
    expect(same).toMatchObject({ type: 'error', code: 'forbidden_thread', id });
    const own = await b.request(message('tb', 'overwrite', id));
    expect(own).toMatchObject({ type: 'error', code: 'bad_request', id });
    expect(rows(h, 'SELECT user_id, thread_id, content FROM messages')).toEqual([
      { user_id: 'a', thread_id: 'ta', content: 'original' },
    ]);
    expect(a.unread).toEqual([]);
    await a.close();
    await b.close();
  });
});

describe('memory status pushes', () => {
  test('a status change is pushed with a seq, kept in the history, and shown in the next rehydrate', async () => {
    await using h = await startRealtime();
    const { client: a } = await connect(await h.urlFor('a'));
    const { client: b } = await connect(await h.urlFor('b'));
    h.memory.setStatus('write_only');
    expect(await a.next()).toEqual({ type: 'memory', seq: 1, status: 'write_only' });
    expect(await b.next()).toEqual({ type: 'memory', seq: 1, status: 'write_only' });
    h.memory.setStatus('write_only');
    h.memory.setStatus('ok');
    expect(await a.next()).toEqual({ type: 'memory', seq: 2, status: 'ok' });
    h.memory.setStatus('misconfigured');
    await a.nextOfType('memory');
    const { client: c, first } = await connect(await h.urlFor('c'));
    expect(first.memory).toEqual({ status: 'misconfigured' });
    for (const client of [a, b, c]) await client.close();
  });
});

describe('drain', () => {
  test('sends reconnect with after_ms inside the window, closes 1012, then refuses upgrades with 503', async () => {
    await using h = await startRealtime();
    const clients = await Promise.all(
      ['a', 'a', 'b'].map(async (u) => (await connect(await h.urlFor(u))).client),
    );
    await h.realtime.drain({ windowMs: 5_000 });
    for (const client of clients) {
      const notice = await client.next<{ type: string; after_ms: number }>();
      expect(notice.type).toBe('reconnect');
      expect(notice.after_ms).toBeGreaterThanOrEqual(0);
      expect(notice.after_ms).toBeLessThan(5_000);
      expect(await client.closed).toEqual({ code: 1012, reason: 'service restart' });
    }
    expect(h.realtime.connectionCount()).toBe(0);
    const response = await fetch(`${h.httpUrl}/ws?token=${await h.token('a')}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    expect(response.status).toBe(503);
  });
});

describe('storage failure (docs/design.md#storage-failure)', () => {
  test('a write that cannot commit answers unavailable and acks nothing; rehydrate still works', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('a'));
    await client.request(message('t', 'before'));
    const { page_count } = h.db.handle.sqlite.query('PRAGMA page_count').get() as {
      page_count: number;
    };
    h.db.handle.sqlite.run(`PRAGMA max_page_count = ${page_count}`);
    const big = 'x'.repeat(30_000);
    const failed = await client.request(message('t', big));
    expect(failed).toMatchObject({ type: 'error', code: 'unavailable' });
    const prefs = await client.request({
      type: 'preferences.set',
      id: 'p',
      preferences: { big: 'y'.repeat(15_000) },
    });
    expect(prefs).toMatchObject({ type: 'error', code: 'unavailable', id: 'p' });
    expect(rows(h, 'SELECT count(*) AS n FROM messages')).toEqual([{ n: 1 }]);
    const { client: again, first } = await connect(await h.urlFor('a', { thread: 't' }));
    expect(first).toMatchObject({ type: 'rehydrate', seq: 1 });
    await client.close();
    await again.close();
  });
});
