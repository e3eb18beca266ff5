/**
 * @module `text/event-stream` answers: the AI SDK UI message stream (docs/protocol.md "Assistant
 * replies"). `text-delta` parts carry the text, `finish` and `data: [DONE]` complete it, `error`
 * fails it with its `errorText`, `abort` cancels it; every other part is ignored.
 */
import { utf8Bytes } from '../lib/text.ts';
import {
  type AttemptEnd,
  type BodyParser,
  type Failed,
  failed,
  isRecord,
  NOT_UTF8,
  type TextBudget,
} from './answer-types.ts';

const LF = 10;
const COLON = 58;
const SPACE = 32;

/**
 * `text/event-stream` carrying AI SDK UI message stream parts. Lines end in CRLF, LF or CR (a CR
 * at the end of a chunk swallows an LF that starts the next); `data:` lines of one event are
 * joined with LF and the event is handled at the blank line; other fields and comments are
 * ignored. The line being read and the event's data are each bounded by `maxLineBytes`.
 *
 * The hot path of every streamed reply: lines are found with `indexOf` (the CR search only runs
 * for a chunk that holds a CR), and UTF-8 bytes are counted only once a line or an event could
 * reach the bound (a UTF-16 unit is at most 3 bytes). Parsing is synchronous: the text of the
 * parts goes to the budget, which the reader flushes once per chunk.
 */
export class SseParser implements BodyParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private line = '';
  /** Exact UTF-8 bytes of `line`, or -1 while it is surely within the bound. */
  private lineBytes = -1;
  private data: string[] = [];
  /** Characters of the event's data (its lines and the LFs between them). */
  private dataChars = 0;
  /** Exact UTF-8 bytes of the event's data, or -1 while it is surely within the bound. */
  private dataBytes = -1;
  private skipLf = false;
  private metadata: Record<string, unknown> | undefined;

  constructor(
    private readonly maxLineBytes: number,
    private readonly budget: TextBudget,
  ) {}

  feed(bytes: Uint8Array): AttemptEnd | undefined {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      return failed('bad_answer', NOT_UTF8);
    }
    return this.scan(text);
  }

  finish(): AttemptEnd {
    let rest: string;
    try {
      rest = this.decoder.decode();
    } catch {
      return failed('bad_answer', NOT_UTF8);
    }
    // A last line or event without its terminator still counts: the body ended cleanly.
    return this.scan(`${rest}\n\n`) ?? this.budget.end(this.metadata);
  }

  private scan(text: string): AttemptEnd | undefined {
    let start = 0;
    if (this.skipLf && text !== '') {
      if (text.charCodeAt(0) === LF) start = 1;
      this.skipLf = false;
    }
    // Position of the next CR at or after `start`; -1 when none is left in this chunk.
    let cr = text.indexOf('\r', start);
    for (;;) {
      let end = text.indexOf('\n', start);
      let next = end + 1;
      if (cr !== -1 && (end === -1 || cr < end)) {
        end = cr;
        next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        if (cr + 1 === text.length) this.skipLf = true;
        cr = text.indexOf('\r', next);
      }
      if (end === -1) break;
      const piece = text.slice(start, end);
      start = next;
      if (this.lineSize(piece) > this.maxLineBytes) return this.lineTooLong();
      const line = this.line === '' ? piece : this.line + piece;
      this.line = '';
      this.lineBytes = -1;
      const ended = this.onLine(line);
      if (ended !== undefined) return ended;
    }
    const tail = text.slice(start);
    const size = this.lineSize(tail);
    if (size > this.maxLineBytes) return this.lineTooLong();
    this.line += tail;
    this.lineBytes = size;
    return undefined;
  }

  /** UTF-8 bytes of the line held plus `piece`, or -1 while that is surely within the bound. */
  private lineSize(piece: string): number {
    if (this.lineBytes < 0 && (this.line.length + piece.length) * 3 <= this.maxLineBytes) return -1;
    if (this.lineBytes < 0) this.lineBytes = utf8Bytes(this.line);
    return this.lineBytes + utf8Bytes(piece);
  }

  private lineTooLong(): Failed {
    return failed('too_large', `an event-stream line is longer than ${this.maxLineBytes} bytes`);
  }

  private onLine(line: string): AttemptEnd | undefined {
    if (line === '') {
      if (this.data.length === 0) return undefined;
      const data = this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n');
      this.data = [];
      this.dataChars = 0;
      this.dataBytes = -1;
      return this.onEvent(data);
    }
    if (line.charCodeAt(0) === COLON) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    return this.addData(value);
  }

  /** One more data line of the event, within the bound on the event's data. */
  private addData(value: string): Failed | undefined {
    this.dataChars += value.length + 1;
    if (this.dataBytes >= 0) this.dataBytes += utf8Bytes(value) + 1;
    else if (this.dataChars * 3 > this.maxLineBytes) {
      const own = utf8Bytes(value) + 1;
      this.dataBytes = this.data.reduce((sum, held) => sum + utf8Bytes(held) + 1, own);
    }
    this.data.push(value);
    if (this.dataBytes >= 0 && this.dataBytes > this.maxLineBytes) return this.lineTooLong();
    return undefined;
  }

  /** One UI message stream part. */
  private onEvent(data: string): AttemptEnd | undefined {
    if (data === '[DONE]') return this.budget.end(this.metadata);
    let part: unknown;
    try {
      part = JSON.parse(data);
    } catch {
      return failed(
        'bad_answer',
        'an event-stream data line is not JSON (expected a UI message stream part)',
      );
    }
    if (!isRecord(part) || typeof part.type !== 'string') {
      return failed('bad_answer', 'an event-stream part has no "type"');
    }
    return this.onPart(part);
  }

  private onPart(part: Record<string, unknown>): AttemptEnd | undefined {
    if (isRecord(part.messageMetadata))
      this.metadata = { ...this.metadata, ...part.messageMetadata };
    switch (part.type) {
      case 'text-delta':
        if (typeof part.delta !== 'string')
          return failed('bad_answer', 'a text-delta part has no string "delta"');
        return this.budget.push(part.delta);
      case 'finish':
        return this.budget.end(this.metadata);
      case 'error':
        return failed(
          'assistant_error',
          typeof part.errorText === 'string' && part.errorText !== ''
            ? part.errorText
            : 'the assistant sent an error part',
        );
      case 'abort':
        return { kind: 'cancelled' };
      default:
        // start, text-start/-end, reasoning, tools, sources, data-*, … carry no reply text.
        return undefined;
    }
  }
}
