/**
 * @module The byte budget of a snapshot (`rehydrate`, the HTTP state, and each `thread.state` page):
 * `rehydration.max_frame_bytes`, at most half of `limits.send_buffer_bytes`. Each thread keeps
 * its newest messages that fit; a thread that lost some says `truncated: true`, and a thread with
 * older messages not sent carries `before`, the cursor for `thread.join` (docs/protocol.md §5.1).
 */
import type { Config } from '../config/schema.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { MessageView, ThreadView } from './protocol.ts';

/** Bytes kept per thread for `"truncated":true,"before":<seq>` when the base is measured. */
const THREAD_TAIL_BYTES = 48;

/** A thread as read: its newest messages (oldest first) and whether older ones exist in storage. */
export interface ReadThread {
  personalization: Record<string, unknown>;
  messages: MessageView[];
  /** Set when storage holds older messages than `messages`: they are those below this seq. */
  olderBefore?: number;
}

/**
 * A thread read with one message more than `limit` (to learn whether older ones exist), as a
 * {@link ReadThread} of at most `limit` messages.
 */
export function readThreadOf(
  personalization: Record<string, unknown>,
  read: MessageView[],
  limit: number,
): ReadThread {
  if (read.length <= limit) return { personalization, messages: read };
  const messages = limit > 0 ? read.slice(read.length - limit) : [];
  const olderBefore = messages[0]?.seq ?? (read.at(-1) as MessageView).seq + 1;
  return { personalization, messages, olderBefore };
}

/** The budget in force: `rehydration.max_frame_bytes`, never above half the send buffer. */
export function frameBudget(config: Pick<Config, 'rehydration' | 'limits'>): number {
  return Math.min(
    config.rehydration.max_frame_bytes,
    Math.floor(config.limits.send_buffer_bytes / 2),
  );
}

/**
 * Fits the threads' messages into `roomBytes` (the budget minus everything else in the frame),
 * newest first and one message per thread in turn, so every thread gets its share of the most
 * recent context. A thread stops at its first message that does not fit, so what it sends is
 * always its newest messages without a gap. With `atLeastOne` (a `thread.join` page) a thread
 * with messages sends its newest one even when it alone is over the budget, so paging always
 * moves on; one message is bounded by the content and metadata limits.
 */
export function fitThreads(
  threads: Readonly<Record<string, ReadThread>>,
  roomBytes: number,
  atLeastOne = false,
): Record<string, ThreadView> {
  const ids = Object.keys(threads);
  const kept = new Map(ids.map((id) => [id, (threads[id] as ReadThread).messages.length]));
  const open = new Set(ids);
  let room = roomBytes;
  while (open.size > 0) {
    for (const id of [...open]) {
      const messages = (threads[id] as ReadThread).messages;
      const next = (kept.get(id) as number) - 1;
      const cost = next < 0 ? 0 : utf8Bytes(JSON.stringify(messages[next])) + 1;
      const forced = atLeastOne && next === messages.length - 1;
      if (next < 0 || (cost > room && !forced)) {
        open.delete(id);
        continue;
      }
      room -= cost;
      kept.set(id, next);
    }
  }
  return Object.fromEntries(
    ids.map((id) => [id, viewOf(threads[id] as ReadThread, kept.get(id) as number)]),
  );
}

function viewOf(thread: ReadThread, from: number): ThreadView {
  const { messages } = thread;
  const view: ThreadView = {
    personalization: thread.personalization,
    messages: messages.slice(from),
  };
  if (from > 0) {
    view.truncated = true;
    // Everything below `before` is unsent: the oldest sent message, or past the newest unsent.
    view.before = messages[from]?.seq ?? (messages[from - 1] as MessageView).seq + 1;
  } else if (thread.olderBefore !== undefined) {
    view.before = thread.olderBefore;
  }
  return view;
}

/** The UTF-8 size of `frame` as sent, with room for each thread's `truncated` and `before`. */
export function baseBytes(frame: unknown, threadCount: number): number {
  return utf8Bytes(JSON.stringify(frame)) + threadCount * THREAD_TAIL_BYTES;
}
