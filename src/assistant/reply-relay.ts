/**
 * @module Live replies across the instances of a cluster (docs/decisions.md "Assistant turns
 * across instances"). The instance streaming a reply publishes its `reply.start`, every
 * `reply.delta` and its `reply.end` as notices on a channel of their own (PostgreSQL NOTIFY, whose
 * payload is bounded: a long delta is split at character boundaries into consecutive deltas with
 * their own offsets, and consecutive deltas waiting to be sent are merged up to the bound). Every
 * other instance hands the deltas to its local sockets and keeps a mirror of each remote reply —
 * user, thread, reply id, text, offset — so its `rehydrate` shows the text so far. A mirror that
 * did not see a reply from its first byte (this instance started mid-stream, a notice was lost)
 * never shows wrong text: that reply is left out until its next attempt.
 */
import type { Logger } from '../lib/log.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { ServerFrame } from '../realtime/protocol.ts';
import type { ReplyView } from '../realtime/reply-protocol.ts';

/** A mirrored reply with no news for this long is dropped (its instance died past its end). */
const STALE_MS = 120_000;

/**
 * One notice: `s` a reply started, `d` more text, `e` it ended, `c` a cancel of the turn asked on
 * another instance than the one working it. Short keys: bytes count.
 */
interface ReplyNotice {
  k: 's' | 'd' | 'e' | 'c';
  /** The publishing instance. */
  o: string;
  u: string;
  t: string;
  h: string;
  r: string;
  /** `d` only: the offset and the text. */
  f?: number;
  x?: string;
}

/** What {@link ReplyRelay} needs. */
export interface ReplyRelayOptions {
  /** This instance (notices it sent itself come back and are ignored). */
  origin: string;
  /** Sends one payload of at most `maxPayloadBytes` UTF-8 bytes to every instance. */
  send(payload: string): Promise<void>;
  maxPayloadBytes: number;
  /** Hands a frame to this instance's sockets of `userId`. */
  deliver(userId: string, frame: ServerFrame): void;
  wallMs(): number;
  logger: Logger;
  /** Another instance asked to cancel `turnId` of `userId` (in `threadId`). */
  onCancel?(userId: string, turnId: string, threadId: string): void;
}

interface Mirrored {
  userId: string;
  threadId: string;
  replyId: string;
  text: string;
  offset: number;
  /** False once a delta did not follow the text held: the text is not shown. */
  whole: boolean;
  seenAtWallMs: number;
}

/** Publishes this instance's live replies and mirrors the other instances'. */
export class ReplyRelay {
  private readonly mirror = new Map<string, Mirrored>();
  private readonly outbox: ReplyNotice[] = [];
  private sending: Promise<void> | undefined;

  constructor(private readonly options: ReplyRelayOptions) {}

  /** A frame this instance's runner produced: `reply.start`, `reply.delta` or `reply.end`. */
  published(userId: string, frame: ServerFrame): void {
    if (frame.type !== 'reply.start' && frame.type !== 'reply.delta' && frame.type !== 'reply.end')
      return;
    const base = { o: this.options.origin, u: userId, t: frame.turn_id, h: frame.thread_id };
    if (frame.type === 'reply.delta') {
      for (const piece of splitDelta(frame.text, frame.offset, this.textBudget(base, frame))) {
        this.outbox.push({ k: 'd', ...base, r: frame.reply_id, f: piece.offset, x: piece.text });
      }
    } else {
      // This instance works the turn now: a mirror of an earlier holder's attempt is stale.
      this.mirror.delete(frame.turn_id);
      this.outbox.push({ k: frame.type === 'reply.start' ? 's' : 'e', ...base, r: frame.reply_id });
    }
    this.sending ??= this.flush();
  }

  /** Asks the instance working `turnId` to cancel it. */
  cancelRemote(userId: string, turnId: string, threadId: string): void {
    this.outbox.push({ k: 'c', o: this.options.origin, u: userId, t: turnId, h: threadId, r: '' });
    this.sending ??= this.flush();
  }

  /** A payload from the channel. */
  received(payload: string): void {
    const notice = parseNotice(payload);
    if (notice === undefined || notice.o === this.options.origin) return;
    const now = this.options.wallMs();
    if (notice.k === 'c') {
      this.options.onCancel?.(notice.u, notice.t, notice.h);
      return;
    }
    if (notice.k === 'e') {
      this.mirror.delete(notice.t);
      return;
    }
    if (notice.k === 's') {
      this.mirror.set(notice.t, mirrored(notice, '', now));
      return;
    }
    const offset = notice.f ?? 0;
    const text = notice.x ?? '';
    const held = this.mirror.get(notice.t);
    if (held !== undefined && held.replyId === notice.r) {
      if (held.whole && offset === held.offset) {
        held.text += text;
        held.offset += utf8Bytes(text);
      } else if (offset > held.offset) held.whole = false;
      held.seenAtWallMs = now;
    } else {
      const entry = mirrored(notice, text, now);
      entry.whole = offset === 0;
      this.mirror.set(notice.t, entry);
    }
    this.options.deliver(notice.u, {
      type: 'reply.delta',
      turn_id: notice.t,
      thread_id: notice.h,
      reply_id: notice.r,
      offset,
      text,
    });
  }

