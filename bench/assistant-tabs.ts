/**
 * The tabs of bench/assistant-client.ts. A {@link LifelineTab} is a lifeline WebSocket on its user's
 * thread that keeps its resume state, appends `reply.delta` text at its `offset` (docs/protocol.md
 * "Assistant replies") and records each delta's latency from the backend's stamp; a
 * {@link DirectTab} is the baseline: an HTTP client reading the backend's SSE itself.
 */
import { DELTA_CHARS, nowMs, parseDelta } from './assistant-backend.ts';

type Frame = Record<string, unknown> & { type: string };

/** Where every tab records what it saw. */
export interface Sink {
  /** Backend write → tab receive, ms, one per delta received live. */
  latencies: number[];
  /** Frames or parts that were not what the protocol promises. */
  problems: string[];
  /** `reply.delta` frames received (a frame may carry several of the backend's deltas). */
  frames?: number;
}

const utf8 = new TextEncoder();

/** A lifeline tab. */
export class LifelineTab {
  private ws: WebSocket | undefined;
  private epoch: string | undefined;
  private seq: number | undefined;
  /** The reply text so far, as UTF-8 bytes counted by `offset`. */
  text = '';
  bytes = 0;
  deltas = 0;
  /** The rehydrate frame of the last connect. */
  rehydrate: Frame | undefined;
  /** The committed reply, from `reply.end`. */
  final: string | undefined;
  private onEnd: (() => void) | undefined;
  readonly ended = new Promise<void>((resolve) => {
    this.onEnd = resolve;
  });
  onDelta: ((tab: LifelineTab) => void) | undefined;

  constructor(
    private readonly port: number,
    private readonly token: string,
    /** The user's thread (thread ids are global: each belongs to one user). */
    readonly thread: string,
    private readonly sink: Sink,
  ) {}

  /** Opens the socket (with `since`/`epoch` when it had one); resolves at `rehydrate`, with ms. */
  connect(): Promise<number> {
    const query = new URLSearchParams({ thread: this.thread });
    if (this.epoch !== undefined && this.seq !== undefined) {
      query.set('since', String(this.seq));
      query.set('epoch', this.epoch);
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const options = {
        headers: { authorization: `Bearer ${this.token}` },
        protocols: ['lifeline.v1'],
      };
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws?${query}`, options as never);
      this.ws = ws;
      let opened = false;
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as Frame;
        if (frame.type === 'rehydrate' && !opened) {
          opened = true;
          this.onRehydrate(frame);
          resolve(performance.now() - started);
        } else this.onFrame(frame);
      };
      ws.onclose = (event) => {
        if (!opened) reject(new Error(`closed ${event.code} ${event.reason} before rehydrate`));
        else if (this.final === undefined && event.code !== 1000)
          this.sink.problems.push(`tab closed ${event.code} ${event.reason}`);
      };
    });
  }

  send(frame: Frame): void {
    this.ws?.send(JSON.stringify(frame));
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.addEventListener('close', () => resolve(), { once: true });
      ws.close(1000);
    });
  }

  private onRehydrate(frame: Frame): void {
    this.rehydrate = frame;
    this.epoch = frame.epoch as string;
    this.seq = frame.seq as number;
    const threads = frame.threads as Record<string, { replies?: Array<Record<string, unknown>> }>;
    const open = threads[this.thread]?.replies?.find((r) => r.status === 'streaming');
    if (open && typeof open.text === 'string') {
      this.text = open.text;
      this.bytes = open.offset as number;
    }
  }

  private onFrame(frame: Frame): void {
    if (typeof frame.seq === 'number') this.seq = Math.max(this.seq ?? 0, frame.seq);
    if (frame.type === 'reply.delta') this.onDeltaFrame(frame);
    else if (frame.type === 'reply.end') {
      const message = frame.message as { content?: string } | undefined;
      if (frame.status !== 'complete') this.sink.problems.push(`reply.end ${frame.status}`);
      this.final = message?.content ?? '';
      this.onEnd?.();
    } else if (frame.type === 'error') this.sink.problems.push(`error ${JSON.stringify(frame)}`);
  }

  private onDeltaFrame(frame: Frame): void {
    const received = nowMs();
    const text = frame.text as string;
    const offset = frame.offset as number;
    if (offset < this.bytes) return;
    if (offset > this.bytes) this.sink.problems.push(`gap: offset ${offset} > ${this.bytes}`);
    // Deltas read together by the daemon arrive as one frame, their texts joined (each delta's
    // text is DELTA_CHARS long): every one of them counts, with its own stamp.
    const stamps = deltaIndices(text, DELTA_CHARS);
    for (const stamp of stamps) this.sink.latencies.push(received - stamp.sentMs);
    this.sink.frames = (this.sink.frames ?? 0) + 1;
    this.text += text;
    this.bytes += utf8.encode(text).length;
    this.deltas += stamps.length;
    this.onDelta?.(this);
  }
}

/** A baseline tab: GET /direct on the backend, reading the UI message stream. */
export async function directTab(backendPort: number, sink: Sink): Promise<string> {
  const answer = await fetch(`http://127.0.0.1:${backendPort}/direct`);
  if (!answer.body) throw new Error('no body');
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  for await (const chunk of answer.body) {
    const received = nowMs();
    buffer += decoder.decode(chunk, { stream: true });
    const events = buffer.split('\n\n');
    buffer = events.pop() ?? '';
    for (const event of events) {
      const data = event.slice('data: '.length);
      if (data === '[DONE]') continue;
      const part = JSON.parse(data) as { type: string; delta?: string };
      if (part.type !== 'text-delta' || part.delta === undefined) continue;
      const stamp = parseDelta(part.delta);
      if (stamp) sink.latencies.push(received - stamp.sentMs);
      text += part.delta;
    }
  }
  return text;
}

/** The indices of the deltas in a reply text (each is {@link DELTA_CHARS} long). */
export function deltaIndices(
  text: string,
  width: number,
): Array<{ index: number; sentMs: number }> {
  const out: Array<{ index: number; sentMs: number }> = [];
  for (let at = 0; at < text.length; at += width) {
    const stamp = parseDelta(text.slice(at, at + width));
    if (stamp) out.push(stamp);
  }
  return out;
}
