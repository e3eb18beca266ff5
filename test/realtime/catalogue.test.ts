/**
 * The CI-fitting rows of docs/faults.md#input-faults over real sockets: W1–W15 (bad frames, floods,
 * slow consumers, caps), Z3–Z5 (authorization) and O1–O4 (Origin). In every row the server keeps
 * serving a bystander, and nothing is persisted (checked in SQLite) unless an ack said so.
 */
import { describe, expect, test } from 'bun:test';
import { connect as netConnect, type Socket } from 'node:net';
import { apiRoutes } from '../../src/http/api.ts';
import { createLogger } from '../../src/lib/log.ts';
import { FakeClock } from '../support/clock.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect, openClient, type WsClient } from '../support/ws.ts';

const uuid = () => crypto.randomUUID();
const count = (h: Harness, table: string) =>
  (h.db.handle.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const stored = (h: Harness) =>
  ['messages', 'history', 'user_preferences', 'thread_personalization', 'threads'].map((t) =>
    count(h, t),
  );

async function bystanderAlive(bystander: WsClient) {
  expect(await bystander.request({ type: 'ping', id: 'alive' })).toEqual({
    type: 'pong',
    id: 'alive',
  });
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { d: value };
  return value;
}

/** A raw HTTP upgrade over TCP; resolves with the status line's code and the open socket. */
function rawUpgrade(port: number, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; socket: Socket }>((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let head = '';
    socket.on('error', reject);
    socket.on('data', function onData(chunk) {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ status: Number(head.split(' ')[1]), socket });
    });
    const lines = [
      `GET ${path} HTTP/1.1`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

describe('W1–W9: bad frames answer an error, keep the socket open, store nothing', () => {
  test('each row', async () => {
    await using h = await startRealtime();
    const { client: bystander } = await connect(await h.urlFor('bystander'));
    const { client } = await connect(await h.urlFor('u1'));
    const msg = (extra: Record<string, unknown>) => ({
      type: 'message',
      id: uuid(),
      thread_id: 't1',
      role: 'user',
      content: 'x',
      ...extra,
    });
    const rows: Array<[string, unknown, string, RegExp]> = [
      ['W1 {', '{', 'bad_request', /invalid JSON at position 1/],
      ['W1 ]', ']', 'bad_request', /invalid JSON at position 0/],
      ['W1 bare ping', 'ping', 'bad_request', /invalid JSON at position 0/],
      ['W2 array', '[1,2]', 'bad_request', /expected an object/],
      ['W2 string', '"hello"', 'bad_request', /expected an object/],
      [
        'W2 JSON text in a string',
        JSON.stringify('{"type":"ping"}'),
        'bad_request',
        /expected an object/,
      ],
      ['W2 number', '123', 'bad_request', /expected an object/],
      ['W2 null', 'null', 'bad_request', /expected an object/],
      ['W3 binary', new Uint8Array([123, 125]), 'bad_request', /binary frames are not supported/],
      [
        'W5 1,000 deep metadata',
        msg({ metadata: nested(1_000) }),
        'bad_request',
        /nested deeper than 32/,
      ],
      [
        'W5 32,000 deep prefs',
        `{"type":"preferences.set","preferences":{"a":${'['.repeat(32_000)}${']'.repeat(32_000)}}}`,
        'bad_request',
        /nested deeper than 32/,
      ],
      [
        'W5 deep state',
        { type: 'personalization.set', thread_id: 't', state: nested(40) },
        'bad_request',
        /nested deeper/,
      ],
      ['W6 lone surrogate', msg({ content: 'a\ud800b' }), 'bad_request', /lone surrogate/],
      ['W6 NUL', msg({ content: 'a\u0000b' }), 'bad_request', /U\+0000/],
      [
        'W6 invisible only',
        msg({ content: '\u200b\u2060\ufeff\u00a0\u3000' }),
        'empty_message',
        /empty/,
      ],
      ['W6 too large', msg({ content: `${'x'.repeat(32_765)}😀` }), 'too_large', /32769 bytes/],
      ['W6 NFD thread id', msg({ thread_id: 'cafe\u0301' }), 'bad_request', /thread_id/],
      ['W7 __proto__ thread', msg({ thread_id: '__proto__' }), 'bad_request', /reserved/],
      ['W8 unknown type', { type: 'teleport', id: 'u8' }, 'unknown_type', /teleport/],
      [
        'W9 missing content',
        { type: 'message', id: uuid(), thread_id: 't', role: 'user' },
        'bad_request',
        /\/content: is required/,
      ],
      ['W9 wrong type', msg({ content: 5 }), 'bad_request', /\/content: expected string/],
      ['W9 numeric id', { type: 'ping', id: 5 }, 'bad_request', /\/id/],
      ['W9 no type', { id: 'x' }, 'bad_request', /\/type/],
    ];
    for (const [name, frame, code, message] of rows) {
      const answer = await client.request<{ type: string; code: string; message: string }>(frame);
      expect([name, answer.type, answer.code]).toEqual([name, 'error', code]);
      expect(answer.message).toMatch(message);
    }
    expect(await client.request({ type: 'teleport', id: 'u8' })).toMatchObject({ id: 'u8' });
    expect(stored(h)).toEqual([0, 0, 0, 0, 0]);
    await bystanderAlive(bystander);
    await client.close();
    await bystander.close();
  });

  test('W6: accepted content is stored and sent byte for byte; the 4-byte emoji at the limit fits', async () => {
    await using h = await startRealtime();
    const { client: one } = await connect(await h.urlFor('u1'));
    const { client: two } = await connect(await h.urlFor('u1'));
    for (const content of ['\u202eevil\u202c', `${'x'.repeat(32_764)}😀`, 'cafe\u0301 café']) {
      const id = uuid();
      expect(
        (await one.request({ type: 'message', id, thread_id: 't', role: 'user', content })).type,
      ).toBe('ack');
      const push = await two.next<{ message: { content: string } }>();
      expect(push.message.content).toBe(content);
      const row = h.db.handle.sqlite.query('SELECT content FROM messages WHERE id = ?').get(id);
      expect(row).toEqual({ content });
    }
    await one.close();
    await two.close();
  });

  test('W7: __proto__ keys are harmless data and change nobody else', async () => {
    await using h = await startRealtime();
    const { client: b, first: before } = await connect(await h.urlFor('b'));
    const { client: a } = await connect(await h.urlFor('a'));
    expect(await a.request('{"__proto__":{"isAdmin":true},"type":"ping","id":"p"}')).toEqual({
      type: 'pong',
      id: 'p',
    });
    const prefs =
      '{"type":"preferences.set","preferences":{"__proto__":{"isAdmin":true},"x":1},"extra":{"__proto__":{"y":1}}}';
    expect((await a.request(prefs)).type).toBe('ack');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    const row = h.db.handle.sqlite.query('SELECT json FROM user_preferences').get() as {
      json: string;
    };
    expect(row.json).toBe('{"__proto__":{"isAdmin":true},"x":1}');
    const { client: b2, first: after } = await connect(await h.urlFor('b'));
    expect(after.preferences).toEqual(before.preferences);
    for (const c of [a, b, b2]) await c.close();
  });

  test('W9: extra fields are dropped, never stored', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('u1'));
    const id = uuid();
    const frame = {
      type: 'message',
      id,
      thread_id: 't',
      role: 'user',
      content: 'x',
      user_id: 'admin',
      seq: 99,
    };
    expect(await client.request(frame)).toEqual({ type: 'ack', id, seq: 1 });
    expect(h.db.handle.sqlite.query('SELECT user_id, seq FROM messages').all()).toEqual([
      { user_id: 'u1', seq: 1 },
    ]);
    await client.close();
  });

  test('W4: a frame over max_payload_bytes is closed 1009 by Bun; others go on', async () => {
    await using h = await startRealtime({
      configure: (c) => {
        c.server.max_payload_bytes = 4096;
      },
    });
    const { client: bystander } = await connect(await h.urlFor('bystander'));
    const { client } = await connect(await h.urlFor('u1'));
    client.send({ type: 'ping', pad: 'x'.repeat(5_000) });
    expect((await client.closed).code).toBe(1009);
    await bystanderAlive(bystander);
    await bystander.close();
  });
});

