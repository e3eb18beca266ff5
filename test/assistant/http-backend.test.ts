/**
 * The HTTP assistant backend (src/assistant/http-backend.ts) against real assistants on
 * 127.0.0.1: the scriptable one (every signature checked by the `standardwebhooks` library) and
 * one built on the real AI SDK. Every answer kind, the status classes, the timeouts, the size
 * limit, cancellation seen by the backend, and bodies split at awkward byte boundaries.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import net from 'node:net';
import {
  type AssistantHttpOptions,
  type AttemptEnd,
  announceCancel,
  deliverTurn,
  pingAssistant,
} from '../../src/assistant/http-backend.ts';
import { startAiBackend } from '../support/ai-backend.ts';
import {
  type AssistantBackend,
  type BackendMode,
  splitText,
  sseEvent,
  startAssistantBackend,
} from '../support/assistant-backend.ts';

const SECRET = `whsec_${Buffer.from('lifeline-test-signing-key-32byte').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('another-signing-key-of-32-bytes!').toString('base64')}`;
const TURN = { type: 'turn', turn_id: 'turn_1', attempt: 1, message: { content: 'hi' } };

let backend: AssistantBackend;

beforeAll(async () => {
  backend = await startAssistantBackend(SECRET);
});
afterAll(async () => {
  await backend.stop();
});

function options(overrides: Partial<AssistantHttpOptions> = {}): AssistantHttpOptions {
  return {
    url: backend.url,
    secret: SECRET,
    firstByteTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    maxReplyBytes: 1024 * 1024,
    ...overrides,
  };
}

interface Run {
  end: AttemptEnd;
  pieces: string[];
  text: string;
}

async function deliver(
  mode: BackendMode,
  overrides: Partial<AssistantHttpOptions> = {},
  turnId = 'turn_1',
  signal = new AbortController().signal,
): Promise<Run> {
  await backend.setMode(mode);
  const pieces: string[] = [];
  const end = await deliverTurn(
    options(overrides),
    turnId,
    { ...TURN, turn_id: turnId },
    (t) => {
      pieces.push(t);
    },
    signal,
  );
  return { end, pieces, text: pieces.join('') };
}

const last = () => backend.requests.at(-1)!;

/** True when every piece is one or more consecutive `deltas`, joined, and the pieces cover them all. */
function deltaRuns(pieces: readonly string[], deltas: readonly string[]): boolean {
  let at = 0;
  for (const piece of pieces) {
    let run = '';
    while (run.length < piece.length && at < deltas.length) run += deltas[at++];
    if (run !== piece) return false;
  }
  return at === deltas.length;
}

describe('a 200 answer is read by its content type', () => {
  test('an AI SDK UI message stream: the deltas in order, finish → complete, signed and verified', async () => {
    const text = 'Bonjour, ça va? 👋 Fine — thanks.';
    const run = await deliver({ kind: 'sse', text, deltas: 7, end: 'finish' });
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.text).toBe(text);
    // The deltas of one read arrive joined (docs/decisions.md "Deltas merged per read of the
    // answer"): each piece is a run of whole deltas, in order.
    expect(deltaRuns(run.pieces, splitText(text, 7))).toBe(true);
    const request = last();
    expect(request.verified).toBe(true);
    expect(request.headers['webhook-id']).toBe('turn_1');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('text/event-stream, text/plain, application/json');
    expect(request.headers['user-agent']).toMatch(/^lifeline\/\d+\.\d+\.\d+/);
    expect(request.body).toEqual(TURN);
  });

  test('data: [DONE] completes; a clean end of stream after text completes too', async () => {
    expect((await deliver({ kind: 'sse', text: 'done', end: 'done' })).end.kind).toBe('complete');
    const eof = await deliver({ kind: 'sse', text: 'no finish part', end: 'eof' });
    expect(eof.end.kind).toBe('complete');
    expect(eof.text).toBe('no finish part');
  });

  test('an error part fails with its errorText; an abort part cancels', async () => {
    const error = await deliver({
      kind: 'sse-parts',
      parts: [
        { type: 'text-delta', id: 't', delta: 'par' },
        { type: 'error', errorText: 'model overloaded' },
      ],
    });
    expect(error.end).toEqual({
      kind: 'failed',
      code: 'assistant_error',
      message: 'model overloaded',
    });
    expect(error.text).toBe('par');
    const abort = await deliver({
      kind: 'sse-parts',
      parts: [{ type: 'text-delta', id: 't', delta: 'half' }, { type: 'abort' }],
    });
    expect(abort.end).toEqual({ kind: 'cancelled' });
  });

  test('message metadata from start / message-metadata / finish parts comes back with complete', async () => {
    const run = await deliver({
      kind: 'sse-parts',
      parts: [
        { type: 'start', messageMetadata: { model: 'm1' } },
        { type: 'text-delta', id: 't', delta: 'x' },
        { type: 'message-metadata', messageMetadata: { tokens: 3 } },
        { type: 'finish', messageMetadata: { finishReason: 'stop' } },
      ],
    });
    expect(run.end).toEqual({
      kind: 'complete',
      metadata: { model: 'm1', tokens: 3, finishReason: 'stop' },
    });
  });

  test('text/plain streams as it arrives; application/json is the whole reply with metadata', async () => {
    const plain = await deliver({ kind: 'text', text: 'plain words here', chunks: 3, delayMs: 5 });
    expect(plain.end.kind).toBe('complete');
    expect(plain.text).toBe('plain words here');
    expect(plain.pieces.length).toBeGreaterThan(1);
    const json = await deliver({
      kind: 'json',
      content: 'all at once',
      metadata: { source: 'celery' },
    });
    expect(json.end).toEqual({ kind: 'complete', metadata: { source: 'celery' } });
    expect(json.pieces).toEqual(['all at once']);
  });

  test('a 200 with no text at all is empty; an unknown content type or a charset other than UTF-8 is a bad answer', async () => {
    expect((await deliver({ kind: 'text', text: '' })).end).toEqual({ kind: 'empty' });
    const html = await deliver({ kind: 'raw', contentType: 'text/html', chunks: ['<p>hi</p>'] });
    expect(html.end).toMatchObject({ kind: 'failed', code: 'bad_answer' });
    expect(html.text).toBe('');
    const latin = await deliver({
      kind: 'text',
      text: 'x',
      contentType: 'text/plain; charset=iso-8859-1',
    });
    expect(latin.end).toMatchObject({ kind: 'failed', code: 'bad_answer' });
  });
});