  /** Notices may have been lost (the LISTEN dropped): no mirrored text can be trusted. */
  resubscribed(): void {
    for (const entry of this.mirror.values()) entry.whole = false;
  }

  /** The replies of `userId` in `threadId` streaming on other instances, with their text so far. */
  replies(userId: string, threadId: string): ReplyView[] {
    const views: ReplyView[] = [];
    const oldest = this.options.wallMs() - STALE_MS;
    for (const [turnId, entry] of this.mirror) {
      if (entry.seenAtWallMs < oldest) this.mirror.delete(turnId);
      else if (entry.whole && entry.userId === userId && entry.threadId === threadId) {
        const { replyId, text, offset } = entry;
        views.push({ turn_id: turnId, reply_id: replyId, status: 'streaming', text, offset });
      }
    }
    return views;
  }

  /** Replies mirrored now (whole or not). */
  mirroredCount(): number {
    return this.mirror.size;
  }

  /** Bytes of text one delta notice of `frame` can carry (as JSON, escapes included). */
  private textBudget(base: Omit<ReplyNotice, 'k' | 'r'>, frame: { reply_id: string }): number {
    const empty = { k: 'd', ...base, r: frame.reply_id, f: Number.MAX_SAFE_INTEGER, x: '' };
    return this.options.maxPayloadBytes - utf8Bytes(JSON.stringify(empty));
  }

  /** Sends the waiting notices one at a time, in order, merging consecutive deltas that fit. */
  private async flush(): Promise<void> {
    while (this.outbox.length > 0) {
      let notice = this.outbox.shift()!;
      for (let next = this.outbox[0]; next !== undefined; next = this.outbox[0]) {
        const merged = mergeDeltas(notice, next, this.options.maxPayloadBytes);
        if (merged === undefined) break;
        notice = merged;
        this.outbox.shift();
      }
      try {
        await this.options.send(JSON.stringify(notice));
      } catch (error) {
        // The other instances' tabs miss this piece (their mirror stops showing the reply);
        // the reply itself is unaffected and reaches them as a message when it ends.
        this.options.logger.warn('reply notice not sent', { error, turn_id: notice.t });
      }
    }
    this.sending = undefined;
  }
}

function mirrored(notice: ReplyNotice, text: string, now: number): Mirrored {
  return {
    userId: notice.u,
    threadId: notice.h,
    replyId: notice.r,
    text,
    offset: utf8Bytes(text),
    whole: true,
    seenAtWallMs: now,
  };
}

/** `a` and `b` as one delta notice when `b` continues `a` and the result fits; else undefined. */
function mergeDeltas(a: ReplyNotice, b: ReplyNotice, maxBytes: number): ReplyNotice | undefined {
  if (a.k !== 'd' || b.k !== 'd' || a.t !== b.t || a.r !== b.r) return undefined;
  if (b.f !== (a.f ?? 0) + utf8Bytes(a.x ?? '')) return undefined;
  const merged = { ...a, x: (a.x ?? '') + (b.x ?? '') };
  return utf8Bytes(JSON.stringify(merged)) <= maxBytes ? merged : undefined;
}

/**
 * `text` (at byte `offset` of its reply) as consecutive pieces whose JSON string form takes at
 * most `budget` bytes each, cut between code points; each piece carries its own offset.
 */
function splitDelta(
  text: string,
  offset: number,
  budget: number,
): Array<{ offset: number; text: string }> {
  // The usual delta fits whole: one JSON.stringify of it, not one per character.
  if (utf8Bytes(JSON.stringify(text)) - 2 <= budget) return [{ offset, text }];
  const pieces: Array<{ offset: number; text: string }> = [];
  let start = offset;
  let current = '';
  let cost = 0;
  for (const char of text) {
    const charCost = utf8Bytes(JSON.stringify(char)) - 2;
    if (cost + charCost > budget && current !== '') {
      pieces.push({ offset: start, text: current });
      start += utf8Bytes(current);
      current = '';
      cost = 0;
    }
    current += char;
    cost += charCost;
  }
  if (current !== '') pieces.push({ offset: start, text: current });
  return pieces;
}

function parseNotice(payload: string): ReplyNotice | undefined {
  try {
    const value = JSON.parse(payload) as Partial<ReplyNotice>;
    const strings = [value.o, value.u, value.t, value.h, value.r];
    if (!strings.every((s) => typeof s === 'string')) return undefined;
    if (!['s', 'd', 'e', 'c'].includes(value.k ?? '')) return undefined;
    if (value.k === 'd' && (typeof value.f !== 'number' || typeof value.x !== 'string'))
      return undefined;
    return value as ReplyNotice;
  } catch {
    return undefined;
  }
}
