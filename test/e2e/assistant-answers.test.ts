/**
 * How the HTTP assistant's answers end, in the compiled binary (docs/protocol.md §5.5): text/plain,
 * JSON and 204 answers; a 4xx fails the turn with one request only; a stalled stream and one over
 * `assistant.max_reply_bytes` fail with the text so far; a cancel (socket frame or HTTP) aborts the
 * backend's request; `interrupt` mode; GET /api/v1/turns/:id.
 */
import { Database } from 'bun:sqlite';
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { type BackendMode, startAssistantBackend } from '../support/assistant-backend.ts';
import {
  API_KEY,
  cleanUpAfterEach,
  deferCleanup,
  deltasOf,
  readTurn,
  sendUser,
  serve,
  serveEnv,
  tab,
  textOf,
  threadMessages,
  turnRequests,
  until,
  untilEndOf,
  userMessage,
  WHSEC,
} from '../support/assistant-e2e.ts';
import { apiCall } from '../support/serve.ts';
import { freePort } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';

cleanUpAfterEach();

/** A daemon over a test backend in `mode`, and a tab of u1 on t1. */
async function setUp(mode: BackendMode, env: Record<string, string> = {}) {
  const backend = await startAssistantBackend(WHSEC);
  deferCleanup(() => backend.stop());
  await backend.setMode(mode);
  const dir = tempDir('lifeline-assistant-answers');
  deferCleanup(() => dir[Symbol.dispose]());
  const proc = await serve(dir, freePort(), serveEnv(backend.url, env));
  const { client } = await tab(proc);
  return { backend, dir, proc, client };
}