describe('W12–W15: floods, slow consumers and caps', () => {
  test('W12: a flood gets at most the burst acked, then rate_limited, then 4008; rows = acks', async () => {
    const clock = new FakeClock();
    await using h = await startRealtime({ clock });
    const { client: bystander } = await connect(await h.urlFor('bystander'));
    const { client } = await connect(await h.urlFor('u1'));
    for (let i = 0; i < 10_000; i += 1) {
      client.send({ type: 'message', id: uuid(), thread_id: 't', role: 'user', content: `m${i}` });
    }
    expect(await client.closed).toEqual({ code: 4008, reason: 'rate limit' });
    const frames = client.frames.slice(1) as Array<{ type: string; code?: string }>;
    const acks = frames.filter((f) => f.type === 'ack').length;
    expect(acks).toBe(40);
    expect(frames.filter((f) => f.type !== 'ack').every((f) => f.code === 'rate_limited')).toBe(
      true,
    );
    expect(count(h, 'messages')).toBe(acks);
    await bystanderAlive(bystander);
    await bystander.close();
  });

  test('W13: a consumer that never reads is closed 4008 once its send buffer is over the limit', async () => {
    const warnings: Array<{ msg: string; user_id?: string }> = [];
    const logger = createLogger({
      level: 'warn',
      format: 'json',
      sink: (line) => warnings.push(JSON.parse(line)),
    });
    const slowCloses = () => warnings.filter((line) => line.msg === 'closing a slow consumer');
    await using h = await startRealtime({
      logger,
      configure: (c) => {
        c.limits.send_buffer_bytes = 65_536;
      },
    });
    const { client: bystander } = await connect(await h.urlFor('bystander'));
    const { status, socket } = await rawUpgrade(h.port, `/ws?token=${await h.token('slow')}`, {
      Host: `127.0.0.1:${h.port}`,
    });
    expect(status).toBe(101);
    socket.pause();
    const data = 'z'.repeat(15_000);
    for (let i = 0; i < 10_000 && slowCloses().length === 0; i += 1) {
      await h.realtime.publish('slow', 'event', { event: 'bulk', data });
    }
    expect(slowCloses()).toEqual([expect.objectContaining({ user_id: 'slow' })]);
    expect(h.realtime.hub.socketsOf('slow')).toEqual([]);
    socket.destroy();
    await bystanderAlive(bystander);
    await bystander.close();
  });

  test('W14: upgrades from one address over the limit get 429 before the upgrade', async () => {
    const clock = new FakeClock();
    await using h = await startRealtime({
      clock,
      configure: (c) => {
        c.limits.upgrades_per_ip_per_s = 3;
      },
    });
    const clients = [];
    for (let i = 0; i < 3; i += 1) clients.push((await connect(await h.urlFor('u1'))).client);
    const refused = await rawUpgrade(h.port, `/ws?token=${await h.token('u1')}`, {
      Host: `127.0.0.1:${h.port}`,
    });
    expect(refused.status).toBe(429);
    refused.socket.destroy();
    expect(await openClient(await h.urlFor('u1')).opened).toBe(false);
    clock.advance(1_000);
    const { client } = await connect(await h.urlFor('u1'));
    await bystanderAlive(client);
    for (const c of [...clients, client]) await c.close();
  });

  test('W15: sockets over limits.sockets_per_user are closed 4008; the others keep working', async () => {
    await using h = await startRealtime({
      configure: (c) => {
        c.limits.sockets_per_user = 3;
      },
    });
    const clients = [];
    for (let i = 0; i < 3; i += 1) clients.push((await connect(await h.urlFor('u1'))).client);
    const extra = openClient(await h.urlFor('u1'));
    expect(await extra.closed).toEqual({
      code: 4008,
      reason: 'too many connections for this user',
    });
    expect(extra.frames).toEqual([]);
    for (const c of clients) await bystanderAlive(c);
    h.realtime.updateLimits({ ...h.config, limits: { ...h.config.limits, sockets_per_user: 4 } });
    const { client: fourth } = await connect(await h.urlFor('u1'));
    for (const c of [...clients, fourth]) await c.close();
  });
});

