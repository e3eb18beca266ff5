/**
 * The HTTP assistant in the compiled binary (docs/assistant.md): a producer nobody here wrote (the
 * AI SDK's `streamText(…).toUIMessageStreamResponse()` over its mock model) answers every turn;
 * each request is verified with the `standardwebhooks` library. Two tabs see identical deltas that
 * make up exactly the backend's text and the committed assistant message; the backend got the
 * history, the preferences and the memory results; kill -9 mid-stream → the turn is retried after
 * the restart with the same webhook-id and ends with exactly one assistant message.
 */
import { describe, expect, test } from 'bun:test';
import { type AiBackend, startAiBackend } from '../support/ai-backend.ts';
import { startAssistantBackend } from '../support/assistant-backend.ts';
import {
  API_KEY,
  cleanUpAfterEach,
  deferCleanup,
  deltasOf,
  type Frame,
  isEnd,
  serve,
  serveEnv,
  tab,
  textOf,
  threadMessages,
  until,
  userMessage,
  WHSEC,
} from '../support/assistant-e2e.ts';
import { apiCall } from '../support/serve.ts';
import { freePort } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';

cleanUpAfterEach();

describe('the HTTP assistant in the binary', () => {
  test('an AI SDK backend: two tabs see identical deltas equal to its text and the committed reply; it got history, preferences and memory', async () => {
    const deltas = ['Hello', ', ', 'wörld', ' — ', 'this ', 'is ', 'the ', 'AI ', 'SDK.'];
    const backend: AiBackend = startAiBackend(WHSEC, deltas, 5);
    deferCleanup(() => backend.stop());
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
    deferCleanup(() => backend.stop());
    await backend.setMode({
      kind: 'sse',
      text: 'one two three four five six seven eight nine ten',
      deltas: 10,
      delayMs: 150,
    });
    using dir = tempDir('lifeline-assistant-http-kill');
    const port = freePort();
    const first = await serve(dir, port, serveEnv(backend.url));
    const { client: a, first: hello } = await tab(first);
    a.send(userMessage('count to ten'));
    const seen = await until(a, (f) => f.type === 'reply.delta');
    const lastSeq = Math.max(
      hello.seq,
      ...seen.map((f) => (typeof f.seq === 'number' ? f.seq : 0)),
    );
    await first.stop('SIGKILL');
    await backend.setMode({
      kind: 'sse',
      text: 'one two three four five six seven eight nine ten',
      deltas: 3,
    });
    const second = await serve(dir, port, serveEnv(backend.url));
    // Resume from what the first tab saw: the retried turn may end before this tab connects.
    const query = { since: String(lastSeq), epoch: hello.epoch };
    const { client: b } = await tab(second, { query });
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
    const messages = await threadMessages(second);
    expect(messages.filter((m) => m.role === 'assistant').length).toBe(1);
  });

  test('max_in_flight above the fetch limit: a warning at start says what to set', async () => {
    const backend = await startAssistantBackend(WHSEC);
    using dir = tempDir('lifeline-assistant-http-limit');
    const proc = await serve(
      dir,
      freePort(),
      serveEnv(backend.url, { LIFELINE_ASSISTANT_MAX_IN_FLIGHT: '300' }),
    );
    const line = await proc.waitForLog(
      'assistant.max_in_flight is above what Bun lets fetch run at once',
    );
    expect(line).toMatchObject({ level: 'warn', max_in_flight: 300, fetch_limit: 256 });
    expect(String(line.fix)).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS=300');
    await backend.stop();
  });
});