describe('status classes', () => {
  test('202 → deferred, 204 → empty', async () => {
    expect((await deliver({ kind: 'deferred' })).end).toEqual({ kind: 'deferred' });
    expect((await deliver({ kind: 'empty' })).end).toEqual({ kind: 'empty' });
  });

  test('408, 425, 429 and 5xx → unavailable with Retry-After parsed (seconds or an HTTP-date)', async () => {
    // Whole seconds (an HTTP-date has no finer unit), near the real clock (the signature has a 5 min tolerance).
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (const status of [408, 425, 429, 500, 502, 503]) {
      const run = await deliver({ kind: 'status', status, retryAfter: '7' });
      expect(run.end).toMatchObject({ kind: 'unavailable', status, retryAfterMs: 7000 });
    }
    const dated = await deliver(
      { kind: 'status', status: 503, retryAfter: new Date(now + 30_000).toUTCString() },
      { nowMs: () => now },
    );
    expect(dated.end).toMatchObject({ kind: 'unavailable', retryAfterMs: 30_000 });
    const junk = await deliver({ kind: 'status', status: 503, retryAfter: 'soon' });
    expect(junk.end).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(junk.end).not.toHaveProperty('retryAfterMs');
  });

  test('other 4xx (409 too) → failed rejected with the status and the body’s reason', async () => {
    for (const status of [400, 403, 404, 409, 422]) {
      const run = await deliver({ kind: 'status', status, body: `{"message":"nope ${status}"}` });
      expect(run.end).toEqual({
        kind: 'failed',
        code: 'rejected',
        status,
        message: `the assistant rejected the turn: HTTP ${status} nope ${status}`,
      });
    }
  });

  test('a redirect is not followed: bad answer', async () => {
    await backend.setMode({ kind: 'empty' });
    const redirect = await startAssistantBackend(
      SECRET,
      () => new Response(null, { status: 302, headers: { location: backend.url } }),
    );
    const before = backend.requests.length;
    const end = await deliverTurn(
      options({ url: redirect.url }),
      'turn_r',
      TURN,
      () => {},
      new AbortController().signal,
    );
    await redirect.stop();
    expect(end).toMatchObject({ kind: 'failed', code: 'bad_answer', status: 302 });
    expect(backend.requests.length).toBe(before);
  });
});

