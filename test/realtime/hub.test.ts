import { describe, expect, test } from 'bun:test';
import { Hub } from '../../src/realtime/hub.ts';
import type { EventPush, RehydrateFrame, ServerFrame } from '../../src/realtime/protocol.ts';
import type { SocketLike } from '../../src/realtime/socket.ts';

/** A plain-object socket that records what it was sent and how it was closed. */
class FakeSocket implements SocketLike<{ name: string }> {
  sent: ServerFrame[] = [];
  closed: { code?: number; reason?: string } | undefined;
  buffered = 0;
  /** What the next sends return (Bun: > 0 written, -1 backpressure, 0 dropped). */
  status = 1;
  constructor(readonly data = { name: 's' }) {}
  send(text: string): number {
    if (this.closed !== undefined) return 0;
    this.sent.push(JSON.parse(text) as ServerFrame);
    if (this.status < 0) this.buffered += text.length;
    return this.status === 1 ? text.length : this.status;
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  types(): string[] {
    return this.sent.map((frame) => ('seq' in frame ? `${frame.type}:${frame.seq}` : frame.type));
  }
}

const rehydrate = (seq: number): RehydrateFrame => ({
  type: 'rehydrate',
  epoch: 'e1',
  seq,
  recovered: true,
  session: { user_id: 'u1', connection_id: 'c1', token_expires_at: '2026-11-24T13:00:00.000Z' },
  preferences: {},
  threads: {},
  memory: { status: 'ok' },
});
const event = (seq: number): EventPush => ({ type: 'event', seq, event: 'e', data: { n: seq } });

function openSocket(hub: Hub, userId = 'u1', seq = 0): FakeSocket {
  const socket = new FakeSocket();
  expect(hub.register(userId, socket)).toBe(true);
  expect(hub.completeSnapshot(socket, rehydrate(seq))).toBe(true);
  return socket;
}

/** Sends `frame` to every socket of `userId` the way realtime/plugin.ts pushes; how many took it. */
function deliver(hub: Hub, userId: string, frame: ServerFrame): number {
  return hub.socketsOf(userId).filter((socket) => hub.send(socket, frame)).length;
}

describe('Hub: sockets per user (docs/design.md#ids-and-limits, docs/faults.md#w15)', () => {
  test('closes the socket past the cap with 4008 and keeps the others', () => {
    const hub = new Hub({ socketsPerUser: 2 });
    const first = openSocket(hub);
    const second = openSocket(hub);
    const third = new FakeSocket();
    expect(hub.register('u1', third)).toBe(false);
    expect(third.closed).toEqual({ code: 4008, reason: 'too many connections for this user' });
    expect(hub.socketsOf('u1')).toEqual([first, second]);
    const other = new FakeSocket();
    expect(hub.register('u2', other)).toBe(true);
    expect(hub.socketsOf('u2')).toEqual([other]);
  });

  test('a slot frees when a socket is unregistered', () => {
    const hub = new Hub({ socketsPerUser: 1 });
    const first = openSocket(hub);
    hub.unregister(first);
    hub.unregister(first);
    const second = new FakeSocket();
    expect(hub.register('u1', second)).toBe(true);
    expect(hub.socketsOf('u1')).toEqual([second]);
  });

  test('keeps users in a Map, so prototype names are just names', () => {
    const hub = new Hub({ socketsPerUser: 1 });
    const socket = openSocket(hub, 'constructor');
    expect(deliver(hub, 'constructor', event(1))).toBe(1);
    expect(deliver(hub, 'toString', event(1))).toBe(0);
    expect(deliver(hub, '__proto__', event(1))).toBe(0);
    expect(socket.types()).toEqual(['rehydrate:0', 'event:1']);
  });
});

describe('Hub: slow consumers (docs/design.md#one-frame-at-a-time, docs/faults.md#w13)', () => {
  test('send() returning 0 (dropped) closes with 4008', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = openSocket(hub);
    socket.status = 0;
    expect(deliver(hub, 'u1', event(1))).toBe(0);
    expect(socket.closed).toEqual({ code: 4008, reason: 'slow consumer' });
    expect(hub.socketsOf('u1')).toEqual([]);
  });

  test('backpressure under the limit keeps the socket; over the limit closes it with 4008', () => {
    const hub = new Hub({ socketsPerUser: 4, maxBufferedBytes: 200 });
    const socket = openSocket(hub);
    socket.status = -1;
    expect(deliver(hub, 'u1', event(1))).toBe(1);
    expect(socket.closed).toBeUndefined();
    let pushes = 1;
    while (socket.closed === undefined && pushes < 10_000) {
      pushes += 1;
      deliver(hub, 'u1', event(pushes));
    }
    expect(socket.closed).toEqual({ code: 4008, reason: 'slow consumer' });
    expect(socket.buffered).toBeLessThan(200 + 100);
    expect(deliver(hub, 'u1', event(pushes + 1))).toBe(0);
  });

  test('one slow socket does not hold back the user’s other sockets', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const slow = openSocket(hub);
    const fast = openSocket(hub);
    slow.status = 0;
    expect(deliver(hub, 'u1', event(1))).toBe(1);
    expect(deliver(hub, 'u1', event(2))).toBe(1);
    expect(fast.types()).toEqual(['rehydrate:0', 'event:1', 'event:2']);
  });

