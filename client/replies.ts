/**
 * @module Assistant replies in the client's state (docs/protocol.md §5.5): the replies in progress
 * of one thread, as pure functions over frozen lists. A `reply.delta` is applied by its UTF-8
 * `offset`: once, in order, an overlap trimmed to the part beyond the text held. A delta past the
 * text held (a gap) never shows: the reply is marked `resync` and keeps its text until a snapshot
 * replaces it. A new `reply.start` for a turn replaces the text of the attempt before it.
 */
import type { ReplyEndPush, ReplyStartPush, ReplyView } from '../src/realtime/reply-protocol.ts';

/** One reply not yet ended: queued (no attempt yet) or streaming. */
export interface ReplyInProgress {
  readonly turnId: string;
  /** The id the committed assistant message will have; absent while queued. */
  readonly replyId?: string;
  readonly status: 'queued' | 'streaming';
  /** The text so far. */
  readonly text: string;
  /** The UTF-8 byte length of `text`: the `offset` the next delta should carry. */
  readonly offset: number;
  /** A delta arrived past `text`: it is held as is until the client resynchronises. */
  readonly resync?: true;
}

/**
 * How a reply ended. A failure (`failed`, `expired`) or an `empty` or text-less `cancelled` reply
 * commits no message: this entry is what the user sees of it.
 */
export interface EndedReply {
  readonly turnId: string;
  readonly replyId: string;
  readonly status: ReplyEndPush['status'];
  /** The committed assistant message (`complete`, or `cancelled` with text). */
  readonly messageId?: string;
  /** The text streamed before the end, when some had (not committed). */
  readonly text?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A `reply.delta` frame (not a push: no `seq`). */
export interface ReplyDelta {
  readonly type: 'reply.delta';
  readonly turn_id: string;
  readonly thread_id: string;
  readonly reply_id: string;
  readonly offset: number;
  readonly text: string;
}

/** Reply ends kept per thread (the oldest are dropped). */
export const MAX_ENDED_PER_THREAD = 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 byte length of `text`, without allocating. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The replies of a snapshot thread (`rehydrate.threads[id].replies`). */
export function seedReplies(views: readonly ReplyView[] | undefined): readonly ReplyInProgress[] {
  return (views ?? []).map((view) => ({
    turnId: view.turn_id,
    ...(view.reply_id === undefined ? {} : { replyId: view.reply_id }),
    status: view.status,
    text: view.text,
    offset: view.offset,
  }));
}

/**
 * Applies a live `reply.start`: the turn's reply becomes this attempt with no text. The same
 * attempt already held changes nothing; another attempt of the turn is replaced.
 */
export function startReply(
  replies: readonly ReplyInProgress[],
  frame: ReplyStartPush,
): readonly ReplyInProgress[] {
  const held = replies.find((reply) => reply.turnId === frame.turn_id);
  if (held?.replyId === frame.reply_id) return replies;
  const fresh: ReplyInProgress = {
    turnId: frame.turn_id,
    replyId: frame.reply_id,
    status: 'streaming',
    text: '',
    offset: 0,
  };
  return held ? replies.map((reply) => (reply === held ? fresh : reply)) : [...replies, fresh];
}

/** What {@link applyDelta} did: `gap` means the client must resynchronise the thread. */
export type DeltaOutcome = 'applied' | 'ignored' | 'gap';

/**
 * Applies a `reply.delta` by its UTF-8 offset: equal to the text held → appended; below → only
 * the bytes beyond the text held are appended (nothing when it holds no more); above → `gap`,
 * the text is left as it is and the reply marked `resync`. A delta of another attempt than the
 * one held is ignored; one for a queued turn starts its attempt.
 */
export function applyDelta(
  replies: readonly ReplyInProgress[],
  frame: ReplyDelta,
): { replies: readonly ReplyInProgress[]; outcome: DeltaOutcome } {
  const held = replies.find((reply) => reply.turnId === frame.turn_id);
  const base: ReplyInProgress =
    held?.replyId === frame.reply_id
      ? held
      : {
          turnId: frame.turn_id,
          replyId: frame.reply_id,
          status: 'streaming',
          text: '',
          offset: 0,
        };
  if (held?.replyId !== undefined && held.replyId !== frame.reply_id) {
    return { replies, outcome: 'ignored' };
  }
  if (base.resync) return { replies, outcome: 'ignored' };
  const next = extend(base, frame);
  if (next === base && base === held) return { replies, outcome: 'ignored' };
  const outcome: DeltaOutcome = next.resync ? 'gap' : 'applied';
  const list = held ? replies.map((reply) => (reply === held ? next : reply)) : [...replies, next];
  return { replies: list, outcome };
}

/** `reply` with the delta's text beyond what it holds; marked `resync` on a gap. */
function extend(reply: ReplyInProgress, frame: ReplyDelta): ReplyInProgress {
  const streaming =
    reply.status === 'streaming' ? reply : { ...reply, status: 'streaming' as const };
  if (frame.offset > reply.offset) return { ...streaming, resync: true };
  if (frame.offset === reply.offset) {
    if (frame.text === '') return streaming;
    return {
      ...streaming,
      text: reply.text + frame.text,
      offset: reply.offset + utf8Length(frame.text),
    };
  }
  const bytes = encoder.encode(frame.text);
  const skip = reply.offset - frame.offset;
  if (bytes.length <= skip) return streaming;
  const rest = bytes.subarray(skip);
  // A cut inside a character means the overlap does not match the text held: resynchronise.
  if (((rest[0] ?? 0) & 0xc0) === 0x80) return { ...streaming, resync: true };
  return {
    ...streaming,
    text: reply.text + decoder.decode(rest),
    offset: reply.offset + rest.length,
  };
}

/** Removes the turn's reply at its `reply.end`; returns how it ended. */
export function endReply(
  replies: readonly ReplyInProgress[],
  frame: ReplyEndPush,
): { replies: readonly ReplyInProgress[]; ended: EndedReply } {
  const kept = replies.filter((reply) => reply.turnId !== frame.turn_id);
  const list = kept.length === replies.length ? replies : kept;
  const ended: EndedReply = {
    turnId: frame.turn_id,
    replyId: frame.reply_id,
    status: frame.status,
    ...(frame.message === undefined ? {} : { messageId: frame.message.id }),
    ...(frame.text === undefined ? {} : { text: frame.text }),
    ...(frame.error === undefined ? {} : { error: frame.error }),
  };
  return { replies: list, ended };
}

/** Adds an ended reply (once per turn), keeping the newest {@link MAX_ENDED_PER_THREAD}. */
export function withEnded(list: readonly EndedReply[], ended: EndedReply): readonly EndedReply[] {
  if (list.some((entry) => entry.turnId === ended.turnId && entry.replyId === ended.replyId)) {
    return list;
  }
  const next = [...list, ended];
  return next.length > MAX_ENDED_PER_THREAD ? next.slice(next.length - MAX_ENDED_PER_THREAD) : next;
}
