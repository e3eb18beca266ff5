/**
 * The message pipeline (src/realtime/message-pipeline.ts): whoever writes a message — a socket's
 * `message` frame or the HTTP API — the pushed message is the one a later `thread.state`, a fresh
 * `rehydrate`, a replay and `GET /users/:user/state` show, field for field, `created_at` included.
 * The clock here moves on every wall-clock read, so a push whose time were read apart from the
 * stored row's would show a different `created_at`.
 */
import { describe, expect, test } from 'bun:test';
import { apiRoutes } from '../../src/http/api.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect, type WsClient } from '../support/ws.ts';

const KEY = 'pipeline-test-key-0123456789';

/** A wall clock that moves 7 ms forward each time it is read. */
function tickingClock(): Clock {
  let wall = Date.UTC(2030, 0, 1);
  return { monoMs: () => performance.now(), wallMs: () => (wall += 7) };
}

function start() {
  return startRealtime({
    clock: tickingClock(),
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
  });
}

type Frame = Record<string, unknown>;
type Message = Record<string, unknown>;

/** What every later read shows of the thread's only message. */
async function laterViews(h: Harness, reader: WsClient, since: { epoch: string; seq: number }) {
  const state = await reader.request<{ messages: Message[] }>({
    type: 'thread.join',
    id: 'j',
    thread_id: 't1',
  });
  const { client: fresh, first } = await connect<{
    threads: Record<string, { messages: Message[] }>;
  }>(await h.urlFor('u1', { thread: 't1' }));
  await fresh.close();
  const { client: resumed } = await connect(
    await h.urlFor('u1', { since: String(since.seq), epoch: since.epoch }),
  );
  const replayed = await resumed.nextOfType<{ message: Message }>('message');
  await resumed.close();
  const answer = await fetch(`${h.httpUrl}/api/v1/users/u1/state?thread=t1`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const http = (await answer.json()) as { threads: Record<string, { messages: Message[] }> };
  return {
    threadState: state.messages,
    rehydrate: first.threads.t1?.messages,
    replay: [replayed.message],
    httpState: http.threads.t1?.messages,
  };
}

async function reader(h: Harness) {
  const { client, first } = await connect<{ epoch: string; seq: number }>(
    await h.urlFor('u1', { thread: 't1' }),
  );
  return { client, since: { epoch: first.epoch, seq: first.seq } };
}

describe('a committed message', () => {
  test('from a socket is pushed exactly as every later read shows it', async () => {
    await using h = await start();
    const { client: watcher, since } = await reader(h);
    const { client: writer } = await connect(await h.urlFor('u1', { thread: 't1' }));
    const id = crypto.randomUUID();
    const ack = await writer.request<Frame>({
      type: 'message',
      id,
      thread_id: 't1',
      role: 'user',
      content: 'hello',
      metadata: { source: 'test' },
    });
    expect(ack).toEqual({ type: 'ack', id, seq: 1 });
    const pushed = await watcher.nextOfType<{ message: Message }>('message');
    expect(pushed.message).toMatchObject({ id, seq: 1, metadata: { source: 'test' } });
    const views = await laterViews(h, watcher, since);
    expect(views).toEqual({
      threadState: [pushed.message],
      rehydrate: [pushed.message],
      replay: [pushed.message],
      httpState: [pushed.message],
    });
    await writer.close();
    await watcher.close();
  });

  test('from the HTTP API is pushed exactly as every later read shows it', async () => {
    await using h = await start();
    const { client: watcher, since } = await reader(h);
    const posted = await fetch(`${h.httpUrl}/api/v1/threads/t1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'u1', role: 'assistant', content: 'hi there' }),
    });
    expect(posted.status).toBe(201);
    const { id } = (await posted.json()) as { id: string };
    const pushed = await watcher.nextOfType<{ message: Message }>('message');
    expect(pushed.message).toMatchObject({ id, seq: 1, role: 'assistant' });
    const views = await laterViews(h, watcher, since);
    expect(views).toEqual({
      threadState: [pushed.message],
      rehydrate: [pushed.message],
      replay: [pushed.message],
      httpState: [pushed.message],
    });
    await watcher.close();
  });
});
