/**
 * readAnswer (src/assistant/answer-stream.ts), the parser both a turn's answer and a deferred
 * upload go through: each content type from a byte stream, the limits, an abort, and a fast-check
 * property — any split of an SSE body into chunks, with any line endings, gives the same text.
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { type AttemptEnd, readAnswer } from '../../src/assistant/answer-stream.ts';
import { sseEvent, uiParts } from '../support/assistant-backend.ts';

const LIMITS = { maxReplyBytes: 1024 * 1024, idleTimeoutMs: 5000 };

function streamOf(chunks: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function read(
  contentType: string | null,
  chunks: Array<string | Uint8Array>,
  limits = LIMITS,
  signal = new AbortController().signal,
): Promise<{ end: AttemptEnd; text: string; pieces: string[] }> {
  const pieces: string[] = [];
  const end = await readAnswer(
    contentType,
    streamOf(chunks),
    limits,
    (t) => {
      pieces.push(t);
    },
    signal,
  );
  return { end, text: pieces.join(''), pieces };
}

/** `bytes` cut at the given offsets (sorted, deduplicated, inside the body). */
function cutAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > at) chunks.push(bytes.subarray(at, cut));
    at = Math.max(at, cut);
  }
  return chunks;
}

describe('readAnswer by content type', () => {
  test('text/event-stream: text-delta parts; comments, event:/id: lines and unknown parts ignored', async () => {
    const body = [
      ': keep-alive\n\n',
      'event: message\nid: 1\ndata: {"type":"start"}\n\n',
      sseEvent({ type: 'reasoning-delta', id: 'r', delta: 'thinking…' }),
      sseEvent({ type: 'text-delta', id: 't', delta: 'visible' }),
      sseEvent({ type: 'data-weather', data: { c: 21 } }),
      sseEvent({ type: 'finish' }),
      sseEvent({ type: 'text-delta', id: 't', delta: 'after finish' }),
    ];
    const run = await read('text/event-stream; charset=utf-8', body);
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.text).toBe('visible');
  });

  test('text/event-stream: data: [DONE] alone completes; the space after data: is optional', async () => {
    const run = await read('text/event-stream', [
      'data:{"type":"text-delta","id":"t","delta":"a"}\n\n',
      'data: {"type":"text-delta","id":"t","delta":"b"}\n\n',
      'data: [DONE]\n\n',
      'data: {"type":"text-delta","id":"t","delta":"after done"}\n\n',
    ]);
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.text).toBe('ab');
  });

  test('text/event-stream: a line that never ends stops the read at the bound, not at the end of the body', async () => {
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(
          new TextEncoder().encode(
            pulls === 1 ? 'data: {"type":"text-delta","delta":"' : 'z'.repeat(4096),
          ),
        );
      },
    });
    const end = await readAnswer(
      'text/event-stream',
      endless,
      { maxReplyBytes: 4096, idleTimeoutMs: 5000 },
      () => {},
      new AbortController().signal,
    );
    expect(end).toMatchObject({ kind: 'failed', code: 'too_large' });
    // 4 KiB + 64 KiB of line is 17 chunks of 4 KiB: the read stops there (and cancels the body).
    expect(pulls).toBeLessThan(25);
  });

  test('text/event-stream: a data line that is not JSON, or a part without a string delta, is a bad answer', async () => {
    expect((await read('text/event-stream', ['data: hello\n\n'])).end).toMatchObject({
      kind: 'failed',
      code: 'bad_answer',
    });
    expect(
      (await read('text/event-stream', [sseEvent({ type: 'text-delta', id: 't', delta: 5 })])).end,
    ).toMatchObject({ kind: 'failed', code: 'bad_answer' });
  });

  test('text/event-stream: a stream with parts but no text is empty', async () => {
    const run = await read('text/event-stream', uiParts([]).map(sseEvent));
    expect(run.end).toEqual({ kind: 'empty' });
  });

  test('text/plain: the body as it streams; invalid UTF-8 is a bad answer', async () => {
    const run = await read('text/plain', ['one ', 'two']);
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.pieces).toEqual(['one ', 'two']);
    const bad = await read('text/plain', ['ok ', Uint8Array.of(0xff, 0xfe)]);
    expect(bad.end).toMatchObject({ kind: 'failed', code: 'bad_answer' });
  });

  test('application/json: {content, metadata?}; anything else, or a body over the bound, is a bad answer', async () => {
    const ok = await read('application/json', ['{"content":"hi",', '"metadata":{"a":1}}']);
    expect(ok.end).toEqual({ kind: 'complete', metadata: { a: 1 } });
    expect(ok.text).toBe('hi');
    for (const body of ['{"text":"hi"}', '[1]', 'not json', '{"content":"x","metadata":[1]}']) {
      expect((await read('application/json', [body])).end).toMatchObject({
        kind: 'failed',
        code: 'bad_answer',
      });
    }
    const limits = { maxReplyBytes: 1024, idleTimeoutMs: 5000 };
    const huge = `{"content":"${'a'.repeat(70 * 1024)}"}`;
    expect((await read('application/json', [huge], limits)).end).toMatchObject({
      kind: 'failed',
      code: 'bad_answer',
    });
    const long = `{"content":"${'a'.repeat(2000)}"}`;
    const tooLong = await read('application/json', [long], limits);
    expect(tooLong.end).toMatchObject({ kind: 'failed', code: 'too_large' });
    expect(tooLong.text).toBe('');
  });

  test('no content type, or an unknown one, is a bad answer that names what to send', async () => {
    const run = await read(null, ['x']);
    expect(run.end).toEqual({
      kind: 'failed',
      code: 'bad_answer',
      message:
        'the answer has no content type; send text/event-stream, text/plain or application/json',
    });
  });

  test('an aborted signal ends the read: aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await read('text/plain', ['x'], LIMITS, controller.signal)).end).toEqual({
      kind: 'aborted',
    });
  });

  test('a body that stops sending: idle_timeout, and the stream is cancelled', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('partial'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const pieces: string[] = [];
    const end = await readAnswer(
      'text/plain',
      body,
      { maxReplyBytes: 1024, idleTimeoutMs: 100 },
      (t) => {
        pieces.push(t);
      },
      new AbortController().signal,
    );
    expect(end).toMatchObject({ kind: 'failed', code: 'idle_timeout' });
    expect(pieces).toEqual(['partial']);
    expect(cancelled).toBe(true);
  });
});

