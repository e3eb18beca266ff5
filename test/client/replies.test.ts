/**
 * Assistant replies in the client, with fake frames (docs/protocol.md §5.5): the delta rules by
 * UTF-8 offset, a new attempt replacing the text, the end committing the message or keeping the
 * failure, a gap resynchronised by a reconnect that carries the thread, the batching of change
 * events, and `cancelReply`.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { connect, type LifelineClient } from '../../client/index.ts';
import {
  FakeNetwork,
  FakeTimers,
  flush,
  type FakeNetwork as Net,
  rehydrate,
  uuid,
} from './fakes.ts';

const TURN = uuid(100);
const REPLY = uuid(200);
const clients: LifelineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client on a fake socket, with frames scheduled by the test (`runFrame`). */
async function open(threads: Record<string, unknown> = { t1: thread() }) {
  const net = new FakeNetwork();
  const timers = new FakeTimers();
  const frames: Array<() => void> = [];
  const c = connect({
    url: 'ws://h/ws',
    token: async () => 't',
    thread: 't1',
    timers,
    socket: net.factory,
    scheduleFrame: (callback) => frames.push(callback),
  });
  clients.push(c);
  await flush();
  net.last.push(rehydrate({ seq: 1, threads, assistant: { status: 'ok' } }));
  let changes = 0;
  c.on('state', () => changes++);
  const runFrame = () => {
    for (const callback of frames.splice(0)) callback();
  };
  return { c, net, timers, runFrame, changes: () => changes, pendingFrames: () => frames.length };
}

function thread(replies: unknown[] = []) {
  return { personalization: {}, messages: [], replies };
}

function start(seq: number, replyId = REPLY) {
  return {
    type: 'reply.start',
    seq,
    turn_id: TURN,
    thread_id: 't1',
    reply_id: replyId,
    message_id: uuid(1),
  };
}

function delta(offset: number, text: string, replyId = REPLY) {
  return { type: 'reply.delta', turn_id: TURN, thread_id: 't1', reply_id: replyId, offset, text };
}

const replyOf = (c: LifelineClient) => c.getState().threads.t1?.replies?.[0];
const push = (net: Net, ...frames: object[]) => {
  for (const frame of frames) net.last.push(frame);
};

describe('reply deltas', () => {
  test('apply in order, once: a duplicate and an overlap add only the bytes beyond the text held', async () => {
    const { c, net } = await open();
    push(net, start(2), delta(0, 'Hello '), delta(6, 'wor'), delta(6, 'wor'), delta(3, 'lo world'));
    expect(replyOf(c)).toEqual({
      turnId: TURN,
      replyId: REPLY,
      status: 'streaming',
      text: 'Hello world',
      offset: 11,
    });
  });

  test('multi-byte text is measured and trimmed in UTF-8 bytes', async () => {
    const { c, net } = await open();
    // "é" is 2 bytes, "€" 3, "🙂" 4: offsets count bytes, not UTF-16 units.
    push(net, start(2), delta(0, 'é€'), delta(5, '🙂a'), delta(2, '€🙂ab'));
    expect(replyOf(c)?.text).toBe('é€🙂ab');
    expect(replyOf(c)?.offset).toBe(11);
  });

  test('a gap never shows: the text stays, the reply is marked, and the client reconnects for the thread', async () => {
    const { c, net, timers } = await open({});
    push(net, start(2), delta(0, 'Hi'), delta(5, 'lost?'), delta(2, ' there'));
    expect(replyOf(c)).toMatchObject({ text: 'Hi', offset: 2, resync: true });
    expect(net.last.closedByClient).toEqual({ code: 1000, reason: 'resync' });
    await timers.advance(0);
    const resumed = net.last;
    expect(resumed.url.searchParams.getAll('thread')).toEqual(['t1']);
    expect(resumed.url.searchParams.get('since')).toBe('2');
    resumed.push(
      rehydrate({
        seq: 2,
        recovered: true,
        threads: {
          t1: thread([
            {
              turn_id: TURN,
              reply_id: REPLY,
              status: 'streaming',
              text: 'Hi you, lost?',
              offset: 13,
            },
          ]),
        },
      }),
    );
    resumed.push(delta(13, ' no'));
    expect(replyOf(c)).toEqual({
      turnId: TURN,
      replyId: REPLY,
      status: 'streaming',
      text: 'Hi you, lost? no',
      offset: 16,
    });
  });

  test('a new attempt of the turn replaces its partial text; a replayed start changes nothing', async () => {
    const { c, net } = await open();
    push(net, start(2), delta(0, 'first try'), start(3, uuid(201)), delta(0, 'second', uuid(201)));
    expect(replyOf(c)).toMatchObject({ replyId: uuid(201), text: 'second', offset: 6 });
    push(net, delta(9, ' late', REPLY), start(3, uuid(201)));
    expect(replyOf(c)).toMatchObject({ replyId: uuid(201), text: 'second', offset: 6 });
  });

  test('rehydrate seeds the replies and the assistant status; deltas continue from its offset', async () => {
    const seeded = thread([
      { turn_id: TURN, reply_id: REPLY, status: 'streaming', text: 'so far', offset: 6 },
      { turn_id: uuid(101), status: 'queued', text: '', offset: 0 },
    ]);
    const { c, net } = await open({ t1: seeded });
    expect(c.getState().assistant).toBe('ok');
    push(net, delta(6, '!'), { type: 'assistant', seq: 2, status: 'unavailable' });
    expect(c.getState().threads.t1?.replies?.map((r) => r.text)).toEqual(['so far!', '']);
    expect(c.getState().assistant).toBe('unavailable');
  });
});