describe('Z3–Z5: authorization', () => {
  test('Z4: two users racing to write first to one thread end with exactly one owner; rows = acks', async () => {
    await using h = await startRealtime({
      configure: (c) => {
        c.limits.burst = 100;
      },
    });
    const { client: a } = await connect(await h.urlFor('a'));
    const { client: b } = await connect(await h.urlFor('b'));
    for (let i = 0; i < 50; i += 1) {
      for (const c of [a, b])
        c.send({ type: 'message', id: uuid(), thread_id: 'race', role: 'user', content: `${i}` });
    }
    const replies = async (c: WsClient) => {
      const got: Array<{ type: string; code?: string }> = [];
      while (got.length < 50) {
        const frame = await c.next<{ type: string; code?: string }>();
        if (frame.type === 'ack' || frame.type === 'error') got.push(frame);
      }
      return got;
    };
    const [ra, rb] = await Promise.all([replies(a), replies(b)]);
    const owners = h.db.handle.sqlite.query("SELECT user_id FROM threads WHERE id = 'race'").all();
    expect(owners).toHaveLength(1);
    const acks = [...ra, ...rb].filter((f) => f.type === 'ack').length;
    expect(acks).toBe(50);
    expect(
      [...ra, ...rb].filter((f) => f.type === 'error').every((f) => f.code === 'forbidden_thread'),
    ).toBe(true);
    expect(count(h, 'messages')).toBe(acks);
    await a.close();
    await b.close();
  });

  test('Z5: the API refuses another user’s thread (403), a wrong key (401), no key (503)', async () => {
    const build = (key: string | undefined) =>
      startRealtime({
        plugins: (p) => [
          apiRoutes({
            apiKey: () => key,
            store: p.store,
            memory: p.memory,
            realtime: p.realtime,
          }),
        ],
      });
    await using h = await build('k-0123456789');
    const post = (path: string, body: unknown, key: string) =>
      fetch(`${h.httpUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await h.store.setPersonalization('a', 'ta', {});
    expect(
      (
        await post(
          '/api/v1/threads/ta/messages',
          { user_id: 'b', role: 'user', content: 'x' },
          'k-0123456789',
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await post(
          '/api/v1/threads/ta/messages',
          { user_id: 'a', role: 'user', content: 'x' },
          'wrong',
        )
      ).status,
    ).toBe(401);
    await using off = await build(undefined);
    const disabled = await fetch(`${off.httpUrl}/api/v1/users/a/state`, {
      headers: { authorization: 'Bearer x' },
    });
    expect(disabled.status).toBe(503);
    expect(count(h, 'messages')).toBe(0);
  });
});

describe('O1–O4: Origin', () => {
  test('refuses every near miss with 403 before the upgrade and allows exact names and no Origin', async () => {
    await using h = await startRealtime({
      configure: (c) => {
        c.server.allowed_origins = ['https://app.example.com'];
      },
    });
    const token = await h.token('u1');
    const refused = [
      'https://evil.test',
      'null',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://app.example.com.evil.test',
      'https://evilapp.example.com',
      'https://APP.EXAMPLE.COM',
      `http://127.0.0.1:${h.port}`,
    ];
    for (const origin of refused) {
      const { status, socket } = await rawUpgrade(h.port, `/ws?token=${token}`, {
        Host: `127.0.0.1:${h.port}`,
        Origin: origin,
      });
      socket.destroy();
      expect([origin, status]).toEqual([origin, 403]);
    }
    const { client } = await connect(`${h.wsUrl}?token=${token}`, {
      headers: { origin: 'https://app.example.com' },
    });
    const { client: noOrigin } = await connect(`${h.wsUrl}?token=${token}`);
    await client.close();
    await noOrigin.close();
  });

  test('O3: DNS rebinding — Host and Origin both evil.test — is refused under the default rule', async () => {
    await using h = await startRealtime();
    const token = await h.token('u1');
    const { status, socket } = await rawUpgrade(h.port, `/ws?token=${token}`, {
      Host: `evil.test:${h.port}`,
      Origin: `http://evil.test:${h.port}`,
    });
    socket.destroy();
    expect(status).toBe(403);
    const { client } = await connect(`${h.wsUrl}?token=${token}`, {
      headers: { origin: `http://localhost:${h.port}` },
    });
    await client.close();
  });
});
