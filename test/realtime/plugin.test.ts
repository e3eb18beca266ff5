/**
 * The realtime plugin end to end: rehydrate first and from SQLite alone, fan-out between a user's
 * sockets, message commit with ack, the subprotocol answer, Origin and upgrade limits.
 */
import { describe, expect, test } from 'bun:test';
import { startRealtime } from '../support/realtime-harness.ts';
import { connect, openClient } from '../support/ws.ts';

const uuid = () => crypto.randomUUID();

describe('rehydrate', () => {
  test('is the first frame and holds what was stored', async () => {
    await using h = await startRealtime();
    await h.store.setPreferences('u1', { theme: 'dark' });
    await h.store.setPersonalization('u1', 't1', { persona: 'tutor' });
    const id = uuid();
    await h.memory.submit({
      userId: 'u1',
      threadId: 't1',
      id,
      role: 'user',
      content: 'Hello',
    });
    const { client, first } = await connect(await h.urlFor('u1', { thread: 't1' }));
    expect(first.type).toBe('rehydrate');
    expect(first.seq).toBe(3);
    expect(first.recovered).toBe(false);
    expect(first.epoch).toBe(await h.store.epoch());
    expect(first.preferences).toEqual({ theme: 'dark' });
    expect(first.memory).toEqual({ status: 'ok' });
    const threads = first.threads as Record<
      string,
      { personalization: unknown; messages: Array<Record<string, unknown>> }
    >;
    expect(threads.t1?.personalization).toEqual({ persona: 'tutor' });
    expect(threads.t1?.messages.map((m) => [m.id, m.content, m.seq])).toEqual([[id, 'Hello', 3]]);
    const session = first.session as Record<string, string>;
    expect(session.user_id).toBe('u1');
    expect(session.connection_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(session.token_expires_at ?? '')).toBeGreaterThan(Date.now());
    await client.close();
  });

  test('arrives while every memory search hangs', async () => {
    await using h = await startRealtime({ searchMode: 'hanging' });
    await h.store.setPersonalization('u1', 't1', { a: 1 });
    const { client: first } = await connect(await h.urlFor('u1', { thread: 't1' }));
    first.send({ type: 'memory.query', id: 'q1', thread_id: 't1', query: 'cats' });
    const { client: second, first: frame } = await connect(await h.urlFor('u1', { thread: 't1' }));
    expect(frame.type).toBe('rehydrate');
    expect(h.memory.searches).toHaveLength(1);
    // The hung search does not hold up the frames behind it on its own socket either (M2).
    expect(await first.request({ type: 'ping', id: 'p1' })).toEqual({ type: 'pong', id: 'p1' });
    await first.close();
    await second.close();
  });

  test('leaves out a thread of another user (Z3)', async () => {
    await using h = await startRealtime();
    await h.store.setPersonalization('b', 'tb', { secret: true });
    const { client, first } = await connect(await h.urlFor('a', { thread: 'tb' }));
    expect(first.threads).toEqual({});
    await client.close();
  });
});

describe('fan-out', () => {
  test('preferences.set on one socket reaches the other; another user sees nothing', async () => {
    await using h = await startRealtime();
    const { client: one } = await connect(await h.urlFor('u1'));
    const { client: two } = await connect(await h.urlFor('u1'));
    const { client: other } = await connect(await h.urlFor('u2'));
    const ack = await one.request({ type: 'preferences.set', id: 'p', preferences: { x: 1 } });
    expect(ack).toEqual({ type: 'ack', id: 'p', seq: 1 });
    expect(await two.next()).toEqual({ type: 'preferences', seq: 1, preferences: { x: 1 } });
    expect(await other.request({ type: 'ping' })).toEqual({ type: 'pong' });
    expect(other.unread).toEqual([]);
    expect(one.unread).toEqual([]);
    for (const c of [one, two, other]) await c.close();
  });

  test('a message on one socket is acked there and pushed to the other', async () => {
    await using h = await startRealtime();
    const { client: one } = await connect(await h.urlFor('u1'));
    const { client: two } = await connect(await h.urlFor('u1'));
    const { client: other } = await connect(await h.urlFor('u2'));
    const id = uuid();
    const frame = { type: 'message', id, thread_id: 't1', role: 'user', content: 'hi there' };
    expect(await one.request(frame)).toEqual({ type: 'ack', id, seq: 1 });
    const push = await two.next<{ type: string; seq: number; message: Record<string, unknown> }>();
    expect(push.type).toBe('message');
    expect(push.seq).toBe(1);
    expect(push.message).toMatchObject({ id, thread_id: 't1', role: 'user', content: 'hi there' });
    expect(push.message.seq).toBe(1);
    expect(await other.request({ type: 'ping' })).toEqual({ type: 'pong' });
    expect(other.unread).toEqual([]);
    const rows = h.db.handle.sqlite.query('SELECT id, content FROM messages').all();
    expect(rows).toEqual([{ id, content: 'hi there' }]);
    for (const c of [one, two, other]) await c.close();
  });
});

describe('upgrade', () => {
  test('answers the subprotocol lifeline.v1 and never the bearer entry', async () => {
    await using h = await startRealtime();
    const token = await h.token('u1');
    const { client, first } = await connect(h.wsUrl, {
      protocols: ['lifeline.v1', `bearer.${token}`],
    });
    expect(first.type).toBe('rehydrate');
    expect(client.protocol).toBe('lifeline.v1');
    await client.close();
  });

  test('refuses a disallowed Origin with 403 before the upgrade', async () => {
    await using h = await startRealtime();
    const response = await fetch(`${h.httpUrl}/ws?token=${await h.token('u1')}`, {
      headers: {
        origin: 'https://evil.test',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: { code: 'forbidden_origin', message: 'this Origin may not open /ws' },
    });
    const client = openClient(await h.urlFor('u1'), { headers: { origin: 'https://evil.test' } });
    expect(await client.opened).toBe(false);
  });
});

describe('metrics and settings', () => {
  test('count connections, closes by code, refusals by reason, rehydrates and frames', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('u1'));
    await client.request({ type: 'ping' });
    const refused = openClient(`${h.wsUrl}?token=nope`);
    await refused.closed;
    const gauge = async () => (await h.metrics.connections.get()).values[0]?.value;
    expect(await gauge()).toBe(1);
    await client.close();
    await h.realtime.drain({ windowMs: 0 });
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('lifeline_ws_closes_total{code="4001"} 1');
    expect(text).toContain('lifeline_messages_rejected_total{reason="token_invalid"} 1');
    expect(text).toContain('lifeline_rehydrate_duration_seconds_count 1');
    expect(text).toContain('lifeline_messages_in_total{type="ping"} 1');
    expect(text).toContain('lifeline_messages_out_total{type="pong"} 1');
    expect(await gauge()).toBe(0);
  });

  test('Bun gets the payload limit, idle timeout with pings and a backpressure limit above the hub’s', async () => {
    await using h = await startRealtime();
    expect(h.realtime.websocketOptions).toEqual({
      maxPayloadLength: h.config.server.max_payload_bytes,
      idleTimeout: h.config.server.idle_timeout_s,
      sendPings: true,
      backpressureLimit: h.config.limits.send_buffer_bytes * 2,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
    });
  });
});
