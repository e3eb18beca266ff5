/**
 * The HTTP assistant in the compiled binary (docs/assistant.md): a producer nobody here wrote (the
 * AI SDK's `streamText(…).toUIMessageStreamResponse()` over its mock model) answers every turn;
 * each request is verified with the `standardwebhooks` library. Two tabs see identical deltas that
 * make up exactly the backend's text and the committed assistant message; the backend got the
 * history, the preferences and the memory results; kill -9 mid-stream → the turn is retried after
 * the restart with the same webhook-id and ends with exactly one assistant message.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mintToken } from '../../src/realtime/auth.ts';
import { type AiBackend, startAiBackend } from '../support/ai-backend.ts';
import { startAssistantBackend } from '../support/assistant-backend.ts';
import { apiCall, type ServeProcess, startServe } from '../support/serve.ts';
import { binaryPath, freePort } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { connect, type WsClient } from '../support/ws.ts';

const JWT = 'assistant-http-e2e-secret-long-enough-0123456';
const API_KEY = 'assistant-http-e2e-api-key-0123456789';
// A Standard Webhooks secret: whsec_ + base64 of 24 random bytes.
const WHSEC = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;
type Frame = Record<string, unknown> & { type: string };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function serveEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LIFELINE_ASSISTANT_BACKEND: 'http',
    LIFELINE_ASSISTANT_URL: url,
    LIFELINE_ASSISTANT_SECRET: WHSEC,
    LIFELINE_AUTH_JWT_SECRET: JWT,
    LIFELINE_AUTH_API_KEY: API_KEY,
    ...extra,
  };
}

async function serve(
  dir: TempDir,
  port: number,
  env: Record<string, string>,
): Promise<ServeProcess> {
  const proc = await startServe({ command: [binaryPath()], port, dataDir: dir.path, env });
  cleanups.push(() => proc.stop('SIGKILL'));
  return proc;
}

async function tab(proc: ServeProcess, query: Record<string, string> = {}) {
  const token = await mintToken({ secret: JWT, userId: 'u1', ttlS: 600 });
  const params = new URLSearchParams({ token, thread: 't1', ...query });
  const opened = await connect<Frame & { seq: number; epoch: string }>(`${proc.wsUrl}?${params}`);
  cleanups.push(() => opened.client.close());
  return opened;
}

async function until(client: WsClient, done: (frame: Frame) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next<Frame>();
    frames.push(frame);
    if (done(frame)) return frames;
  }
}

const isEnd = (frame: Frame) => frame.type === 'reply.end';
const deltasOf = (frames: Frame[]) => frames.filter((f) => f.type === 'reply.delta');
const textOf = (frames: Frame[]) =>
  deltasOf(frames)
    .map((d) => d.text)
    .join('');

const userMessage = (content: string) => ({
  type: 'message',
  id: crypto.randomUUID(),
  thread_id: 't1',
  role: 'user',
  content,
});

describe('the HTTP assistant in the binary', () => {
  test('an AI SDK backend: two tabs see identical deltas equal to its text and the committed reply; it got history, preferences and memory', async () => {
    const deltas = ['Hello', ', ', 'wörld', ' — ', 'this ', 'is ', 'the ', 'AI ', 'SDK.'];
    const backend: AiBackend = startAiBackend(WHSEC, deltas, 5);
    cleanups.push(() => backend.stop());
    using dir = tempDir('lifeline-assistant-http');
    const proc = await serve(dir, freePort(), serveEnv(backend.url));
    const prefs = await apiCall(proc.baseUrl, API_KEY, 'PUT', '/api/v1/users/u1/preferences', {
      tone: 'brief',
    });
    expect(prefs.status).toBe(200);
    const { client: a } = await tab(proc);
    const { client: b } = await tab(proc);
    a.send(userMessage('remember the blue umbrella'));
    await until(a, isEnd);
    await until(b, isEnd);
    a.send(userMessage('what about the umbrella?'));
    const [framesA, framesB] = await Promise.all([until(a, isEnd), until(b, isEnd)]);
    expect(deltasOf(framesB)).toEqual(deltasOf(framesA));
    expect(textOf(framesA)).toBe(deltas.join(''));
    const end = framesA.at(-1) as Frame & {
      status: string;
      message: { content: string; role: string };
    };
    expect(end.status).toBe('complete');
    expect(end.message).toMatchObject({ role: 'assistant', content: deltas.join('') });
    expect(backend.rejected).toBe(0);
    const body = backend.bodies.at(-1) as {
      history: Array<{ role: string; content: string }>;
      preferences: unknown;
      memory: { status: string; degraded: boolean; results: Array<{ content: string }> };
      message: { content: string };
    };
    expect(body.message.content).toBe('what about the umbrella?');
    expect(body.history.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(body.history.at(-1)?.content).toBe('what about the umbrella?');
    expect(body.preferences).toEqual({ tone: 'brief' });
    expect(body.memory.status).toBe('ok');
    expect(body.memory.results.map((r) => r.content)).toContain('remember the blue umbrella');
  });

  test('kill -9 mid-stream: after the restart the turn is retried with the same webhook-id and ends with one assistant message', async () => {
    const backend = await startAssistantBackend(WHSEC);
    cleanups.push(() => backend.stop());
    await backend.setMode({
      kind: 'sse',
      text: 'one two three four five six seven eight nine ten',
      deltas: 10,
      delayMs: 150,
    });
    using dir = tempDir('lifeline-assistant-http-kill');
    const port = freePort();
    const first = await serve(dir, port, serveEnv(backend.url));
    const { client: a } = await tab(first);
    a.send(userMessage('count to ten'));
    await until(a, (f) => f.type === 'reply.delta');
    await first.stop('SIGKILL');
    await backend.setMode({
      kind: 'sse',
      text: 'one two three four five six seven eight nine ten',
      deltas: 3,
    });
    const second = await serve(dir, port, serveEnv(backend.url));
    const { client: b } = await tab(second);
    const frames = await until(b, isEnd);
    const end = frames.at(-1) as Frame & { status: string; message?: { content: string } };
    expect(end.status).toBe('complete');
    expect(end.message?.content).toBe('one two three four five six seven eight nine ten');
    const turns = backend.requests.filter((r) => (r.body as { type?: string }).type === 'turn');
    const ids = turns.map((r) => r.headers['webhook-id']);
    expect(ids.length).toBe(2);
    expect(new Set(ids).size).toBe(1);
    expect(backend.requests.every((r) => r.verified)).toBe(true);
    expect((turns[1]?.body as { attempt?: number } | undefined)?.attempt).toBe(2);
    const state = await apiCall(second.baseUrl, API_KEY, 'GET', '/api/v1/users/u1/state?thread=t1');
    const messages =
      ((await state.json()) as { threads: Record<string, { messages: Array<{ role: string }> }> })
        .threads.t1?.messages ?? [];
    expect(messages.filter((m) => m.role === 'assistant').length).toBe(1);
  });
});
