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

const ABORTED: Chunk = { kind: 'aborted' };
const EOF: Chunk = { kind: 'eof' };

/**
 * The reads of one body under one idle timer and one abort listener for the whole body (not a
 * timer, a listener and a race per chunk): the timer is re-armed on each read and only counts
 * while a read waits; when it fires, or the signal does, the reader is cancelled, which settles
 * the read in progress.
 */
class BodyReads {
  private stopped: Chunk | undefined;
  private reading = false;
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onAbort = () => this.stop(ABORTED);

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    idleMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      // Time spent handling a chunk (the caller's awaits) is not the assistant's silence.
      if (this.reading)
        this.stop(failed('idle_timeout', `the assistant sent nothing for ${idleMs} ms`));
      else this.timer.refresh();
    }, idleMs);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next chunk, or why there is none. */
  async next(): Promise<Chunk> {
    if (this.signal.aborted) this.stop(ABORTED);
    if (this.stopped !== undefined) return this.stopped;
    this.timer.refresh();
    this.reading = true;
    try {
      const result = await this.reader.read();
      if (this.stopped !== undefined) return this.stopped;
      return result.done ? EOF : { kind: 'bytes', bytes: result.value };
    } catch (error) {
      if (this.stopped !== undefined) return this.stopped;
      if (this.signal.aborted) return ABORTED;
      return { kind: 'unavailable', message: `the answer was cut: ${errorText(error)}` };
    } finally {
      this.reading = false;
    }
  }

  /** Clears the timer and the listener and releases the body. */
  close(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
    this.reader.cancel().catch(() => {});
  }

  private stop(why: Chunk): void {
    if (this.stopped !== undefined) return;
    this.stopped = why;
    this.reader.cancel().catch(() => {});
  }
}

/**
 * Parses an answer body of `contentType` (the deferred upload route uses this as is). Returns
 * how it ended; `onText` gets every piece of reply text, in order, none past the limit: the
 * pieces parsed from one read of the body are joined into one call (docs/decisions.md "Deltas
 * merged per read of the answer").
 */
export async function readAnswer(
  contentType: string | null,
  body: ReadableStream<Uint8Array>,
  limits: AnswerLimits,
  onText: OnText,
  signal: AbortSignal,
): Promise<AttemptEnd> {
  const reads = new BodyReads(body.getReader(), limits.idleTimeoutMs, signal);
  try {
    const budget = new TextBudget(limits.maxReplyBytes, onText);
    const parser = parserFor(contentType, limits, budget);
    if ('kind' in parser) return parser;
    for (;;) {
      const chunk = await reads.next();
      if (chunk.kind !== 'bytes' && chunk.kind !== 'eof') return chunk;
      const end = chunk.kind === 'eof' ? parser.finish() : parser.feed(chunk.bytes);
      // The text of the chunk goes on before its end: parts before a finish, an error or a
      // part over the limit in the same read reach the tabs as if they had come alone.
      await budget.flush();
      if (end !== undefined) return end;
    }
  } finally {
    reads.close();
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
  budget: TextBudget,
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
    feed(bytes) {
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: true });
      } catch {
        return failed('bad_answer', NOT_UTF8);
      }
      return budget.push(text);
    },
    finish() {
      let rest: string;
      try {
        rest = decoder.decode();
      } catch {
        return failed('bad_answer', NOT_UTF8);
      }
      return budget.push(rest) ?? budget.end();
    },
  };
}

/** `application/json`: `{content: string, metadata?: object}`, the whole reply at once. */
function jsonParser(maxBodyBytes: number, budget: TextBudget): BodyParser {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    feed(bytes) {
      size += bytes.byteLength;
      if (size > maxBodyBytes) {
        return failed('bad_answer', `the JSON answer is longer than ${maxBodyBytes} bytes`);
      }
      chunks.push(bytes);
      return undefined;
    },
    finish() {
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
      return budget.push(answer.content) ?? budget.end(metadata);
    },
  };
}