describe('the deltas of one read of the body reach onText joined', () => {
  const delta = (text: string) => sseEvent({ type: 'text-delta', id: 't', delta: text });

  test('several text-delta events in one chunk are one piece; chunks stay apart, in order', async () => {
    const run = await read('text/event-stream', [
      `${delta('a')}${delta('b')}${delta('c')}`,
      delta('d'),
      `${delta('e')}: comment\n\n${delta('f')}${sseEvent({ type: 'finish' })}`,
    ]);
    expect(run.end).toEqual({ kind: 'complete' });
    expect(run.pieces).toEqual(['abc', 'd', 'ef']);
  });

  test('an event cut across two chunks belongs to the read that completes it', async () => {
    const second = delta('y');
    const run = await read('text/event-stream', [
      `${delta('x')}${second.slice(0, 10)}`,
      `${second.slice(10)}${delta('z')}`,
    ]);
    expect(run.pieces).toEqual(['x', 'yz']);
  });

  test('a part over max_reply_bytes in the middle of a read: the text before it is passed, joined, then too_large', async () => {
    const run = await read(
      'text/event-stream',
      [`${delta('12345')}${delta('678')}${delta('9abcdef')}${delta('never')}`],
      { maxReplyBytes: 10, idleTimeoutMs: 5000 },
    );
    expect(run.end).toMatchObject({ kind: 'failed', code: 'too_large' });
    expect(run.pieces).toEqual(['12345678']);
  });

  test('an error part after text in the same read: the text is passed first', async () => {
    const run = await read('text/event-stream', [
      `${delta('partial ')}${delta('text')}${sseEvent({ type: 'error', errorText: 'model failed' })}`,
    ]);
    expect(run.end).toMatchObject({
      kind: 'failed',
      code: 'assistant_error',
      message: 'model failed',
    });
    expect(run.pieces).toEqual(['partial text']);
  });

  test('a line of multi-byte characters is bounded by its UTF-8 bytes, not its characters', async () => {
    // 34,000 × "é" is 68,000 bytes (over 1 KiB + 64 KiB) in 34,000 UTF-16 units (under it).
    const line = `data: {"type":"text-delta","delta":"${'é'.repeat(34_000)}"}`;
    const run = await read('text/event-stream', [line], {
      maxReplyBytes: 1024,
      idleTimeoutMs: 5000,
    });
    expect(run.end).toMatchObject({ kind: 'failed', code: 'too_large' });
    expect(run.pieces).toEqual([]);
  });
});

describe('one idle timer for the whole body', () => {
  test('time spent handling a chunk is not the assistant’s silence: a slow onText does not time out', async () => {
    const pieces: string[] = [];
    const end = await readAnswer(
      'text/plain',
      streamOf(['one ', 'two ', 'three']),
      { maxReplyBytes: 1024, idleTimeoutMs: 40 },
      async (t) => {
        pieces.push(t);
        await Bun.sleep(100);
      },
      new AbortController().signal,
    );
    expect(end).toEqual({ kind: 'complete' });
    expect(pieces).toEqual(['one ', 'two ', 'three']);
  });

  test('an abort while a read waits settles it at once: aborted, and the body is cancelled', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('so far'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const pieces: string[] = [];
    const end = await readAnswer(
      'text/plain',
      body,
      { maxReplyBytes: 1024, idleTimeoutMs: 60_000 },
      (t) => {
        pieces.push(t);
        setTimeout(() => controller.abort(), 0);
      },
      controller.signal,
    );
    expect(end).toEqual({ kind: 'aborted' });
    expect(pieces).toEqual(['so far']);
    expect(cancelled).toBe(true);
  });
});

describe('property: any split of an SSE body gives the same text', () => {
  const deltaArb = fc.string({ unit: 'binary', minLength: 0, maxLength: 12 });
  const endingArb = fc.constantFrom('\n', '\r\n', '\r');

  /** One event; `multiLine` spreads the part's JSON over several `data:` lines (joined with LF). */
  function event(part: unknown, ending: string, multiLine: boolean): string {
    const json = multiLine ? JSON.stringify(part, null, 1) : JSON.stringify(part);
    return `${json
      .split('\n')
      .map((line) => `data: ${line}${ending}`)
      .join('')}${ending}`;
  }

  test('deltas, line endings, data lines per event and cut offsets arbitrary → the same complete text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(deltaArb, { minLength: 1, maxLength: 12 }),
        endingArb,
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (deltas, ending, multiLine, offsets) => {
          const body = uiParts(deltas)
            .map((part) => event(part, ending, multiLine))
            .join('');
          const chunks = cutAt(new TextEncoder().encode(body), offsets);
          const run = await read('text/event-stream', chunks);
          const expected = deltas.join('');
          expect(run.text).toBe(expected);
          expect(run.end.kind).toBe(expected === '' ? 'empty' : 'complete');
        },
      ),
      { numRuns: 300 },
    );
  });
});