describe('signatures', () => {
  test('the backend verifies with the library; a wrong secret gets its 401 → rejected, the secret in no message', async () => {
    const rejectedBefore = backend.rejected.length;
    const run = await deliver({ kind: 'sse', text: 'never' }, { secret: OTHER_SECRET });
    expect(run.end).toMatchObject({ kind: 'failed', code: 'rejected', status: 401 });
    expect(backend.rejected.length).toBe(rejectedBefore + 1);
    expect(JSON.stringify(run.end)).not.toContain(OTHER_SECRET.slice(6));
    const unusable = await deliver({ kind: 'sse', text: 'never' }, { secret: 'whsec_' });
    expect(unusable.end).toMatchObject({ kind: 'failed', code: 'rejected' });
  });

  test('webhook-id is the turn id on every attempt (the backend’s idempotency key)', async () => {
    await deliver({ kind: 'status', status: 503 }, {}, 'turn_same');
    await deliver({ kind: 'sse', text: 'second try' }, {}, 'turn_same');
    const [first, second] = backend.requests.slice(-2);
    expect(first!.verified && second!.verified).toBe(true);
    expect(first!.headers['webhook-id']).toBe('turn_same');
    expect(second!.headers['webhook-id']).toBe('turn_same');
  });

  test('ping and turn.cancelled are signed too', async () => {
    await backend.setMode({ kind: 'empty' });
    expect(await pingAssistant(options(), new AbortController().signal)).toEqual({ ok: true });
    expect(last().body).toEqual({ type: 'ping' });
    expect(last().verified).toBe(true);
    expect(await announceCancel(options(), 'turn_9', new AbortController().signal)).toEqual({
      ok: true,
    });
    expect(last().body).toEqual({ type: 'turn.cancelled', turn_id: 'turn_9' });
    expect(last().headers['webhook-id']).toBe('turn_9.cancelled');
    expect(last().verified).toBe(true);
    const bad = await pingAssistant(
      options({ secret: OTHER_SECRET }),
      new AbortController().signal,
    );
    expect(bad).toMatchObject({ ok: false, status: 401 });
  });
});

describe('failures of the connection and the clock', () => {
  test('down (connection refused) → unavailable; back up → complete', async () => {
    const down = await deliver({ kind: 'down' });
    expect(down.end).toMatchObject({ kind: 'unavailable' });
    expect((await pingAssistant(options(), new AbortController().signal)).ok).toBe(false);
    const up = await deliver({ kind: 'sse', text: 'back' });
    expect(up.end.kind).toBe('complete');
  });

  test('no response headers within first_byte_timeout_ms → unavailable, and the backend sees us leave', async () => {
    const run = await deliver({ kind: 'no-headers' }, { firstByteTimeoutMs: 200 });
    expect(run.end).toEqual({
      kind: 'unavailable',
      message: 'the assistant sent no response headers within 200 ms',
    });
    await last().abortedPromise;
    expect(last().aborted).toBe(true);
  });

  test('a stall after the headers → failed idle_timeout, the partial text kept, the socket released', async () => {
    const text = 'one two three four five six';
    const run = await deliver({ kind: 'stall', chunks: 2, text }, { idleTimeoutMs: 300 });
    expect(run.end).toMatchObject({ kind: 'failed', code: 'idle_timeout' });
    expect(run.text).toBe(splitText(text, 3).slice(0, 2).join(''));
    await last().abortedPromise;
    expect(last().aborted).toBe(true);
  });

  test('a connection cut mid-stream → unavailable (the caller retries)', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n',
        );
        const event = sseEvent({ type: 'text-delta', id: 't', delta: 'partial' });
        socket.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
        setTimeout(() => socket.destroy(), 50);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const pieces: string[] = [];
    const end = await deliverTurn(
      options({ url: `http://127.0.0.1:${port}/` }),
      'turn_cut',
      TURN,
      (t) => {
        pieces.push(t);
      },
      new AbortController().signal,
    );
    server.close();
    expect(end).toMatchObject({ kind: 'unavailable' });
    expect(pieces).toEqual(['partial']);
  });
});

