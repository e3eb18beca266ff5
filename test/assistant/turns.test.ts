/**
 * Assistant turns, first slice (docs/protocol.md §5.5), on real sockets with the demo assistant:
 * a user message commits with exactly one turn (the ack and the HTTP 201 name it, a resend names
 * the same one), the streamed reply reaches every tab identically and equals the committed
 * assistant message, a tab connecting mid-stream shows the text so far and ends with exactly the
 * full text, and an interrupted attempt is retried on the next start.
 */
import { describe, expect, test } from 'bun:test';
import { apiRoutes } from '../../src/http/api.ts';
import { utf8Bytes } from '../../src/lib/text.ts';
import { type Harness, type HarnessOptions, startRealtime } from '../support/realtime-harness.ts';
import { connect, type WsClient } from '../support/ws.ts';

const KEY = 'assistant-test-key-0123456789';

type Frame = Record<string, unknown> & { type: string };
interface Delta {
  reply_id: string;
  offset: number;
  text: string;
}
interface Rehydrate {
  seq: number;
  epoch: string;
  assistant?: { status: string };
  threads: Record<string, { replies?: Array<{ reply_id?: string; text: string; offset: number }> }>;
}

function start(options: HarnessOptions = {}) {
  return startRealtime({
    assistant: { wordDelayMs: 0 },
    configure: (config) => {
      config.auth.api_key = KEY;
    },
    plugins: (parts) => [
      apiRoutes({
        apiKey: () => KEY,
        store: parts.store,
        memory: parts.memory,
        realtime: parts.realtime,
      }),
    ],
    ...options,
  });
}

function userMessage(content: string, id: string = crypto.randomUUID()) {
  return { type: 'message', id, thread_id: 't1', role: 'user', content };
}

/** Frames of one socket up to and including `reply.end`. */
async function untilReplyEnd(client: WsClient): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next<Frame>();
    frames.push(frame);
    if (frame.type === 'reply.end') return frames;
  }
}

function deltasOf(frames: Frame[]): Delta[] {
  return frames.filter((f) => f.type === 'reply.delta') as unknown as Delta[];
}

function turnCount(h: Harness, messageId: string): number {
  const row = h.db.handle.sqlite
    .query('SELECT count(*) AS n FROM turns WHERE message_id = ?')
    .get(messageId) as { n: number };
  return row.n;
}

/** Checks that each delta starts where the text before it ends; returns the whole text. */
function joined(deltas: Delta[], before = ''): string {
  let text = before;
  for (const delta of deltas) {
    expect(delta.offset).toBe(utf8Bytes(text));
    text += delta.text;
  }
  return text;
}

