/**
 * @module One turn's reply as a sequence of AI SDK UI message chunks, read from the client's state
 * (not from frames), so it continues across reconnects: a snapshot's text so far, the deltas, a
 * replacement by a new attempt (`reset-step` drops the old text), and the end. Each announced state
 * change adds the text beyond what was emitted, so a batch of deltas becomes one `text-delta`.
 */
import type { LifelineClient } from './index.ts';
import type { EndedReply } from './replies.ts';

/** The chunks this module emits (a subset of the AI SDK's `UIMessageChunk`). */
export type ReplyChunk =
  | { type: 'start'; messageId: string }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | { type: 'reset-step' }
  | { type: 'finish'; finishReason: 'stop' | 'other' }
  | { type: 'abort'; reason: string }
  | { type: 'error'; errorText: string };

/** A watch over one turn's reply; `start` emits until the reply ends, `close` stops early. */
export interface ReplyWatch {
  start(emit: (chunk: ReplyChunk) => void, end: () => void): void;
  close(): void;
}

/** Watches the reply of `turnId` in thread `threadId`. */
export function watchReply(client: LifelineClient, threadId: string, turnId: string): ReplyWatch {
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  const close = () => {
    closed = true;
    unsubscribe?.();
    unsubscribe = undefined;
  };
  return {
    close,
    start(emit, end) {
      const emitter = new ReplyEmitter(emit);
      const check = () => {
        if (closed) return;
        if (emitter.update(client, threadId, turnId)) {
          close();
          end();
        }
      };
      unsubscribe = client.subscribe(check);
      check();
    },
  };
}

/** What has been emitted so far, and the step from one state to the next. */
class ReplyEmitter {
  private messageId: string | undefined;
  private textId: string | undefined;
  private emitted = '';

  constructor(private readonly emit: (chunk: ReplyChunk) => void) {}

  /** Emits what changed; true once the reply ended (everything emitted). */
  update(client: LifelineClient, threadId: string, turnId: string): boolean {
    if (client.getStatus().state === 'closed') {
      this.emit({ type: 'error', errorText: 'the lifeline client was closed' });
      return true;
    }
    const thread = client.getState().threads[threadId];
    const reply = thread?.replies?.find((entry) => entry.turnId === turnId);
    if (reply?.replyId !== undefined) {
      this.show(reply.replyId, reply.text);
      return false;
    }
    const ended = thread?.ended?.findLast((entry) => entry.turnId === turnId);
    if (!ended) return false; // queued, or not started yet
    const message = thread?.messages.find((entry) => entry.id === ended.messageId);
    this.show(ended.replyId, message?.content ?? ended.text ?? this.emitted);
    this.finish(ended);
    return true;
  }

  /** Brings the emitted text to `text` of attempt `replyId`. */
  private show(replyId: string, text: string): void {
    if (this.messageId === undefined) {
      this.messageId = replyId;
      this.emit({ type: 'start', messageId: replyId });
    }
    if (this.textId !== replyId || !text.startsWith(this.emitted)) {
      // A new attempt (or text that does not continue what was shown): drop what was shown.
      if (this.textId !== undefined) {
        this.emit({ type: 'text-end', id: this.textId });
        this.emit({ type: 'reset-step' });
      }
      this.textId = replyId;
      this.emitted = '';
      this.emit({ type: 'text-start', id: replyId });
    }
    if (text.length > this.emitted.length) {
      this.emit({ type: 'text-delta', id: replyId, delta: text.slice(this.emitted.length) });
      this.emitted = text;
    }
  }

  private finish(ended: EndedReply): void {
    if (this.textId !== undefined) this.emit({ type: 'text-end', id: this.textId });
    if (ended.status === 'complete' || ended.status === 'empty') {
      this.emit({ type: 'finish', finishReason: ended.status === 'complete' ? 'stop' : 'other' });
    } else if (ended.status === 'cancelled') {
      this.emit({ type: 'abort', reason: 'cancelled' });
    } else {
      const why = ended.error ? `${ended.error.code}: ${ended.error.message}` : ended.status;
      this.emit({ type: 'error', errorText: `the assistant reply ${ended.status} (${why})` });
    }
  }
}
