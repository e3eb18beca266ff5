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

const LINE_END = /\r\n|\r|\n/g;

/**
 * `text/event-stream` carrying AI SDK UI message stream parts. Lines end in CRLF, LF or CR (a CR
 * at the end of a chunk swallows an LF that starts the next); `data:` lines of one event are
 * joined with LF and the event is handled at the blank line; other fields and comments are
 * ignored. The line being read and the event's data are each bounded by `maxLineBytes`.
 */
export class SseParser implements BodyParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private line = '';
  private lineBytes = 0;
  private data: string[] = [];
  private dataBytes = 0;
  private skipLf = false;
  private metadata: Record<string, unknown> | undefined;

  constructor(
    private readonly maxLineBytes: number,
    private readonly budget: TextBudget,
  ) {}

  async feed(bytes: Uint8Array): Promise<AttemptEnd | undefined> {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      return failed('bad_answer', NOT_UTF8);
    }
    return this.scan(text);
  }

  async finish(): Promise<AttemptEnd> {
    let rest: string;
    try {
      rest = this.decoder.decode();
    } catch {
      return failed('bad_answer', NOT_UTF8);
    }
    // A last line or event without its terminator still counts: the body ended cleanly.
    return (await this.scan(`${rest}\n\n`)) ?? this.budget.end(this.metadata);
  }

  private async scan(input: string): Promise<AttemptEnd | undefined> {
    let text = input;
    if (this.skipLf && text !== '') {
      if (text.startsWith('\n')) text = text.slice(1);
      this.skipLf = false;
    }
    let start = 0;
    for (const match of text.matchAll(LINE_END)) {
      const piece = text.slice(start, match.index);
      start = match.index + match[0].length;
      const line = this.line + piece;
      if (this.lineBytes + utf8Bytes(piece) > this.maxLineBytes) return this.lineTooLong();
      this.line = '';
      this.lineBytes = 0;
      if (match[0] === '\r' && start === text.length) this.skipLf = true;
      const end = await this.onLine(line);
      if (end !== undefined) return end;
    }
    const tail = text.slice(start);
    this.line += tail;
    this.lineBytes += utf8Bytes(tail);
    return this.lineBytes > this.maxLineBytes ? this.lineTooLong() : undefined;
  }

  private lineTooLong(): Failed {
    return failed('too_large', `an event-stream line is longer than ${this.maxLineBytes} bytes`);
  }

  private async onLine(line: string): Promise<AttemptEnd | undefined> {
    if (line === '') {
      if (this.data.length === 0) return undefined;
      const data = this.data.join('\n');
      this.data = [];
      this.dataBytes = 0;
      return this.onEvent(data);
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.dataBytes += utf8Bytes(value) + 1;
    if (this.dataBytes > this.maxLineBytes) return this.lineTooLong();
    this.data.push(value);
    return undefined;
  }

  /** One UI message stream part. */
  private async onEvent(data: string): Promise<AttemptEnd | undefined> {
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

  private async onPart(part: Record<string, unknown>): Promise<AttemptEnd | undefined> {
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