describe('answer formats', () => {
  test('text/plain streams as deltas and ends complete with the body as the message', async () => {
    const text = 'plain text, streamed in pieces — ünïcode too';
    const { client } = await setUp({ kind: 'text', text, chunks: 4, delayMs: 20 });
    const turnId = await sendUser(client, 'say it plainly');
    const { frames, end } = await untilEndOf(client, turnId);
    expect(deltasOf(frames).length).toBeGreaterThan(1);
    expect(textOf(frames)).toBe(text);
    expect(end.status).toBe('complete');
    expect(end.message).toMatchObject({ role: 'assistant', content: text, id: end.reply_id });
  });

  test('JSON {content, metadata} ends complete with that content and metadata', async () => {
    const metadata = { model: 'test-1', tokens: 7 };
    const { client, proc } = await setUp({ kind: 'json', content: 'a whole reply', metadata });
    const turnId = await sendUser(client, 'answer at once');
    const { end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('complete');
    expect(end.message).toMatchObject({ content: 'a whole reply', metadata });
    const messages = await threadMessages(proc);
    expect(messages.map((m) => m.content)).toEqual(['answer at once', 'a whole reply']);
  });

  test('204 ends empty and commits no assistant message', async () => {
    const { client, proc } = await setUp({ kind: 'empty' });
    const turnId = await sendUser(client, 'nothing to say?');
    const { end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('empty');
    expect(end.message).toBeUndefined();
    expect((await threadMessages(proc)).map((m) => m.role)).toEqual(['user']);
  });
});

describe('failed answers', () => {
  test('a 400 fails the turn as rejected after exactly one request', async () => {
    const { client, backend, proc } = await setUp({ kind: 'status', status: 400, body: 'no' });
    const turnId = await sendUser(client, 'a bad request');
    const { end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('failed');
    expect(end.error?.code).toBe('rejected');
    expect(end.error?.message).toContain('400');
    // Nothing retries it: the turn has ended, and still only one request ever left.
    const turn = await readTurn(proc, turnId);
    expect(turn.body).toMatchObject({ status: 'failed', attempt: 1 });
    expect(turnRequests(backend).length).toBe(1);
  });

  test('a stream that stalls fails idle_timeout with the partial text in reply.end', async () => {
    const text = 'first part, second part, never the third';
    const { client, backend } = await setUp(
      { kind: 'stall', chunks: 2, text },
      { LIFELINE_ASSISTANT_IDLE_TIMEOUT_MS: '300' },
    );
    const turnId = await sendUser(client, 'stall please');
    const { frames, end } = await untilEndOf(client, turnId);
    const partial = textOf(frames);
    expect(partial.length).toBeGreaterThan(0);
    expect(text.startsWith(partial)).toBe(true);
    expect(partial).not.toBe(text);
    expect(end).toMatchObject({ status: 'failed', text: partial, error: { code: 'idle_timeout' } });
    expect(end.message).toBeUndefined();
    expect(turnRequests(backend)[0]?.aborted).toBe(true);
  });

  test('a reply over assistant.max_reply_bytes fails too_large', async () => {
    const { client } = await setUp(
      { kind: 'too-large', bytes: 8192 },
      { LIFELINE_ASSISTANT_MAX_REPLY_BYTES: '2048' },
    );
    const turnId = await sendUser(client, 'say a lot');
    const { frames, end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('failed');
    expect(end.error?.code).toBe('too_large');
    expect(new TextEncoder().encode(textOf(frames)).length).toBeLessThanOrEqual(2048);
    expect(end.message).toBeUndefined();
  });
});

describe('cancel and interrupt', () => {
  const slow: BackendMode = {
    kind: 'sse',
    text: 'one two three four five six seven eight nine ten eleven twelve',
    deltas: 12,
    delayMs: 150,
  };

  test('reply.cancel mid-stream: ack, the backend request aborted within 100 ms, reply.end cancelled with the text so far committed', async () => {
    const { client, backend, proc } = await setUp(slow);
    const turnId = await sendUser(client, 'count slowly');
    const before = await until(client, (f) => f.type === 'reply.delta');
    client.send({ type: 'reply.cancel', id: 'c1', turn_id: turnId });
    const sentAt = performance.now();
    const [request] = turnRequests(backend);
    await request?.abortedPromise;
    expect((request?.abortedAt ?? Number.POSITIVE_INFINITY) - sentAt).toBeLessThan(100);
    const rest = await until(client, (f) => f.id === 'c1');
    expect(rest.at(-1)).toEqual({ type: 'ack', id: 'c1', turn_id: turnId });
    const { frames, end } = await untilEndOf(client, turnId);
    const text = textOf([...before, ...rest, ...frames]);
    expect(end.status).toBe('cancelled');
    expect(end.message).toMatchObject({ role: 'assistant', content: text });
    expect((await threadMessages(proc)).at(-1)?.content).toBe(text);
    // Idempotent: a second cancel is acknowledged and changes nothing.
    client.send({ type: 'reply.cancel', id: 'c2', turn_id: turnId });
    expect((await until(client, (f) => f.id === 'c2')).at(-1)?.type).toBe('ack');
  });

  test('POST /api/v1/turns/:id/cancel does the same; another user cannot cancel the turn', async () => {
    const { client, backend, proc } = await setUp(slow);
    const turnId = await sendUser(client, 'count slowly');
    await until(client, (f) => f.type === 'reply.delta');
    const { client: other } = await tab(proc, { user: 'u2', threads: ['t9'] });
    other.send({ type: 'reply.cancel', id: 'x1', turn_id: turnId });
    expect((await until(other, (f) => f.id === 'x1')).at(-1)).toMatchObject({
      type: 'error',
      code: 'forbidden_thread',
    });
    const sentAt = performance.now();
    const answer = await apiCall(proc.baseUrl, API_KEY, 'POST', `/api/v1/turns/${turnId}/cancel`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ turn_id: turnId, cancelled: true });
    const [request] = turnRequests(backend);
    await request?.abortedPromise;
    expect((request?.abortedAt ?? Number.POSITIVE_INFINITY) - sentAt).toBeLessThan(100);
    const { end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('cancelled');
  });

  test('interrupt mode: a new user message cancels the streaming reply and is answered', async () => {
    const env = { LIFELINE_ASSISTANT_ON_NEW_MESSAGE: 'interrupt' };
    const { client, backend } = await setUp(slow, env);
    const first = await sendUser(client, 'count slowly');
    await until(client, (f) => f.type === 'reply.delta' && f.turn_id === first);
    await backend.setMode({ kind: 'json', content: 'the second answer' });
    const second = await sendUser(client, 'actually, stop');
    const { end: firstEnd } = await untilEndOf(client, first);
    expect(firstEnd.status).toBe('cancelled');
    const { end: secondEnd } = await untilEndOf(client, second);
    expect(secondEnd).toMatchObject({
      status: 'complete',
      message: { content: 'the second answer' },
    });
    expect(turnRequests(backend)[0]?.aborted).toBe(true);
  });
});

describe('GET /api/v1/turns/:id', () => {
  test('shows status, attempt and text; a turn of a deleted thread is 404', async () => {
    const { client, dir, proc } = await setUp({ kind: 'json', content: 'stored reply' });
    const turnId = await sendUser(client, 'hello');
    await untilEndOf(client, turnId);
    const turn = await readTurn(proc, turnId);
    expect(turn.status).toBe(200);
    expect(turn.body).toMatchObject({
      turn_id: turnId,
      user_id: 'u1',
      thread_id: 't1',
      status: 'complete',
      attempt: 1,
      text: 'stored reply',
      offset: 12,
    });
    // An operator deletes the thread (its turns go with it, ON DELETE CASCADE).
    const db = new Database(join(dir.path, 'lifeline.db'));
    db.run('PRAGMA busy_timeout = 5000');
    db.run('PRAGMA foreign_keys = ON');
    db.run("DELETE FROM threads WHERE id = 't1'");
    db.close();
    const gone = await readTurn(proc, turnId);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'not_found' } });
  });
});

/** A daemon whose next turn inserts fail (a trigger on the file, from a second connection). */
async function failingTurns() {
  const set = await setUp({ kind: 'json', content: 'finally' });
  const db = new Database(join(set.dir.path, 'lifeline.db'));
  deferCleanup(() => db.close());
  db.run('PRAGMA busy_timeout = 5000');
  db.run(
    "CREATE TRIGGER turns_fail BEFORE INSERT ON turns BEGIN SELECT RAISE(ABORT, 'injected'); END",
  );
  const frame = userMessage('will this be answered?');
  set.client.send(frame);
  const refused = (await until(set.client, (f) => f.id === frame.id)).at(-1);
  db.run('DROP TRIGGER turns_fail');
  return { ...set, frame, refused };
}

describe('a turn that cannot be created', () => {
  test('its message is not acknowledged and not stored; once storage works a new message is', async () => {
    const { client, proc, backend, refused } = await failingTurns();
    expect(refused?.type).toBe('error');
    expect(refused?.turn_id).toBeUndefined();
    expect(await threadMessages(proc)).toEqual([]);
    expect(turnRequests(backend)).toEqual([]);
    const turnId = await sendUser(client, 'and now?');
    const { end } = await untilEndOf(client, turnId);
    expect(end.message?.content).toBe('finally');
  });

  test('the resend of the refused message, once storage works, is acknowledged with its turn and answered', async () => {
    const { client, frame, proc } = await failingTurns();
    expect(await threadMessages(proc)).toEqual([]);
    client.send(frame);
    const ack = (await until(client, (f) => f.id === frame.id)).at(-1);
    // Read before any asymmetric matcher: bun's toMatchObject writes the matcher into the object.
    const turnId = ack?.turn_id;
    expect(ack?.type).toBe('ack');
    expect(typeof turnId).toBe('string');
    const { end } = await untilEndOf(client, turnId as string);
    expect(end.message?.content).toBe('finally');
  });
});