describe('reply end', () => {
  test('a complete reply becomes the committed message and leaves the replies in progress', async () => {
    const { c, net } = await open();
    const message = {
      id: REPLY,
      thread_id: 't1',
      role: 'assistant',
      content: 'Hello',
      created_at: '2026-11-24T12:00:03.000Z',
      seq: 3,
    };
    push(net, start(2), delta(0, 'Hel'), { type: 'message', seq: 3, message });
    push(net, { ...start(4), type: 'reply.end', status: 'complete', message });
    const t1 = c.getState().threads.t1;
    expect(t1?.replies).toBeUndefined();
    expect(t1?.messages).toEqual([message]);
    expect(t1?.ended).toEqual([
      { turnId: TURN, replyId: REPLY, status: 'complete', messageId: REPLY },
    ]);
  });

  test('a failed reply keeps its text and error visible, with no message', async () => {
    const { c, net } = await open();
    const error = { code: 'idle_timeout', message: 'nothing for 30 s' };
    push(net, start(2), delta(0, 'Half'));
    push(net, { ...start(3), type: 'reply.end', status: 'failed', text: 'Half', error });
    const t1 = c.getState().threads.t1;
    expect(t1?.replies).toBeUndefined();
    expect(t1?.messages).toEqual([]);
    expect(t1?.ended).toEqual([
      { turnId: TURN, replyId: REPLY, status: 'failed', text: 'Half', error },
    ]);
  });
});

describe('replies across a resume', () => {
  test('the snapshot replaces the replies held; replayed starts add nothing, replayed ends remove', async () => {
    const { c, net, timers } = await open();
    push(net, start(2), delta(0, 'partial'));
    net.last.serverClose(1006);
    await timers.advance(1_000);
    const other = uuid(101);
    net.last.push(
      rehydrate({
        seq: 5,
        recovered: true,
        threads: { t1: thread([{ turn_id: other, status: 'queued', text: '', offset: 0 }]) },
      }),
    );
    // The history replays what the snapshot already reflects: TURN started again and ended.
    push(net, start(3, uuid(201)), { ...start(4, uuid(201)), type: 'reply.end', status: 'empty' });
    expect(c.getState().threads.t1?.replies).toEqual([
      { turnId: other, status: 'queued', text: '', offset: 0 },
    ]);
    expect(c.getState().threads.t1?.ended?.map((e) => [e.turnId, e.status])).toEqual([
      [TURN, 'empty'],
    ]);
  });
});

describe('change events while streaming', () => {
  test('a burst of deltas is announced once per frame; the state is current at once', async () => {
    const { c, net, runFrame, changes, pendingFrames } = await open();
    push(net, start(2));
    const before = changes();
    for (let i = 0; i < 100; i++) push(net, delta(i, 'x'));
    expect(replyOf(c)?.offset).toBe(100);
    expect(changes()).toBe(before);
    expect(pendingFrames()).toBe(1);
    runFrame();
    expect(changes()).toBe(before + 1);
    push(net, delta(100, 'y'), delta(101, 'z'));
    runFrame();
    expect(changes()).toBe(before + 2);
    runFrame();
    expect(changes()).toBe(before + 2);
  });

  test('a push announces at once and takes the pending batch with it', async () => {
    const { net, runFrame, changes } = await open();
    push(net, start(2));
    const before = changes();
    push(net, delta(0, 'a'), { type: 'assistant', seq: 3, status: 'unavailable' });
    expect(changes()).toBe(before + 1);
    runFrame();
    expect(changes()).toBe(before + 1);
  });
});

describe('cancelReply', () => {
  test('sends reply.cancel and resolves on the ack without seq', async () => {
    const { c, net } = await open();
    const done = c.cancelReply(TURN);
    const sent = net.last.sentOf('reply.cancel');
    expect(sent).toEqual([{ type: 'reply.cancel', turn_id: TURN, id: sent[0]?.id }]);
    net.last.push({ type: 'ack', id: sent[0]?.id, turn_id: TURN });
    expect(await done).toBeUndefined();
  });
});

describe('a sent message waiting for its answer', () => {
  test('the ack with turn_id holds the turn queued until its reply.start', async () => {
    const { c, net } = await open();
    const sending = c.send({ thread_id: 't1', content: 'hi' });
    await flush();
    const sent = net.last.sentOf('message');
    net.last.push({ type: 'ack', id: sent[0]?.id, seq: 2, turn_id: TURN });
    expect((await sending).turnId).toBe(TURN);
    expect(c.getState().threads.t1?.replies).toEqual([
      { turnId: TURN, status: 'queued', text: '', offset: 0 },
    ]);
    push(net, start(3), delta(0, 'Hel'));
    expect(c.getState().threads.t1?.replies).toEqual([
      { turnId: TURN, replyId: REPLY, status: 'streaming', text: 'Hel', offset: 3 },
    ]);
  });

  test('an ack after the turn already started or ended adds nothing', async () => {
    const { c, net } = await open();
    const sending = c.send({ thread_id: 't1', content: 'hi' });
    await flush();
    const sent = net.last.sentOf('message');
    push(net, start(3));
    net.last.push({ type: 'ack', id: sent[0]?.id, seq: 2, turn_id: TURN });
    await sending;
    expect(c.getState().threads.t1?.replies?.map((r) => r.status)).toEqual(['streaming']);
  });
});
