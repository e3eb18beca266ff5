/**
 * @module The vocabulary of answer reading (answer-stream.ts, sse-answer.ts): how an attempt
 * ends, the text callback, and the budget that keeps reply text under `maxReplyBytes`.
 */
import { utf8Bytes } from '../lib/text.ts';

/** How one attempt at a turn ended (the caller keeps the text it got through `onText`). */
export type AttemptEnd =
  | { kind: 'complete'; metadata?: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'deferred' }
  | { kind: 'cancelled' }
  | {
      kind: 'failed';
      code: 'rejected' | 'too_large' | 'idle_timeout' | 'assistant_error' | 'bad_answer';
      message: string;
      status?: number;
    }
  | { kind: 'unavailable'; message: string; status?: number; retryAfterMs?: number }
  | { kind: 'aborted' };

/** Receives each piece of reply text; awaited, so a slow consumer slows the read. */
export type OnText = (text: string) => void | Promise<void>;

/** Bounds of one answer read. */
export interface AnswerLimits {
  maxReplyBytes: number;
  idleTimeoutMs: number;
}

/** Room for the framing around the text: SSE part JSON, JSON keys and metadata. */
export const FRAMING_SLACK_BYTES = 64 * 1024;

export type Failed = Extract<AttemptEnd, { kind: 'failed' }>;

/** A failed end with `code`. */
export function failed(code: Failed['code'], message: string, status?: number): Failed {
  return status === undefined
    ? { kind: 'failed', code, message }
    : { kind: 'failed', code, message, status };
}

/** A short, secret-free description of a thrown value. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
/**
 * Counts reply text against `maxReplyBytes` and holds what fits until {@link flush}, so the pieces
 * parsed from one read of the body reach `onText` joined, as one piece (docs/decisions.md
 * "Deltas merged per read of the answer").
 */
export class TextBudget {
  bytes = 0;
  private held = '';
  constructor(
    private readonly maxBytes: number,
    private readonly onText: OnText,
  ) {}

  /** Holds `text`, or returns too_large (holding none of it) when it would cross the limit. */
  push(text: string): Failed | undefined {
    if (text === '') return undefined;
    const size = utf8Bytes(text);
    if (this.bytes + size > this.maxBytes) {
      return failed(
        'too_large',
        `the reply is longer than ${this.maxBytes} bytes (max_reply_bytes)`,
      );
    }
    this.bytes += size;
    this.held += text;
    return undefined;
  }

  /** Passes the text held (the pieces pushed since the last flush, joined) to `onText`. */
  async flush(): Promise<void> {
    if (this.held === '') return;
    const text = this.held;
    this.held = '';
    await this.onText(text);
  }

  /** A stream that ended cleanly: complete, or empty when it carried no text at all. */
  end(metadata?: Record<string, unknown>): AttemptEnd {
    if (this.bytes === 0) return { kind: 'empty' };
    return metadata === undefined ? { kind: 'complete' } : { kind: 'complete', metadata };
  }
}
/** What a parser does with the bytes of the body. */
export interface BodyParser {
  /** Takes one chunk; returns an end to stop reading early. Text goes to the budget, held. */
  feed(bytes: Uint8Array): AttemptEnd | undefined;
  /** The body ended cleanly. */
  finish(): AttemptEnd;
}
export const NOT_UTF8 = 'the answer is not valid UTF-8';
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