describe('limits and cancellation', () => {
  test('reply text over max_reply_bytes → too_large, nothing past the limit passed on', async () => {
    // Ten deltas of 1,000 bytes: four fit in 4,096, the fifth would cross and is not passed on.
    const run = await deliver({ kind: 'too-large', bytes: 10_000 }, { maxReplyBytes: 4096 });
    expect(run.end).toMatchObject({ kind: 'failed', code: 'too_large' });
    expect(run.text).toBe('x'.repeat(4000));
  });

  test('an SSE line longer than max_reply_bytes + 64 KiB → too_large, without buffering it all', async () => {
    const huge = `data: {"type":"text-delta","id":"t","delta":"${'y'.repeat(2048)}`;
    const chunks = Array.from({ length: 60 }, (_, i) => (i === 0 ? huge : 'z'.repeat(2048)));
    const run = await deliver(
      { kind: 'raw', contentType: 'text/event-stream', chunks },
      { maxReplyBytes: 2048 },
    );
    expect(run.end).toMatchObject({ kind: 'failed', code: 'too_large' });
    expect(run.text).toBe('');
  });

  test('our signal aborts the stream: aborted, and the backend sees the client go away', async () => {
    await backend.setMode({ kind: 'sse', text: 'word '.repeat(200), deltas: 200, delayMs: 20 });
    const controller = new AbortController();
    const pieces: string[] = [];
    const end = await deliverTurn(
      options(),
      'turn_cancel',
      TURN,
      (t) => {
        pieces.push(t);
        if (pieces.length === 3) controller.abort();
      },
      controller.signal,
    );
    expect(end).toEqual({ kind: 'aborted' });
    expect(pieces.length).toBe(3);
    const request = last();
    await request.abortedPromise;
    // The backend saw the socket close long before its 4 s stream would have ended.
    expect(request.aborted).toBe(true);
  });

  test('our signal while waiting for the headers: aborted at once, not at the first-byte timeout', async () => {
    await backend.setMode({ kind: 'no-headers' });
    const before = backend.requests.length;
    const controller = new AbortController();
    const pending = deliverTurn(
      options({ firstByteTimeoutMs: 600_000 }),
      'turn_wait',
      TURN,
      () => {},
      controller.signal,
    );
    while (backend.requests.length === before) await Bun.sleep(5);
    controller.abort();
    expect(await pending).toEqual({ kind: 'aborted' });
    await last().abortedPromise;
    expect(last().aborted).toBe(true);
  });

  test('an already-aborted signal sends nothing', async () => {
    const before = backend.requests.length;
    const controller = new AbortController();
    controller.abort();
    const end = await deliverTurn(options(), 'turn_x', TURN, () => {}, controller.signal);
    expect(end).toEqual({ kind: 'aborted' });
    expect(backend.requests.length).toBe(before);
  });
});

describe('bodies split at awkward byte boundaries', () => {
  test('a multi-byte character across chunks, a data: line across chunks, CRLF across chunks', async () => {
    const event = Buffer.from(
      `data: {"type":"text-delta","id":"t","delta":"é👋ü"}\r\n\r\ndata: {"type":"text-delta","id":"t","delta":"漢字"}\r\n\r\ndata: {"type":"finish"}\r\n\r\n`,
    );
    const cuts = [3, 10, 45, 47, 50, 52, 53, 54, 80, 96, 97];
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const cut of [...cuts, event.length]) {
      chunks.push(event.subarray(at, cut));
      at = cut;
    }
    const run = await deliver({
      kind: 'raw',
      contentType: 'text/event-stream',
      chunks,
      delayMs: 2,
    });
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.text).toBe('é👋ü漢字');
  });

  test('text/plain: every onText piece is whole characters, never a replacement character', async () => {
    const bytes = Buffer.from('añ👋漢b');
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    const run = await deliver({ kind: 'raw', contentType: 'text/plain', chunks, delayMs: 1 });
    expect(run.text).toBe('añ👋漢b');
    for (const piece of run.pieces)
      expect(piece.isWellFormed() && !piece.includes('\uFFFD')).toBe(true);
  });
});

describe('a producer nobody here wrote: the AI SDK', () => {
  test('streamText over the mock model, toUIMessageStreamResponse(): exactly the model’s text', async () => {
    const deltas = ['Hello', ', ', 'wörld', ' 👋', '\n', 'second line.'];
    const ai = startAiBackend(SECRET, deltas, 2);
    const pieces: string[] = [];
    const end = await deliverTurn(
      options({ url: ai.url }),
      'turn_ai',
      TURN,
      (t) => {
        pieces.push(t);
      },
      new AbortController().signal,
    );
    await ai.stop();
    expect(end.kind).toBe('complete');
    expect(pieces).toEqual(deltas);
    expect(ai.bodies).toEqual([TURN]);
    expect(ai.rejected).toBe(0);
  });

  test('the AI SDK assistant rejects a wrong signature with 401 → rejected', async () => {
    const ai = startAiBackend(SECRET, ['never']);
    const end = await deliverTurn(
      options({ url: ai.url, secret: OTHER_SECRET }),
      'turn_ai2',
      TURN,
      () => {},
      new AbortController().signal,
    );
    await ai.stop();
    expect(end).toMatchObject({ kind: 'failed', code: 'rejected', status: 401 });
    expect(ai.rejected).toBe(1);
  });
});