  test('a socket whose buffer is already over the limit is closed before sending', () => {
    const hub = new Hub({ socketsPerUser: 4, maxBufferedBytes: 10 });
    const socket = openSocket(hub);
    socket.buffered = 11;
    expect(hub.send(socket, { type: 'pong' })).toBe(false);
    expect(socket.types()).toEqual(['rehydrate:0']);
    expect(socket.closed?.code).toBe(4008);
  });
});

describe('Hub: snapshot and stream do not race (docs/design.md#snapshot-before-stream)', () => {
  test('buffers pushes during the snapshot read and sends only those above its seq', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    // Events 41 and 42 commit while the snapshot is read; the snapshot turns out to cover 41.
    deliver(hub, 'u1', event(41));
    hub.send(socket, { type: 'pong', id: 'p1' });
    deliver(hub, 'u1', event(42));
    expect(socket.sent).toEqual([]);
    expect(hub.completeSnapshot(socket, rehydrate(41))).toBe(true);
    expect(socket.types()).toEqual(['rehydrate:41', 'pong', 'event:42']);
  });

  test('sends the rehydrate frame first, then the replay in order, then live pushes', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    deliver(hub, 'u1', event(40));
    deliver(hub, 'u1', event(41));
    hub.completeSnapshot(socket, rehydrate(40), [event(38), event(39), event(39), event(40)]);
    deliver(hub, 'u1', event(40));
    deliver(hub, 'u1', event(42));
    expect(socket.types()).toEqual([
      'rehydrate:40',
      'event:38',
      'event:39',
      'event:40',
      'event:41',
      'event:42',
    ]);
  });

  test('never sends a push at or below the last seq sent on the socket', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = openSocket(hub, 'u1', 10);
    for (const seq of [9, 10, 11, 11, 12, 5]) deliver(hub, 'u1', event(seq));
    expect(socket.types()).toEqual(['rehydrate:10', 'event:11', 'event:12']);
  });

  test('closes a socket whose snapshot read lets too many frames pile up', () => {
    const hub = new Hub({ socketsPerUser: 4, maxPendingFrames: 3 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    for (let seq = 1; seq <= 4; seq += 1) deliver(hub, 'u1', event(seq));
    expect(socket.closed?.code).toBe(4008);
    expect(hub.completeSnapshot(socket, rehydrate(0))).toBe(false);
    expect(socket.sent).toEqual([]);
  });

  test('completing the snapshot of a socket that closed meanwhile sends nothing', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    hub.unregister(socket);
    expect(hub.completeSnapshot(socket, rehydrate(0))).toBe(false);
    expect(socket.sent).toEqual([]);
  });
});

describe('Hub: closing', () => {
  test('a close that throws (socket already gone) does not escape', () => {
    const hub = new Hub({ socketsPerUser: 1 });
    openSocket(hub);
    const broken = new FakeSocket();
    broken.close = () => {
      throw new Error('already closed');
    };
    expect(hub.register('u1', broken)).toBe(false);
  });
});

describe('reply deltas around the snapshot (docs/protocol.md §5.5)', () => {
  const delta = (offset: number, text: string): ServerFrame => ({
    type: 'reply.delta',
    turn_id: 'turn1',
    thread_id: 't1',
    reply_id: 'r1',
    offset,
    text,
  });

  test('deltas buffered before the snapshot that its reply text holds are dropped, later ones sent', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    hub.deliver('u1', delta(0, 'Hello '));
    hub.deliver('u1', delta(6, 'there '));
    hub.deliver('u1', delta(12, 'friend'));
    const frame: RehydrateFrame = {
      ...rehydrate(3),
      threads: {
        t1: {
          personalization: {},
          messages: [],
          replies: [
            {
              turn_id: 'turn1',
              reply_id: 'r1',
              status: 'streaming',
              text: 'Hello there ',
              offset: 12,
            },
          ],
        },
      },
      assistant: { status: 'ok' },
    };
    expect(hub.completeSnapshot(socket, frame)).toBe(true);
    hub.deliver('u1', delta(18, '!'));
    expect(socket.sent.map((f) => (f.type === 'reply.delta' ? f.offset : f.type))).toEqual([
      'rehydrate',
      12,
      18,
    ]);
  });

  test('deltas of a reply the snapshot does not show are all sent', () => {
    const hub = new Hub({ socketsPerUser: 4 });
    const socket = new FakeSocket();
    hub.register('u1', socket);
    hub.deliver('u1', delta(0, 'Hello '));
    expect(hub.completeSnapshot(socket, rehydrate(3))).toBe(true);
    expect(socket.sent.map((f) => f.type)).toEqual(['rehydrate', 'reply.delta']);
  });
});