describe('assistant turns (demo backend)', () => {
  test('the ack names the turn; a resend names the same turn and exactly one turn exists', async () => {
    await using h = await start();
    const { client } = await connect(await h.urlFor('u1', { thread: 't1' }));
    const frame = userMessage('hello there');
    const ack = await client.request<{ type: string; id: string; turn_id?: string; seq: number }>(
      frame,
    );
    const turnId = ack.turn_id;
    expect(typeof turnId).toBe('string');
    expect(ack).toEqual({ type: 'ack', id: frame.id, seq: 1, turn_id: turnId! });
    await untilReplyEnd(client);
    const again = await client.request(frame);
    expect(again).toEqual({ type: 'ack', id: frame.id, seq: 1, turn_id: turnId! });
    expect(turnCount(h, frame.id)).toBe(1);
    expect(await h.store.readTurn(turnId!)).toMatchObject({ status: 'complete', attempt: 1 });
    await client.close();
  });

  test('the HTTP API answers 201 with the turn id, a resend 200 with the same one', async () => {
    await using h = await start();
    const id = crypto.randomUUID();
    const post = () =>
      fetch(`${h.httpUrl}/api/v1/threads/t1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, user_id: 'u1', role: 'user', content: 'from the backend' }),
      });
    const first = await post();
    expect(first.status).toBe(201);
    const body = (await first.json()) as { id: string; seq: number; turn_id?: string };
    const turnId = body.turn_id;
    expect(typeof turnId).toBe('string');
    expect(body).toEqual({ id, seq: 1, turn_id: turnId! });
    const second = await post();
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ id, seq: 1, turn_id: turnId! });
    expect(turnCount(h, id)).toBe(1);
  });

  test('two tabs receive identical deltas whose concatenation is the committed assistant message', async () => {
    await using h = await start();
    const a = (await connect<Rehydrate>(await h.urlFor('u1', { thread: 't1' }))).client;
    const { client: b, first } = await connect<Rehydrate>(await h.urlFor('u1', { thread: 't1' }));
    expect(first.assistant).toEqual({ status: 'ok' });
    expect(first.threads).toEqual({});
    const frame = userMessage('tell me something — with ünïcödé 🎉 please');
    a.send(frame);
    const [framesA, framesB] = await Promise.all([untilReplyEnd(a), untilReplyEnd(b)]);
    const deltasA = deltasOf(framesA);
    expect(deltasA.length).toBeGreaterThan(3);
    expect(deltasOf(framesB)).toEqual(deltasA);
    const end = framesA.at(-1) as Frame & {
      status: string;
      message: { id: string; content: string };
    };
    expect(end).toMatchObject({ status: 'complete', reply_id: deltasA[0]!.reply_id });
    expect(joined(deltasA)).toBe(end.message.content);
    expect(end.message.content).toContain(frame.content);
    const replyStart = framesB.find((f) => f.type === 'reply.start');
    expect(replyStart).toMatchObject({ message_id: frame.id, reply_id: end.message.id });
    const stored = await h.store.recentMessages('t1', 10);
    expect(stored.map((m) => [m.role, m.id])).toEqual([
      ['user', frame.id],
      ['assistant', end.message.id],
    ]);
    expect(stored[1]!.content).toBe(end.message.content);
    for (const tab of [framesA, framesB]) {
      const pushed = tab.find(
        (f) => f.type === 'message' && (f.message as { role: string }).role === 'assistant',
      );
      expect(pushed).toMatchObject({
        message: { id: end.message.id, content: end.message.content },
      });
    }
    await a.close();
    await b.close();
  });

  for (const resume of [false, true]) {
    test(`a tab connecting mid-stream${resume ? ' with since/epoch' : ''} shows the text so far and ends with exactly the full text`, async () => {
      await using h = await start({ assistant: { wordDelayMs: 15, persistEveryMs: 30 } });
      const { client: a, first: before } = await connect<Rehydrate>(
        await h.urlFor('u1', { thread: 't1' }),
      );
      a.send(userMessage(Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')));
      const deltasA: Delta[] = [];
      for (;;) {
        const frame = await a.next<Frame>();
        if (frame.type !== 'reply.delta') continue;
        deltasA.push(frame as unknown as Delta);
        if (deltasA.length === 5) break;
      }
      const query: Record<string, string> = { thread: 't1' };
      if (resume) Object.assign(query, { since: String(before.seq), epoch: before.epoch });
      const { client: c, first } = await connect<Rehydrate>(await h.urlFor('u1', query));
      const [open] = first.threads.t1?.replies ?? [];
      expect(open).toMatchObject({ status: 'streaming', reply_id: deltasA[0]!.reply_id });
      expect(open!.offset).toBe(utf8Bytes(open!.text));
      expect(open!.text.length).toBeGreaterThanOrEqual(joined(deltasA).length);
      const framesC = await untilReplyEnd(c);
      const end = framesC.at(-1) as Frame & { message: { content: string } };
      const ownDeltas = deltasOf(framesC).filter((d) => d.reply_id === open!.reply_id);
      expect(joined(ownDeltas, open!.text)).toBe(end.message.content);
      if (resume) expect(framesC.some((f) => f.type === 'reply.start')).toBe(true);
      await untilReplyEnd(a);
      await a.close();
      await c.close();
    });
  }

  test('a thread’s turns run one at a time, in message order', async () => {
    await using h = await start({ assistant: { wordDelayMs: 1 } });
    const { client } = await connect(await h.urlFor('u1', { thread: 't1' }));
    const sent = [userMessage('first'), userMessage('second'), userMessage('third')];
    for (const frame of sent) client.send(frame);
    const seen: string[] = [];
    while (seen.filter((entry) => entry.startsWith('end')).length < sent.length) {
      const frame = await client.next<Frame>();
      const index = sent.findIndex((m) => m.id === frame.message_id);
      if (frame.type === 'reply.start') seen.push(`start ${index}`);
      if (frame.type === 'reply.end') seen.push(`end ${seen.at(-1)?.split(' ')[1]}`);
    }
    expect(seen).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    await client.close();
  });

  test('stop() while a thread still has turns waiting returns, and leaves them open for the next start', async () => {
    const h = await start({ assistant: { wordDelayMs: 20 } });
    const { client } = await connect(await h.urlFor('u1', { thread: 't1' }));
    const sent = [userMessage('first'), userMessage('second')];
    for (const frame of sent) client.send(frame);
    while ((await client.next<Frame>()).type !== 'reply.delta') {}
    await client.close();
    // Before the fix, a drain that ended on stop re-scheduled its thread in a microtask loop and
    // this never resolved.
    await h.assistant?.stop();
    const open = await h.store.openTurns(10);
    expect(open.map((turn) => turn.messageId)).toEqual(sent.map((m) => m.id));
    await h[Symbol.asyncDispose]();
  });

  test('an attempt interrupted by a restart is retried with a new reply id; one assistant message', async () => {
    await using h = await start();
    const id = crypto.randomUUID();
    const written = await h.store.appendMessage({
      userId: 'u1',
      threadId: 't1',
      id,
      role: 'user',
      content: 'are you there',
      createTurn: true,
    });
    const turnId = written.kind === 'ok' ? written.turnId! : '';
    await h.store.updateTurn(turnId, {
      status: 'streaming',
      attempt: 1,
      replyId: 'lost',
      text: 'You sa',
    });
    const { client } = await connect(await h.urlFor('u1', { thread: 't1' }));
    await h.assistant!.start();
    const frames = await untilReplyEnd(client);
    const replyStart = frames.find((f) => f.type === 'reply.start') as Frame & { reply_id: string };
    expect(replyStart).toMatchObject({ turn_id: turnId, message_id: id });
    expect(replyStart.reply_id).not.toBe('lost');
    expect(await h.store.readTurn(turnId)).toMatchObject({ status: 'complete', attempt: 2 });
    const assistantMessages = (await h.store.recentMessages('t1', 10)).filter(
      (m) => m.role === 'assistant',
    );
    expect(assistantMessages.map((m) => m.id)).toEqual([replyStart.reply_id]);
    await client.close();
  });

  test('with assistant.backend = "none" a message has no turn and no reply', async () => {
    await using h = await start({ assistant: undefined });
    const { client, first } = await connect<Rehydrate>(await h.urlFor('u1', { thread: 't1' }));
    expect(first.assistant).toBeUndefined();
    const frame = userMessage('just store me');
    expect(await client.request(frame)).toEqual({ type: 'ack', id: frame.id, seq: 1 });
    expect(await client.request({ type: 'ping', id: 'p' })).toEqual({ type: 'pong', id: 'p' });
    expect(client.unread).toEqual([]);
    expect(turnCount(h, frame.id)).toBe(0);
    await client.close();
  });
});
