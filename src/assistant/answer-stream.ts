/**
 * @module Reading an assistant's answer body (docs/protocol.md "Assistant replies",
 * docs/decisions.md "The HTTP assistant backend"): the AI SDK UI message stream
 * (`text/event-stream`), `text/plain` as it streams, or one `application/json` object. The same
 * rules serve the answer to a turn request and a deferred upload. Every read is bounded: text by
 * `maxReplyBytes`, one SSE line or event (and a JSON body) by `maxReplyBytes` + 64 KiB, and the
 * wait for each chunk by `idleTimeoutMs`. The body is always released (`reader.cancel()`).
 */

import {
  type AnswerLimits,
  type AttemptEnd,
  type BodyParser,
  errorText,
  type Failed,
  FRAMING_SLACK_BYTES,
  failed,
  isRecord,
  NOT_UTF8,
  type OnText,
  TextBudget,
} from './answer-types.ts';
import { SseParser } from './sse-answer.ts';

export type { AnswerLimits, AttemptEnd, OnText } from './answer-types.ts';

/** One read from the body: bytes, the end, or why there are none. */
type Chunk =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'eof' }
  | Extract<AttemptEnd, { kind: 'aborted' | 'failed' | 'unavailable' }>;

/** Reads the next chunk, giving up after `idleMs` without bytes or when `signal` fires. */
async function nextChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
  signal: AbortSignal,
): Promise<Chunk> {
  if (signal.aborted) return { kind: 'aborted' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<Chunk>((resolve) => {
    timer = setTimeout(
      () => resolve(failed('idle_timeout', `the assistant sent nothing for ${idleMs} ms`)),
      idleMs,
    );
    onAbort = () => resolve({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const read = reader.read().then(
    (result): Chunk => (result.done ? { kind: 'eof' } : { kind: 'bytes', bytes: result.value }),
    (error: unknown): Chunk =>
      signal.aborted
        ? { kind: 'aborted' }
        : { kind: 'unavailable', message: `the answer was cut: ${errorText(error)}` },
  );
  try {
    return await Promise.race([read, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
/**
 * Parses an answer body of `contentType` (the deferred upload route uses this as is). Returns
 * how it ended; `onText` gets every piece of reply text, in order, none past the limit.
 */
export async function readAnswer(
  contentType: string | null,
  body: ReadableStream<Uint8Array>,
  limits: AnswerLimits,
  onText: OnText,
  signal: AbortSignal,
): Promise<AttemptEnd> {
  const reader = body.getReader();
  try {
    const parser = parserFor(contentType, limits, onText);
    if ('kind' in parser) return parser;
    for (;;) {
      const chunk = await nextChunk(reader, limits.idleTimeoutMs, signal);
      if (chunk.kind === 'eof') return await parser.finish();
      if (chunk.kind !== 'bytes') return chunk;
      const end = await parser.feed(chunk.bytes);
      if (end !== undefined) return end;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The media type (lower case) and charset of a Content-Type header. */
function mediaTypeOf(contentType: string | null): { type: string; charset?: string } {
  const [type = '', ...params] = (contentType ?? '').split(';');
  const charsetParam = params.map((p) => p.trim()).find((p) => /^charset=/i.test(p));
  const charset = charsetParam?.slice('charset='.length).replace(/^"|"$/g, '').toLowerCase();
  return charset === undefined
    ? { type: type.trim().toLowerCase() }
    : { type: type.trim().toLowerCase(), charset };
}

function parserFor(
  contentType: string | null,
  limits: AnswerLimits,
  onText: OnText,
): BodyParser | Failed {
  const { type, charset } = mediaTypeOf(contentType);
  if (
    charset !== undefined &&
    charset !== 'utf-8' &&
    charset !== 'utf8' &&
    charset !== 'us-ascii'
  ) {
    return failed('bad_answer', `the answer's charset is ${charset}; send UTF-8`);
  }
  const budget = new TextBudget(limits.maxReplyBytes, onText);
  if (type === 'text/event-stream')
    return new SseParser(limits.maxReplyBytes + FRAMING_SLACK_BYTES, budget);
  if (type === 'text/plain') return plainParser(budget);
  if (type === 'application/json')
    return jsonParser(limits.maxReplyBytes + FRAMING_SLACK_BYTES, budget);
  const shown =
    contentType === null ? 'no content type' : `content type "${contentType.slice(0, 100)}"`;
  return failed(
    'bad_answer',
    `the answer has ${shown}; send text/event-stream, text/plain or application/json`,
  );
}
/** `text/plain`: the body is the text, decoded as it streams (a character split across chunks waits). */
function plainParser(budget: TextBudget): BodyParser {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  return {
    async feed(bytes) {
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: true });
      } catch {
        return failed('bad_answer', NOT_UTF8);
      }
      return budget.push(text);
    },
    async finish() {
      let rest: string;
      try {
        rest = decoder.decode();
      } catch {
        return failed('bad_answer', NOT_UTF8);
      }
      return (await budget.push(rest)) ?? budget.end();
    },
  };
}

/** `application/json`: `{content: string, metadata?: object}`, the whole reply at once. */
function jsonParser(maxBodyBytes: number, budget: TextBudget): BodyParser {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    async feed(bytes) {
      size += bytes.byteLength;
      if (size > maxBodyBytes) {
        return failed('bad_answer', `the JSON answer is longer than ${maxBodyBytes} bytes`);
      }
      chunks.push(bytes);
      return undefined;
    },
    async finish() {
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        return failed('bad_answer', 'the JSON answer is not valid JSON');
      }
      const answer = value as { content?: unknown; metadata?: unknown } | null;
      if (typeof answer !== 'object' || answer === null || typeof answer.content !== 'string') {
        return failed(
          'bad_answer',
          'the JSON answer must be an object {content: string, metadata?: object}',
        );
      }
      const { metadata } = answer;
      if (metadata !== undefined && !isRecord(metadata)) {
        return failed('bad_answer', 'the JSON answer’s metadata must be an object');
      }
      return (await budget.push(answer.content)) ?? budget.end(metadata);
    },
  };
}
